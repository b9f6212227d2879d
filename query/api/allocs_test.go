package api

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// TestRenderOneSeriesAllocs bounds the allocations of issue 18's
// one-series render (6 h, 2,160 points, json) through the real handler
// over a pebble store: 33 after this round's cuts (58 before: per-request
// maps, a fetch goroutine and channel, a key per block, parameter names).
// The bound has some slack for library changes; it is not a timing.
func TestRenderOneSeriesAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a pebble store")
	}
	a := pebbleBenchAPI(t)
	var req fasthttp.Request
	req.SetRequestURI("http://graphite/render?target=app.host0.cpu0.m0&from=-6h&until=now&format=json")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	a.Handle(&ctx) // grows the pooled buffers once
	want := string(ctx.Response.Body())
	allocs := testing.AllocsPerRun(50, func() {
		ctx.Response.Reset()
		a.Handle(&ctx)
	})
	if got := string(ctx.Response.Body()); got != want {
		t.Fatalf("answer changed between renders:\n%.200s\n%.200s", got, want)
	}
	if allocs > 40 {
		t.Errorf("%.0f allocations per one-series render; want at most 40", allocs)
	}
	t.Logf("%.0f allocations per one-series render", allocs)
}
