package query

import (
	"context"
	"errors"
	"testing"
)

// FuzzEval evaluates arbitrary targets against a small fixture: no
// panics, and every error is an input error, a limit or a context error.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"sumSeries(a.b.*)", `aliasSub(a.b.c, "(^.*$)", "\1 A")`, "aliasByNode(t.tagged;dc=eu;host=h*, 'host', -1)",
		"aggregate(a.*.*, 'median', 0.5)", "scale(a.m.x, -1e3)|alias('x')", "maxSeries(a.b.c, a.m.x, inf.x)",
	} {
		f.Add(s, 10)
	}
	src := fixture()
	ev := NewEvaluator(src, Limits{MaxCallsPerReq: 200})
	f.Fuzz(func(t *testing.T, target string, mdp int) {
		list, err := ev.Eval(context.Background(), Request{From: 1000, Until: 1100, Now: 2000}, []string{target})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) && !errors.Is(err, ErrLimit) {
				t.Fatalf("%q: error is neither an input error nor a limit (would be a 500): %v", target, err)
			}
			return
		}
		ApplyMaxDataPoints(list, mdp%1000)
		_ = AppendJSON(nil, list, mdp%2 == 0)
		_ = AppendRaw(nil, list)
		_ = AppendCSV(nil, list, nil)
	})
}
