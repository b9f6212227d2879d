package query

import (
	"context"
	"errors"
	"testing"

	"github.com/plumbago/plumbago/ingest/tagged"
)

func taggedFixture(t *testing.T) *TaggedSource {
	t.Helper()
	src := fixture()
	src.add("cpu;dc=us;host=h3", 10, func(ts int64) float64 { return 5 })
	idx := tagged.NewTagIndex()
	for _, n := range []string{"t.tagged;dc=eu;host=h1", "t.tagged;dc=eu;host=h2", "cpu;dc=us;host=h3", "gone;dc=eu"} {
		if _, err := idx.Add([]byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	return WithTags(src, idx)
}

func TestSeriesByTag(t *testing.T) {
	src := taggedFixture(t)
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
		if got := evalJSON(t, src, req, 0, c.target); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.target, got, c.want)
		}
	}
	// Without a tag database seriesByTag finds nothing (DummyTagDB).
	if got := evalJSON(t, src.Source, req, 0, "seriesByTag('name=t.tagged')"); got != "[]" {
		t.Errorf("no tagdb: %s", got)
	}
}

func TestSeriesByTagErrors(t *testing.T) {
	ev := NewEvaluator(taggedFixture(t), Limits{MaxSeries: 1})
	req := Request{From: 1000, Until: 1020, Now: 2000}
	for target, want := range map[string]string{
		"seriesByTag('bad')":           "Invalid tagspec bad: tag database error",
		"seriesByTag('dc=')":           "At least one tagspec must not match the empty string: tag database error",
		"seriesByTag('a=b', 'x=~(')":   "invalid tagspec \"x=~(\": error parsing regexp: missing closing ): `^(?:()`: tag database error",
		"seriesByTag('name=t.tagged')": `"seriesByTag('name=t.tagged')": more than 1 series in one request: query limit exceeded`,
	} {
		_, err := ev.Eval(context.Background(), req, []string{target})
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", target, err, want)
		}
	}
	_, err := ev.Eval(context.Background(), req, []string{"seriesByTag('bad')"})
	if !errors.Is(err, ErrTagDB) {
		t.Errorf("not ErrTagDB: %v", err)
	}
}
