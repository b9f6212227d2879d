package api

import (
	"testing"
	"time"
)

// chartCases are /render requests in the dygraph and rickshaw formats,
// compared byte for byte with graphite-web.
var chartCases = []renderCase{
	{targets: []string{"a.b.c1"}, extra: "&from=-2min&format=dygraph"},
	{targets: []string{"a.b.*"}, extra: "&from=-10min&format=dygraph"},
	{targets: []string{"a.b.sparse", "countSeries(a.b.*)", "scale(a.b.c1,1e308)", "scale(a.b.c1,-1e308)"}, extra: "&from=-5min&format=dygraph"},
	{targets: []string{"a.b.c2"}, extra: "&from=-3min&format=dygraph&jsonp=cb"},
	{targets: []string{"a.b.c2"}, extra: "&from=-3min&format=dygraph&jsonp="},
	{targets: []string{"a.b.sparse"}, extra: "&from=-5min&format=dygraph&noNullPoints&maxDataPoints=2&pretty=1"},
	{targets: []string{"nonexistent.*"}, extra: "&format=dygraph"},
	{targets: []string{"nonexistent.*"}, extra: "&format=dygraph&jsonp=x"},
	{targets: []string{"a.empty", "alias(a.b.c1,'é \"q\"')"}, extra: "&from=-1min&format=dygraph"},
	{targets: []string{"a.b.c1"}, extra: "&from=-1h&until=-30min&format=dygraph"},
	// graphite-web raises (500) for series of unequal length; we answer 400.
	{targets: []string{"a.b.c1", "a.x.minute"}, extra: "&from=-10min&format=dygraph", status: 400},
	{targets: []string{"a.b.c1"}, extra: "&from=-2min&format=rickshaw"},
	{targets: []string{"a.b.*", "a.x.minute"}, extra: "&from=-10min&format=rickshaw"},
	{targets: []string{"a.b.sparse", "countSeries(a.b.*)", "scale(a.b.c1,1e308)", "scale(a.b.c1,-1e308)"}, extra: "&from=-3min&format=rickshaw"},
	{targets: []string{"a.b.c1", "a.empty"}, extra: "&from=-1min&format=rickshaw&pretty=1"},
	{targets: []string{"nonexistent.*"}, extra: "&format=rickshaw&pretty=1"},
	{targets: []string{"nonexistent.*"}, extra: "&format=rickshaw"},
	{targets: []string{"a.b.c3"}, extra: "&from=-2min&format=rickshaw&jsonp=cb&pretty=1"},
	{targets: []string{"a.b.sparse"}, extra: "&from=-10min&format=rickshaw&noNullPoints&maxDataPoints=3"},
	{targets: []string{"alias(a.b.c1,'é \"q\"')"}, extra: "&from=-30s&format=rickshaw"},
}

func TestChartFormatsOracle(t *testing.T) {
	src, dir, now := sharedFixture(t)
	srv := startServer(t, src, time.Unix(now, 0))
	var paths []string
	for _, c := range chartCases {
		paths = append(paths, renderURL(c, now))
	}
	want := runOracle(t, dir, paths)
	for i, p := range paths {
		status, ct, body := srv.get(t, p)
		w := want[i]
		if chartCases[i].status != 0 {
			if status != chartCases[i].status {
				t.Errorf("%s: status %d, want %d (%s)", p, status, chartCases[i].status, body)
			}
			if w.Status != 500 {
				t.Errorf("%s: graphite-web answered %d, expected its 500", p, w.Status)
			}
			continue
		}
		if w.Status != status {
			t.Errorf("%s: status %d, graphite-web %d (%s; ours %s)", p, status, w.Status, trunc(w.Body), trunc(string(body)))
			continue
		}
		if base(ct) != base(w.ContentType) {
			t.Errorf("%s: content type %q, graphite-web %q", p, ct, w.ContentType)
		}
		if string(body) != w.Body {
			t.Errorf("%s:\n ours %s\n want %s", p, trunc(diffCtx(string(body), w.Body)), trunc(diffCtx(w.Body, string(body))))
		}
	}
}
