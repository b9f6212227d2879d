package pebble

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// BenchmarkSeriesState measures pebble's in-memory state per series (name
// table, series struct, tails) at 1 M series of the 1 M x 20 run's names
// and W1's schema (two archives: one tail a series), each written once:
// Go heap after a collection, less the heap before the first write (the
// batches, and so the names the write buffer would hold, are allocated
// before), per series; the process CPU time of the writes; and the CPU
// time of a forced collection with that state live (the GC's mark work
// over it and the batches). CPU time, not wall time: the box is shared. The index is not fed
// (WritesIndexed), so its bytes are not counted.
//
//	go test -run XXX -bench BenchmarkSeriesState -benchtime 1x ./storage/pebble/
func BenchmarkSeriesState(b *testing.B) {
	const n, perWrite = 1 << 20, 16384
	now := time.Now().Unix()
	batches := make([]storage.Batch, n/perWrite)
	for i := range n {
		bt := &batches[i/perWrite]
		bt.Series = append(bt.Series, storage.SeriesPoints{
			Name: fmt.Sprintf("loadtest.m1.m%06d", i), Points: []storage.Point{{Timestamp: now - 10, Value: float64(i % 100)}}})
	}
	for range b.N {
		opts := DefaultOptions()
		opts.Dir = b.TempDir()
		opts.Rules = w1Rules(b)
		opts.Now = func() int64 { return now }
		opts.WritesIndexed = true
		s, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		h0 := heapAfterGC()
		cpu := processCPU()
		for i := range batches {
			if err := s.Write(&batches[i]); err != nil {
				b.Fatal(err)
			}
		}
		cpu = processCPU() - cpu
		h1 := heapAfterGC()
		b.ReportMetric(float64(h1-h0)/n, "B/series")
		b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/series")
		b.ReportMetric(gcCPU(), "cpu-ms/GC")
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// heapAfterGC returns the Go heap in use after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// gcCPU returns the process CPU time, in ms, of one forced collection
// (the mean of 5).
func gcCPU() float64 {
	cpu := processCPU()
	for range 5 {
		runtime.GC()
	}
	return float64((processCPU() - cpu).Microseconds()) / 5000
}
