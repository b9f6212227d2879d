package api

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// TestRenderPostOracle sends Grafana-style POST forms (targets wrapped in
// aliasSub, epoch from/until, maxDataPoints) to both servers.
func TestRenderPostOracle(t *testing.T) {
	src, dir, now := sharedFixture(t)
	srv := startServer(t, src, time.Unix(now, 0))
	type post struct {
		path string
		form url.Values
	}
	cases := []post{
		{"/render", url.Values{"target": {`aliasSub(a.b.c1, "(^.*$)", "\1 A")`, `aliasSub(sumSeries(a.b.*), "(^.*$)", "\1 B")`},
			"from": {fmt.Sprint(now - 3600)}, "until": {fmt.Sprint(now)}, "format": {"json"}, "maxDataPoints": {"120"}, "now": {fmt.Sprint(now)}}},
		{"/render", url.Values{"target": {"a.b.c2"}, "from": {"-15min"}, "until": {"now"}, "format": {"json"}, "now": {fmt.Sprint(now)}, "cacheTimeout": {"60"}}},
		{"/render/?format=json&now=" + fmt.Sprint(now), url.Values{"target": {"a.b.c3"}, "from": {"-10min"}}},
		{"/render?target=a.b.c1&now=" + fmt.Sprint(now), url.Values{"target": {"a.b.c2"}, "from": {"-5min"}, "format": {"json"}}},
		{"/metrics/find?from=-1h&until=now", url.Values{"query": {"a.b.*"}}},
	}
	var reqs []any
	for _, c := range cases {
		reqs = append(reqs, map[string]any{"path": c.path, "form": c.form})
	}
	want := runOracleAny(t, dir, reqs)
	for i, c := range cases {
		status, _, body := srv.do(t, "POST", c.path, "application/x-www-form-urlencoded", c.form.Encode())
		if status != want[i].Status || string(body) != want[i].Body {
			t.Errorf("POST %s %v:\n ours %d %s\n want %d %s", c.path, c.form, status, trunc(string(body)), want[i].Status, trunc(want[i].Body))
		}
	}
}
