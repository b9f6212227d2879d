package pebble

import (
	"fmt"
	"strings"
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
// time (a 10 s write-buffer flush), so every Write reads back the blocks it
// appends to for propagation. One op is one Write of 100,000 points.
func BenchmarkWriteIncremental(b *testing.B) {
	const series = 10_000
	now := time.Now().Unix()
	base := now - 800
	s := benchStore(b, now)
	defer s.Close()
	names := make([]string, series)
	for j := range names {
		names[j] = fmt.Sprintf("loadtest.inc.host%03d.metric%06d", j%1000, j)
	}
	pts := w1Points(base, 800)
	var batch storage.Batch
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n++ {
		off := (n * 10) % 800
		batch.Reset()
		for j, name := range names {
			batch.Series = append(batch.Series, storage.SeriesPoints{Name: name, Points: pts[j%100][off : off+10]})
		}
		if err := s.Write(&batch); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N*series*10)/el.Seconds(), "points/s")
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
		got, err := s.Fetch("f.x", now-899, now, now)
		if err != nil || len(got.Values) != 900 {
			b.Fatal(err, len(got.Values))
		}
	}
}

// BenchmarkOpen1M measures opening a store holding 1,000,000 series: the
// name records are read from pebble into the name map and the find index.
// It also reports a find over the loaded index.
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
	b.ReportAllocs()
	b.ResetTimer()
	var findTime time.Duration
	for n := 0; n < b.N; n++ {
		s, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		if s.index.Len() != series {
			b.Fatalf("loaded %d names", s.index.Len())
		}
		t0 := time.Now()
		nodes, err := s.Find("servers.dc2.host0042.cpu3.*")
		findTime += time.Since(t0)
		if err != nil || len(nodes) != 100 {
			b.Fatalf("find: %d nodes, %v", len(nodes), err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(findTime.Microseconds())/float64(b.N), "find-µs")
}
