package pebble

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// BenchmarkDrainW1 is the end of a W1 burst as the write buffer's four
// shards (2 x GOMAXPROCS on the record's machine) write it: four
// goroutines each write their quarter of 100,000 series, 40 points a
// series, in Writes of about 32,768 points (the write buffer's scratch
// bound), all at once, once for new series and once more, 40 s later, for
// the same series. It reports the wall time and the process CPU per point
// of the second (existing) pass; the first is "new-ns/point".
func BenchmarkDrainW1(b *testing.B) {
	const writers, series, steps, perWrite = 4, 100_000, 40, 32_768 / 40
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		now := time.Now().Unix()
		s := benchStore(b, now)
		batches := func(base int64) [][]storage.Batch {
			out := make([][]storage.Batch, writers)
			for id := 0; id < series; id++ {
				g := id % writers
				if len(out[g]) == 0 || len(out[g][len(out[g])-1].Series) == perWrite {
					out[g] = append(out[g], storage.Batch{})
				}
				pts := make([]storage.Point, steps)
				for p := range pts {
					pts[p] = storage.Point{Timestamp: base + int64(p), Value: float64((id + p) % 100)}
				}
				bt := &out[g][len(out[g])-1]
				bt.Series = append(bt.Series, storage.SeriesPoints{Name: fmt.Sprintf("loadtest.w1.host%03d.metric%06d", id%1000, id), Points: pts})
			}
			return out
		}
		run := func(bs [][]storage.Batch) (time.Duration, time.Duration) {
			cpu0, start := processCPU(), time.Now()
			var wg sync.WaitGroup
			for g := range bs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range bs[g] {
						if err := s.Write(&bs[g][i]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			return time.Since(start), processCPU() - cpu0
		}
		first, second := batches(now-2*steps), batches(now-steps)
		b.StartTimer()
		el1, cpu1 := run(first)
		el2, cpu2 := run(second)
		b.StopTimer()
		total := float64(series * steps)
		b.ReportMetric(float64(el1.Nanoseconds())/total, "new-ns/point")
		b.ReportMetric(float64(cpu1.Nanoseconds())/total, "new-cpu-ns/point")
		b.ReportMetric(float64(el2.Nanoseconds())/total, "wall-ns/point")
		b.ReportMetric(float64(cpu2.Nanoseconds())/total, "cpu-ns/point")
		s.Close()
	}
}
