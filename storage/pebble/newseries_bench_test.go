package pebble

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// BenchmarkWriteNewSeries is the new-series phase of the 1 M x 20 run:
// each op is one Write of 32,768 series never seen (the write buffer's
// writeScratchPoints), one point each, into a store that grows by that
// much per op (-benchtime=31x reaches 1 M series). It reports the wall
// time per new series and the batch bytes (pebble's log) per new series.
// As in serve, the store leaves the index to its caller
// (Options.WritesIndexed).
func BenchmarkWriteNewSeries(b *testing.B) {
	const perWrite = 1 << 15
	s, batches := newSeriesBench(b, b.N, perWrite)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if err := s.Write(&batches[n]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perWrite), "ns/series")
	b.ReportMetric(float64(s.logged.Load())/float64(b.N*perWrite), "logged-B/series")
}

// newSeriesBench opens a store as serve runs it (W1's rules, the index
// left to the caller) and makes n batches of perWrite series never seen,
// one point each.
func newSeriesBench(b *testing.B, n, perWrite int) (*Store, []storage.Batch) {
	b.Helper()
	now := time.Now().Unix()
	opts := DefaultOptions()
	opts.Dir = b.TempDir()
	opts.Rules = w1Rules(b)
	opts.Now = func() int64 { return now }
	opts.WritesIndexed = true // as serve runs it: the write buffer indexes
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	batches := make([]storage.Batch, n)
	for n := range batches {
		for j := 0; j < perWrite; j++ {
			id := n*perWrite + j
			batches[n].Series = append(batches[n].Series, storage.SeriesPoints{
				Name:   "loadtest.w1.host" + strconv.Itoa(id%1000) + ".metric" + strconv.Itoa(id),
				Points: []storage.Point{{Timestamp: now - 1, Value: float64(id % 100)}}})
		}
	}
	return s, batches
}

// BenchmarkWriteNewSeries2 is BenchmarkWriteNewSeries with two writers at
// once, as serve's two write-buffer shards write on two cores: each op is
// two Writes of 32,768 new series, one from each writer, started together
// (-benchtime=16x reaches 1 M series). ns/series is the wall time per new
// series of both.
func BenchmarkWriteNewSeries2(b *testing.B) {
	const perWrite = 1 << 15
	s, batches := newSeriesBench(b, 2*b.N, perWrite)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := g; n < len(batches); n += 2 {
				if err := s.Write(&batches[n]); err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N*perWrite), "ns/series")
	b.ReportMetric(float64(s.logged.Load())/float64(2*b.N*perWrite), "logged-B/series")
}
