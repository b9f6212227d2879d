package pebble

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// w1Rules is design.md's W1 schema: 1s:15m,1m:1d, average, xFilesFactor 0.
func w1Rules(tb testing.TB) *schema.Rules {
	fail := func(err error) {
		if tb == nil {
			panic(err)
		}
		tb.Fatal(err)
	}
	s, err := schema.ParseSchemas(strings.NewReader("[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n"))
	if err != nil {
		fail(err)
	}
	a, err := schema.ParseAggregations(strings.NewReader("[w1]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"))
	if err != nil {
		fail(err)
	}
	return &schema.Rules{Schemas: s, Aggregations: a}
}

// w1Points returns, for each i in 0..99, W1's points of a metric with
// i = metric index mod 100: 100 points at 1 s from base, value (i+p)%100
// (the load generator's values).
func w1Points(base int64, steps int) [100][]storage.Point {
	var pts [100][]storage.Point
	for i := range pts {
		for p := 0; p < steps; p++ {
			pts[i] = append(pts[i], storage.Point{Timestamp: base + int64(p), Value: float64((i + p) % 100)})
		}
	}
	return pts
}

func benchStore(b *testing.B, now int64) *Store {
	opts := DefaultOptions()
	opts.Dir = b.TempDir()
	opts.Rules = w1Rules(b)
	opts.Now = func() int64 { return now }
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkWriteW1 writes W1-shaped batches of new series: each op is one
// Write of 10,000 series x 100 points at 1 s (1 M points), so
// -benchtime=10x is exactly W1 (100,000 series). It reports points/s and,
// after flushing and compacting, sstable bytes per stored point.
func BenchmarkWriteW1(b *testing.B) {
	const perWrite = 10_000
	now := time.Now().Unix()
	s := benchStore(b, now)
	defer s.Close()
	pts := w1Points(now-100, 100)
	batches := make([]storage.Batch, b.N)
	for n := range batches {
		for j := 0; j < perWrite; j++ {
			id := n*perWrite + j
			batches[n].Series = append(batches[n].Series, storage.SeriesPoints{
				Name: fmt.Sprintf("loadtest.w1.host%03d.metric%06d", id%1000, id), Points: pts[id%100]})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		if err := s.Write(&batches[n]); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	total := float64(b.N * perWrite * 100)
	b.ReportMetric(total/el.Seconds(), "points/s")
	if err := s.Flush(true); err != nil {
		b.Fatal(err)
	}
	st := s.Stats()
	b.ReportMetric(float64(st.TableBytes)/total, "bytes/point")
}

// BenchmarkWriteIncremental writes 10,000 existing series 10 points at a
// time (a 10 s write-buffer flush) with the clock advancing, so each Write
// appends to blocks written before and propagates into minutes already
// partly filled. One op is one Write of 100,000 points.
func BenchmarkWriteIncremental(b *testing.B) {
	const series, per = 10_000, 10
	var clock atomic.Int64
	start := time.Now().Unix()
	clock.Store(start)
	opts := DefaultOptions()
	opts.Dir = b.TempDir()
	opts.Rules = w1Rules(b)
	opts.Now = clock.Load
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var batch storage.Batch
	for j := 0; j < series; j++ {
		batch.Series = append(batch.Series, storage.SeriesPoints{
			Name: fmt.Sprintf("loadtest.inc.host%03d.metric%06d", j%1000, j), Points: make([]storage.Point, per)})
	}
	fill := func(n int) {
		t0 := start + int64(n*per)
		for j := range batch.Series {
			pts := batch.Series[j].Points
			for p := range pts {
				pts[p] = storage.Point{Timestamp: t0 + int64(p), Value: float64((j + n*per + p) % 100)}
			}
		}
		clock.Store(t0 + per)
	}
	fill(0) // create the series outside the timing
	if err := s.Write(&batch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 1; n <= b.N; n++ {
		fill(n)
		if err := s.Write(&batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*series*per)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkFetch reads 15 minutes of a 1 s series (900 values).
func BenchmarkFetch(b *testing.B) {
	now := time.Now().Unix()
	s := benchStore(b, now)
	defer s.Close()
	pts := w1Points(now-900, 900)
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "f.x", Points: pts[3]}}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		got, err := s.Fetch("f.x", now-900, now, now)
		if err != nil || len(got.Values) != 900 {
			b.Fatal(err, len(got.Values))
		}
	}
}

// BenchmarkOpen1M measures opening a store holding 1,000,000 series with
// the names loaded in the background, as the server does: ns/op is the
// time to Loaded (the name map built), indexed-ms the time to Indexed
// (finds and reads answer), find-µs a find over the loaded index.
//
//	go test -run '^$' -bench Open1M -benchmem -benchtime 3x ./storage/pebble/
func BenchmarkOpen1M(b *testing.B) {
	const series = 1_000_000
	now := time.Now().Unix()
	s := benchStore(b, now)
	dir := s.opts.Dir
	var batch storage.Batch
	pt := []storage.Point{{Timestamp: now - 1, Value: 1}}
	for i := 0; i < series; i++ {
		batch.Series = append(batch.Series, storage.SeriesPoints{Name: fmt.Sprintf("servers.dc%d.host%04d.cpu%d.metric%02d", i/1000%4, i/1000, i%1000/100, i%100), Points: pt})
		if len(batch.Series) == 50_000 {
			if err := s.Write(&batch); err != nil {
				b.Fatal(err)
			}
			batch.Reset()
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	opts := s.opts
	opts.Dir = dir
	opts.Index = nil
	opts.LoadNamesInBackground = true
	b.ReportAllocs()
	b.ResetTimer()
	var findTime, indexedTime time.Duration
	for n := 0; n < b.N; n++ {
		t0 := time.Now()
		s, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		<-s.Indexed()
		indexedTime += time.Since(t0)
		<-s.Loaded()
		if err := s.LoadErr(); err != nil {
			b.Fatal(err)
		}
		if s.index.Len() != series {
			b.Fatalf("loaded %d names", s.index.Len())
		}
		t0 = time.Now()
		nodes, err := s.Find("servers.dc2.host0042.cpu3.*")
		findTime += time.Since(t0)
		if err != nil || len(nodes) != 100 {
			b.Fatalf("find: %d nodes, %v", len(nodes), err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(indexedTime.Milliseconds())/float64(b.N), "indexed-ms")
	b.ReportMetric(float64(findTime.Microseconds())/float64(b.N), "find-µs")
}
