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
		"summarize(a.b.c, '20s', 'max', true)", "hitcount(a.b.*, '30s')", "movingAverage(a.b.d, '20s')",
		"holtWintersConfidenceBands(a.b.c, 2, '40s', '20s')", "template(a.$1.c, 'b')", "applyByNode(a.*.*, 1, 'sumSeries(%.*)')",
		"reduceSeries(mapSeries(a.b.*, 1), 'divideSeries', 2, 'c', 'd')", "aliasQuery(a.b.c, 'c', 'd', '%5.2f')",
		"legendValue(a.b.*, 'avg', 'si')", "cactiStyle(a.*.*, 'binary', 'B')", "timeStack(a.b.c, '10s', 0, 3)",
	} {
		f.Add(s, 10)
	}
	src := fixture()
	ev := NewEvaluator(src, Limits{MaxCallsPerReq: 200})
	// As query/api wires it: the fetch estimate charges the points of each
	// series' archive before it is fetched.
	ev.SetArchives(func(name string) []Archive {
		if step, ok := src.step[name]; ok {
			return []Archive{{Step: step, Retention: memRetention}}
		}
		return nil
	})
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
