package api

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/plumbago/plumbago/storage/tagged"
	"github.com/valyala/fasthttp"
)

// benchTagIndex: 10,000 series of one metric over 10 dcs, 1,000 hosts and
// 4 envs, plus 10,000 series of 100 other metrics.
func benchTagIndex(b *testing.B) *tagged.TagIndex {
	idx := tagged.NewTagIndex()
	add := func(s string) {
		c, err := tagged.Normalize(nil, []byte(s))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := idx.Add(c); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 10000; i++ {
		add(fmt.Sprintf("cpu.load;dc=dc%d;host=host%d;env=e%d;core=%d", i%10, i%1000, i%4, i/1000))
		add(fmt.Sprintf("app.m%d;dc=dc%d;host=host%d", i%100, i%10, i%1000))
	}
	return idx
}

func BenchmarkTagsHTTP(b *testing.B) {
	idx := benchTagIndex(b)
	a := New(newGenSource(), Options{Tags: idx, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, c := range []struct{ name, uri string }{
		{"autoCompleteTags", "/tags/autoComplete/tags?tagPrefix=h&limit=5000"},
		{"autoCompleteTags_expr", "/tags/autoComplete/tags?expr=name%3Dcpu.load&expr=host%3Dhost7&limit=5000"},
		{"autoCompleteValues", "/tags/autoComplete/values?tag=host&valuePrefix=host1&limit=5000"},
		{"autoCompleteValues_expr", "/tags/autoComplete/values?tag=host&expr=name%3Dcpu.load&expr=dc%3Ddc3&limit=5000"},
		{"findSeries_eq", "/tags/findSeries?expr=name%3Dcpu.load&expr=host%3Dhost42"},
		{"findSeries_regex", "/tags/findSeries?expr=host%3D~host4.%24&expr=env!%3De1"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.SetRequestURI(c.uri)
				if !a.Handle(&ctx) || ctx.Response.StatusCode() != 200 {
					b.Fatalf("%s: %d %s", c.uri, ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}

func BenchmarkTagIndexAdd(b *testing.B) {
	names := make([][]byte, 100000)
	for i := range names {
		names[i], _ = tagged.Normalize(nil, []byte(fmt.Sprintf("cpu.load;dc=dc%d;host=host%d;env=e%d;core=%d", i%10, i%1000, i%4, i)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idx := tagged.NewTagIndex()
		for _, n := range names {
			if _, err := idx.Add(n); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(names)), "ns/series")
}
