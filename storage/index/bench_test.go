package index

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Benchmark tree: app.hostNNNN.cpu.metricNN, 10,000 hosts x 100 metrics.
const benchHosts, benchMetrics = 10000, 100

func appendBenchName(b []byte, h, m int) []byte {
	b = append(b, "app.host"...)
	if h < 1000 {
		b = append(b, '0')
	}
	if h < 100 {
		b = append(b, '0')
	}
	if h < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, ".cpu.metric"...)
	if m < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(m), 10)
}

func buildBench() *Index {
	x := New()
	buf := make([]byte, 0, 64)
	for h := range benchHosts {
		for m := range benchMetrics {
			buf = appendBenchName(buf[:0], h, m)
			x.AddBytes(buf)
		}
	}
	return x
}

var benchIndex = sync.OnceValue(buildBench)

func BenchmarkAddExisting(b *testing.B) {
	x := benchIndex()
	name := []byte("app.host0042.cpu.metric07")
	b.ReportAllocs()
	for b.Loop() {
		if x.AddBytes(name) {
			b.Fatal("added")
		}
	}
}

func BenchmarkAddExistingParallel(b *testing.B) {
	x := benchIndex()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 64)
		i := 0
		for pb.Next() {
			buf = appendBenchName(buf[:0], i%benchHosts, i%benchMetrics)
			x.AddBytes(buf)
			i += 7919
		}
	})
}

func BenchmarkAddNew(b *testing.B) {
	x := New()
	buf := make([]byte, 0, 64)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBenchName(buf[:0], i/benchMetrics, i%benchMetrics)
		if !x.AddBytes(buf) {
			b.Fatal("not added")
		}
		i++
	}
}

func benchFind(b *testing.B, pattern string, want int) {
	x := benchIndex()
	b.ReportAllocs()
	for b.Loop() {
		nodes, err := x.Find(pattern)
		if err != nil || len(nodes) != want {
			b.Fatalf("Find(%q) = %d, %v", pattern, len(nodes), err)
		}
	}
}

func BenchmarkFindLiteral(b *testing.B) { benchFind(b, "app.host0001.cpu.metric07", 1) }
func BenchmarkFindGlob(b *testing.B)    { benchFind(b, "app.host0001.*.*", 100) }
func BenchmarkFindGlobHosts(b *testing.B) {
	benchFind(b, "app.*.cpu.metric07", benchHosts)
}
func BenchmarkFindGlobClass(b *testing.B) {
	benchFind(b, "app.host00[0-4]?.cpu.metric{01,5*}", 50*11)
}
func BenchmarkFindWide(b *testing.B) { benchFind(b, "app.*.cpu.*", benchHosts*benchMetrics) }

func BenchmarkExpandLiteral(b *testing.B) {
	x := benchIndex()
	b.ReportAllocs()
	for b.Loop() {
		names, _ := x.Expand("app.host0001.cpu.metric07")
		if len(names) != 1 {
			b.Fatal(len(names))
		}
	}
}

func BenchmarkExpandGlob(b *testing.B) {
	x := benchIndex()
	b.ReportAllocs()
	for b.Loop() {
		names, _ := x.Expand("app.host0001.cpu.*")
		if len(names) != 100 {
			b.Fatal(len(names))
		}
	}
}

// BenchmarkMemory1M reports the heap held by an index of 1M names.
func BenchmarkMemory1M(b *testing.B) { benchMemory(b, buildBench) }

// BenchmarkMemoryFlat1M reports the heap held by an index of 1M names
// under one parent, as loadtest's 1M x 20 run names them
// (loadtest.m1.m0000000).
func BenchmarkMemoryFlat1M(b *testing.B) {
	benchMemory(b, func() *Index {
		x := New()
		buf := make([]byte, 0, 64)
		for i := range 1_000_000 {
			buf = append(buf[:0], "loadtest.m1.m"...)
			buf = appendPadded(buf, i, 7)
			x.AddBytes(buf)
		}
		return x
	})
}

// benchMemory reports the heap the index build returns holds (after a GC)
// and the time build took, per name.
func benchMemory(b *testing.B, build func() *Index) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		x := build()
		elapsed := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := x.Len()
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/name")
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/name")
		runtime.KeepAlive(x)
	}
}

// appendPadded appends i in decimal, zero-padded to width digits.
func appendPadded(b []byte, i, width int) []byte {
	for d := width - 1; d >= 0; d-- {
		p := 1
		for range d {
			p *= 10
		}
		b = append(b, byte('0'+i/p%10))
	}
	return b
}
