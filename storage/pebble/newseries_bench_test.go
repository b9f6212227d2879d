package pebble

import (
	"strconv"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// BenchmarkWriteNewSeries is the new-series phase of the 1 M x 20 run:
// each op is one Write of 32,768 series never seen (the write buffer's
// writeScratchPoints), one point each, into a store that grows by that
// much per op (-benchtime=31x reaches 1 M series). It reports the wall
// time per new series and the batch bytes (pebble's log) per new series. As in serve, the store leaves the index to its
// caller (Options.WritesIndexed).
func BenchmarkWriteNewSeries(b *testing.B) {
	const perWrite = 1 << 15
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
	defer s.Close()
	batches := make([]storage.Batch, b.N)
	for n := range batches {
		for j := 0; j < perWrite; j++ {
			id := n*perWrite + j
			batches[n].Series = append(batches[n].Series, storage.SeriesPoints{
				Name:   "loadtest.w1.host" + strconv.Itoa(id%1000) + ".metric" + strconv.Itoa(id),
				Points: []storage.Point{{Timestamp: now - 1, Value: float64(id % 100)}}})
		}
	}
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
