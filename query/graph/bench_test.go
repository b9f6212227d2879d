package graph_test

import (
	"fmt"
	"math"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/plumbago/plumbago/query/api"
	"github.com/plumbago/plumbago/storage"
	"github.com/valyala/fasthttp"
)

// The speed cases: 10 series × 1,000 points on an 800×600 PNG, and 100
// series stacked (areaMode=stacked) on the same size.
var benchURIs = []struct{ name, uri string }{
	{"10x1000-png", fmt.Sprintf("/render?target=bench.s00*&from=-1000min&now=%d&width=800&height=600&noCache=1", fixtureNow)},
	{"100-stacked-png", fmt.Sprintf("/render?target=bench.*&from=-1000min&now=%d&width=800&height=600&areaMode=stacked&noCache=1", fixtureNow)},
}

func benchMetrics() map[string][]storage.Point {
	m := map[string][]storage.Point{}
	for k := 0; k < 100; k++ {
		ps := make([]storage.Point, 1000)
		for i := range ps {
			ps[i] = storage.Point{Timestamp: fixtureNow - int64(i)*60, Value: 10 + 5*math.Sin(float64(i*(k+1))/97) + float64(k%7)}
		}
		m[fmt.Sprintf("bench.s%03d", k)] = ps
	}
	return m
}

var (
	benchOnce sync.Once
	benchDir  string
	benchAPI  *api.API
	benchErr  error
)

func benchFixture(tb testing.TB) (string, *api.API) {
	tb.Helper()
	benchOnce.Do(func() { benchDir, benchAPI, benchErr = makeFixture(benchMetrics()) })
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return benchDir, benchAPI
}

func benchRender(b *testing.B, uri string) {
	_, a := benchFixture(b)
	if r := plumbago(a, uri); r.Status != 200 {
		b.Fatalf("%d %s", r.Status, r.Body)
	}
	var ctx fasthttp.RequestCtx
	req := benchRequest(uri)
	b.ReportAllocs()
	b.ResetTimer()
	var cpu0, cpu1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)
	for i := 0; i < b.N; i++ {
		serveAgain(a, &ctx, req)
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpu1)
	reportCPU(b, &cpu0, &cpu1)
}

func benchRequest(uri string) *fasthttp.Request {
	req := new(fasthttp.Request)
	req.SetRequestURI("http://graphite" + uri)
	return req
}

// serveAgain answers req on ctx as fasthttp's server answers a
// connection's next request: ctx is reused, its previous response reset
// first (the body's buffer goes back to fasthttp's pool for the next
// response), and returns the status.
func serveAgain(a *api.API, ctx *fasthttp.RequestCtx, req *fasthttp.Request) int {
	ctx.Response.Reset()
	ctx.Init(req, nil, nil)
	if !a.Handle(ctx) {
		return 404
	}
	return ctx.Response.StatusCode()
}

// reportCPU adds the process CPU time per operation (user + system,
// all threads: GC included) between two getrusage readings: steadier
// than ns/op on a loaded machine.
func reportCPU(b *testing.B, cpu0, cpu1 *syscall.Rusage) {
	cpu := tv(cpu1.Utime) + tv(cpu1.Stime) - tv(cpu0.Utime) - tv(cpu0.Stime)
	b.ReportMetric(cpu*1e9/float64(b.N), "cpu-ns/op")
}

// BenchmarkGraph10x1000PNG: /render of 10 series × 1,000 points as an
// 800×600 PNG (fetch from whisper, evaluation, drawing, PNG encoding).
func BenchmarkGraph10x1000PNG(b *testing.B) { benchRender(b, benchURIs[0].uri) }

// BenchmarkGraph100Stacked: 100 series stacked, 800×600 PNG.
func BenchmarkGraph100Stacked(b *testing.B) { benchRender(b, benchURIs[1].uri) }

// TestGraphSpeedVsGraphiteWeb times the speed cases in one run through
// Plumbago (testing.Benchmark) and Debian's graphite-web (its Django view
// through the test client, render cache off, same whisper files) and
// reports the ratio. Long: runs with GRAPH_BENCH=1 only.
func TestGraphSpeedVsGraphiteWeb(t *testing.T) {
	if os.Getenv("GRAPH_BENCH") == "" {
		t.Skip("set GRAPH_BENCH=1 to time Plumbago against graphite-web")
	}
	if !haveGraphiteWeb(t) {
		t.Skip("graphite-web not installed")
	}
	dir, a := benchFixture(t)
	var uris []string
	for _, c := range benchURIs {
		uris = append(uris, c.uri)
	}
	_, gw := graphiteWeb(t, dir, uris, 10)
	for i, c := range benchURIs {
		// warm up: the first picture allocates the buffers (the stacked
		// graph's clip masks) that the next ones reuse, and a slow run
		// may stop testing.Benchmark at b.N = 1
		var ctx fasthttp.RequestCtx
		req := benchRequest(c.uri)
		serveAgain(a, &ctx, req)
		var cpu0, cpu1 syscall.Rusage
		var n int
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)
			for j := 0; j < b.N; j++ {
				if st := serveAgain(a, &ctx, req); st != 200 {
					b.Fatalf("%d", st)
				}
			}
			syscall.Getrusage(syscall.RUSAGE_SELF, &cpu1)
			n = b.N
		})
		ours := float64(r.NsPerOp()) / 1e9
		oursCPU := (tv(cpu1.Utime) + tv(cpu1.Stime) - tv(cpu0.Utime) - tv(cpu0.Stime)) / float64(n)
		t.Logf("%s: graphite-web %.1f ms wall, %.1f ms CPU; Plumbago %.2f ms wall, %.2f ms CPU (%d B/op, %d allocs/op): %.1f× faster in wall time, %.1f× in CPU time",
			c.name, gw[i][0]*1000, gw[i][1]*1000, ours*1000, oursCPU*1000, r.AllocedBytesPerOp(), r.AllocsPerOp(), gw[i][0]/ours, gw[i][1]/oursCPU)
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
