package api

import (
	"testing"

	"github.com/valyala/fasthttp"
)

func benchRender(b *testing.B, cacheBytes int64, uri string) {
	src := newCountingSource("a.b", "a.c", "a.d")
	clock := &testClock{}
	clock.t.Store(1_000_025)
	a := newCachedAPI(src, clock, cacheBytes)
	var req fasthttp.Request
	req.SetRequestURI("http://graphite" + uri)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	a.Handle(&ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx.Response.Reset()
		a.Handle(&ctx)
	}
	b.StopTimer()
	if ctx.Response.StatusCode() != 200 {
		b.Fatal(ctx.Response.StatusCode())
	}
}

// Grafana's typical request: relative window, maxDataPoints, 3 series of a
// day at 1 min (1440 points each).
const benchURI = "/render?target=a.*&from=-24h&until=now&format=json&maxDataPoints=800"

func BenchmarkRenderCacheHit(b *testing.B) { benchRender(b, 0, benchURI) }
func BenchmarkRenderCacheOff(b *testing.B) { benchRender(b, -1, benchURI) }
func BenchmarkRenderNoCacheP(b *testing.B) { benchRender(b, 0, benchURI+"&noCache=1") }
