package api

import (
	"testing"
	"time"
)

// TestRenderCacheHeadersOracle compares the Cache-Control header and the
// status of cacheTimeout/noCache requests with graphite-web's
// (DEFAULT_CACHE_DURATION = 60).
func TestRenderCacheHeadersOracle(t *testing.T) {
	needOracle(t)
	reqs := []string{
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=json",
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=json&cacheTimeout=30",
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=json&noCache",
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=json&noCache&cacheTimeout=30",
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=json&cacheTimeout=0",
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=rickshaw&cacheTimeout=%2B7",
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=json&cacheTimeout=x",
		"/render?target=constantLine(1)&from=1700000000&until=1700000100&now=1700000500&format=json&cacheTimeout=1.5",
	}
	var want []struct {
		Status       int    `json:"status"`
		Body         string `json:"body"`
		CacheControl string `json:"cache_control"`
	}
	runPython(t, "testdata/oracle/events_oracle.py", map[string]any{"requests": reqs, "cache_duration": 60}, &want, "ORACLE_DIR="+t.TempDir())
	a := New(emptySource{}, Options{Now: func() time.Time { return time.Unix(1_700_000_600, 0) }})
	for i, r := range reqs {
		got := serve(a, "GET", r, "")
		w := want[i]
		if got.status != w.Status || got.cacheControl != w.CacheControl || (w.Status == 200 && got.body != w.Body) {
			t.Errorf("%s:\n ours %d cc=%q %s\n want %d cc=%q %s", r, got.status, got.cacheControl, trunc(got.body), w.Status, w.CacheControl, trunc(w.Body))
		}
	}
}
