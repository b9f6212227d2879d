package api

import (
	"fmt"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkRenderGrafana sends the request Grafana 11.6+ sends for one
// panel (POST form, aliasSub-wrapped target, epoch range, maxDataPoints)
// through fasthttp to the whisper backend over the oracle fixture
// (python3-whisper files: 5 series × 6 h at 10 s under a.b.*).
func BenchmarkRenderGrafana(b *testing.B) {
	src, _, now := sharedFixture(b)
	srv := startServer(b, src, time.Unix(now, 0))
	form := url.Values{
		"target":        {`aliasSub(sumSeries(a.b.*), "(^.*$)", "\1 A")`, `aliasSub(a.b.c1, "(^.*$)", "\1 B")`},
		"from":          {fmt.Sprint(now - 6*3600)},
		"until":         {fmt.Sprint(now)},
		"format":        {"json"},
		"maxDataPoints": {"1000"},
	}.Encode()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI("http://graphite/render")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/x-www-form-urlencoded")
	req.SetBodyString(form)
	b.ReportAllocs()
	var lat []float64
	for b.Loop() {
		t0 := time.Now()
		if err := srv.client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			b.Fatalf("%v %d %s", err, resp.StatusCode(), resp.Body())
		}
		lat = append(lat, float64(time.Since(t0)))
	}
	sort.Float64s(lat)
	b.ReportMetric(lat[len(lat)*99/100], "p99-ns")
}

// BenchmarkRenderGrafanaGraphiteWeb times the same request in Debian's
// graphite-web (Django test client, no HTTP server, cache disabled) over
// the same whisper files; ns/op is graphite-web's mean, p99-ns its p99.
func BenchmarkRenderGrafanaGraphiteWeb(b *testing.B) {
	_, dir, now := sharedFixture(b)
	form := url.Values{
		"target":        {`aliasSub(sumSeries(a.b.*), "(^.*$)", "\1 A")`, `aliasSub(a.b.c1, "(^.*$)", "\1 B")`},
		"from":          {fmt.Sprint(now - 6*3600)},
		"until":         {fmt.Sprint(now)},
		"format":        {"json"},
		"maxDataPoints": {"1000"},
		"now":           {fmt.Sprint(now)},
	}
	n := max(b.N, 50)
	var res struct{ Times []float64 }
	runPython(b, "testdata/oracle/oracle.py", map[string]any{"repeat": n, "requests": []any{map[string]any{"path": "/render", "form": form}}}, &res, "ORACLE_DIR="+dir)
	sort.Float64s(res.Times)
	sum := 0.0
	for _, t := range res.Times {
		sum += t
	}
	b.ReportMetric(sum/float64(len(res.Times))*1e9, "graphite-ns/op")
	b.ReportMetric(res.Times[len(res.Times)*99/100]*1e9, "graphite-p99-ns")
}
