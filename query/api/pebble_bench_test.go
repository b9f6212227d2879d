package api

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/valyala/fasthttp"
)

// pebbleBenchNow is the benchmarks' clock: the last point is at now-10.
const pebbleBenchNow = 1_800_000_000

// pebbleBenchAPI opens a real pebble store under b.TempDir() holding
// issue 18's query-vs shape for app.host0.cpu0.m0 and app.host3.cpu1.m0..99
// (2,160 one-decimal points at 10 s up to now, schema 10s:1d), and
// app.host3.cpu2.m0..99 whose newest 5 minutes were not sent (the harness's
// settled run comes minutes after its load), flushed to sstables (the
// harness's "settled" case), and the API over it.
func pebbleBenchAPI(b testing.TB) *API {
	b.Helper()
	sch, err := schema.ParseSchemas(strings.NewReader("[app]\npattern = .*\nretentions = 10s:1d\n"))
	if err != nil {
		b.Fatal(err)
	}
	agg, err := schema.ParseAggregations(strings.NewReader("[d]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"))
	if err != nil {
		b.Fatal(err)
	}
	opts := pebble.DefaultOptions()
	opts.Dir = b.TempDir()
	opts.Rules = &schema.Rules{Schemas: sch, Aggregations: agg}
	opts.Now = func() int64 { return pebbleBenchNow }
	st, err := pebble.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	names := []string{"app.host0.cpu0.m0"}
	for m := range 100 {
		names = append(names, fmt.Sprintf("app.host3.cpu1.m%d", m))
	}
	for m := range 100 {
		names = append(names, fmt.Sprintf("app.host3.cpu2.m%d", m))
	}
	var batch storage.Batch
	for i, name := range names {
		pts := make([]storage.Point, 2160)
		if strings.Contains(name, ".cpu2.") {
			pts = pts[:2160-30]
		}
		for j := range pts {
			x := uint64(i)*0x9E3779B97F4A7C15 + uint64(j)*0xBF58476D1CE4E5B9
			x ^= x >> 31
			pts[j] = storage.Point{Timestamp: pebbleBenchNow - int64(2160-j)*10, Value: float64(i%100) + float64(x%1000)/10}
		}
		batch.Series = append(batch.Series, storage.SeriesPoints{Name: name, Points: pts})
	}
	if err := st.Write(&batch); err != nil {
		b.Fatal(err)
	}
	if err := st.Flush(true); err != nil {
		b.Fatal(err)
	}
	return New(st, Options{
		Now:        func() time.Time { return time.Unix(pebbleBenchNow, 0) },
		CacheBytes: -1,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// benchPebbleRender times the whole /render handler (parse, find, fetch,
// evaluate, json) in process over pebbleBenchAPI's store, the response
// cache off, as the query-vs harness's servers run.
func benchPebbleRender(b *testing.B, uri string) {
	a := pebbleBenchAPI(b)
	var req fasthttp.Request
	req.SetRequestURI("http://graphite" + uri)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	a.Handle(&ctx)
	if ctx.Response.StatusCode() != 200 || len(ctx.Response.Body()) < 1000 {
		b.Fatalf("%d %.200s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	// Each answer is written out (as the server sends it), so a body
	// sent from a stream is timed too.
	w := bufio.NewWriter(io.Discard)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx.Response.Reset()
		a.Handle(&ctx)
		if err := ctx.Response.Write(w); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if ctx.Response.StatusCode() != 200 {
		b.Fatal(ctx.Response.StatusCode())
	}
}

// BenchmarkRenderPebbleOneSeries is issue 18's "one series, 6 h".
func BenchmarkRenderPebbleOneSeries(b *testing.B) {
	benchPebbleRender(b, "/render?target=app.host0.cpu0.m0&from=-6h&until=now&format=json")
}

// BenchmarkRenderPebbleMovingAverage is issue 18's
// movingAverage(app.host3.cpu1.*,'5min'): 100 series out, and the 5
// minutes before from fetched as graphite-web's bootstrap.
func BenchmarkRenderPebbleMovingAverage(b *testing.B) {
	benchPebbleRender(b, "/render?target=movingAverage(app.host3.cpu1.*,'5min')&from=-6h&until=now&format=json")
}

// BenchmarkRenderPebbleMovingAverageRecentGap is the same request over
// series whose newest 30 points are None.
func BenchmarkRenderPebbleMovingAverageRecentGap(b *testing.B) {
	benchPebbleRender(b, "/render?target=movingAverage(app.host3.cpu2.*,'5min')&from=-6h&until=now&format=json")
}

// BenchmarkRenderPebbleSummarize is issue 18's
// summarize(app.host4.cpu2.*,'1h','sum') shape: 100 series of 2,160
// points summed into 1-hour buckets.
func BenchmarkRenderPebbleSummarize(b *testing.B) {
	benchPebbleRender(b, "/render?target=summarize(app.host3.cpu1.*,'1h','sum')&from=-6h&until=now&format=json")
}
