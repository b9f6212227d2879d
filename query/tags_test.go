package query

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/storage/tagged"
)

func TestSeriesByTag(t *testing.T) {
	src := fixture()
	src.add("cpu;dc=us;host=h3", 10, func(ts int64) float64 { return 5 })
	idx := tagged.NewTagIndex()
	for _, n := range []string{"t.tagged;dc=eu;host=h1", "t.tagged;dc=eu;host=h2", "cpu;dc=us;host=h3"} {
		if _, err := idx.Add([]byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	ev := NewEvaluator(src, Limits{})
	ev.SetTagFinder(idx)
	req := Request{From: 1000, Until: 1020, Now: 2000}
	run := func(target string) string {
		t.Helper()
		list, err := ev.Eval(context.Background(), req, []string{target})
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		return string(AppendJSON(nil, list, false))
	}
	if got, want := run("seriesByTag('dc=eu')"), `[{"target": "t.tagged;dc=eu;host=h1", "tags": {"dc": "eu", "host": "h1", "name": "t.tagged"}, "datapoints": [[1.0, 1010], [1.0, 1020]]}, {"target": "t.tagged;dc=eu;host=h2", "tags": {"dc": "eu", "host": "h2", "name": "t.tagged"}, "datapoints": [[2.0, 1010], [2.0, 1020]]}]`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// The path expression is the call's text, as graphite-web passes it.
	if got, want := run(`sumSeries(seriesByTag("name=~t.*", 'host!=h2'))`), `[{"target": "sumSeries(seriesByTag(\"name=~t.*\", 'host!=h2'))", "tags": {"dc": "eu", "host": "h1", "name": "t.tagged", "aggregatedBy": "sum"}, "datapoints": [[1.0, 1010], [1.0, 1020]]}]`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := run("seriesByTag('dc=us')|aliasByTags('host','dc')"), `[{"target": "h3.us", "tags": {"dc": "us", "host": "h3", "name": "cpu"}, "datapoints": [[5.0, 1010], [5.0, 1020]]}]`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := run("seriesByTag('dc=nowhere')"); got != "[]" {
		t.Errorf("no match: %s", got)
	}
	_, err := ev.Eval(context.Background(), req, []string{"seriesByTag('dc!=eu')"})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "must not match the empty string") {
		t.Errorf("all-empty exprs: %v", err)
	}
	if _, err := ev.Eval(context.Background(), req, []string{"seriesByTag(1)"}); !errors.As(err, &ie) {
		t.Errorf("non-string expr: %v", err)
	}
	// Without a tag finder seriesByTag matches nothing.
	if list, err := NewEvaluator(src, Limits{}).Eval(context.Background(), req, []string{"seriesByTag('dc=eu')"}); err != nil || len(list) != 0 {
		t.Errorf("no finder: %v %v", list, err)
	}
}
