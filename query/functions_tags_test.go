package query

import (
	"context"
	"errors"
	"testing"

	"github.com/plumbago/plumbago/storage/tagged"
)

func taggedFixture(t *testing.T) (*memSource, *tagged.TagIndex) {
	t.Helper()
	src := fixture()
	src.add("cpu;dc=us;host=h3", 10, func(ts int64) float64 { return 5 })
	idx := tagged.NewTagIndex()
	for _, n := range []string{"t.tagged;dc=eu;host=h1", "t.tagged;dc=eu;host=h2", "cpu;dc=us;host=h3", "gone;dc=eu"} {
		if _, err := idx.Add([]byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	return src, idx
}

func taggedEval(t *testing.T, lim Limits) *Evaluator {
	src, idx := taggedFixture(t)
	ev := NewEvaluator(src, lim)
	ev.SetTagFinder(idx)
	return ev
}

// TestSeriesByTagExact checks seriesByTag's series (names, tags, the
// pathExpression combiners name their results by) with exact output.
func TestSeriesByTagExact(t *testing.T) {
	ev := taggedEval(t, Limits{})
	req := Request{From: 1000, Until: 1020, Now: 2000}
	h1 := `{"target": "t.tagged;dc=eu;host=h1", "tags": {"dc": "eu", "host": "h1", "name": "t.tagged"}, "datapoints": [[1.0, 1010], [1.0, 1020]]}`
	h2 := `{"target": "t.tagged;dc=eu;host=h2", "tags": {"dc": "eu", "host": "h2", "name": "t.tagged"}, "datapoints": [[2.0, 1010], [2.0, 1020]]}`
	cases := []struct{ target, want string }{
		{"seriesByTag('name=t.tagged')", "[" + h1 + ", " + h2 + "]"},
		{`seriesByTag("name=t.tagged", "host!=h1")`, "[" + h2 + "]"},
		{"seriesByTag('host=~h[23]')", `[{"target": "cpu;dc=us;host=h3", "tags": {"dc": "us", "host": "h3", "name": "cpu"}, "datapoints": [[5.0, 1010], [5.0, 1020]]}, ` + h2 + "]"},
		// "gone" is indexed but has no data: skipped, as a missing file is.
		{"seriesByTag('dc=eu','name!=t.tagged')", "[]"},
		{"seriesByTag('name=nope')", "[]"},
		// the call's text is the pathExpression combiners name results by
		{"sumSeries(seriesByTag('dc=eu'))", `[{"target": "sumSeries(seriesByTag('dc=eu'))", "tags": {"dc": "eu", "name": "t.tagged", "aggregatedBy": "sum"}, "datapoints": [[3.0, 1010], [3.0, 1020]]}]`},
		{"seriesByTag('dc=eu')|alias('x')", `[{"target": "x", "tags": {"dc": "eu", "host": "h1", "name": "t.tagged"}, "datapoints": [[1.0, 1010], [1.0, 1020]]}, {"target": "x", "tags": {"dc": "eu", "host": "h2", "name": "t.tagged"}, "datapoints": [[2.0, 1010], [2.0, 1020]]}]`},
	}
	for _, c := range cases {
		list, err := ev.Eval(context.Background(), req, []string{c.target})
		if err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		if got := string(AppendJSON(nil, list, false)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.target, got, c.want)
		}
	}
}

func TestSeriesByTagErrors(t *testing.T) {
	ev := taggedEval(t, Limits{MaxSeries: 1})
	req := Request{From: 1000, Until: 1020, Now: 2000}
	for target, want := range map[string]string{
		"seriesByTag('bad')":           "seriesByTag: invalid tagspec \"bad\"",
		"seriesByTag('dc=')":           "seriesByTag: at least one tagspec must not match the empty string",
		"seriesByTag('a=b', 'x=~(')":   "seriesByTag: invalid tagspec \"x=~(\": error parsing regexp: missing closing ): `^(?:()`",
		"seriesByTag('name=t.tagged')": `"seriesByTag('name=t.tagged')": more than 1 series in one request (render-max-series): query limit exceeded`,
	} {
		_, err := ev.Eval(context.Background(), req, []string{target})
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", target, err, want)
		}
	}
	_, err := ev.Eval(context.Background(), req, []string{"seriesByTag('bad')"})
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Errorf("not an InputError: %v", err)
	}
}
