package pebble

import (
	"fmt"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/storage"
)

// TestHandoffConcurrentWrites has four writers, as the write buffer's
// shards are, each writing its own 50 series one point a Write, so that
// batches commit after their Write let writeMu go while the next one is
// staged (handoff.go). Every 30th Write also rewrites a point 5 s back,
// which drops the series' tails: the next propagation reads the blocks
// back while other batches are in flight. Every slot of both archives
// must hold exactly what was written last, and the store must count every
// point.
func TestHandoffConcurrentWrites(t *testing.T) {
	s := openTest(t, w1Rules(t), func() int64 { return testNow })
	defer s.Close()
	const writers, perWriter, steps = 4, 50, 240
	t0 := int64(testNow - 600)
	t0 -= t0 % 60
	name := func(g, j int) string { return fmt.Sprintf("handoff.g%d.s%d", g, j) }
	value := func(g, j, k int) float64 { return float64(g*1_000_000 + j*1000 + k) }
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b storage.Batch
			for k := range steps {
				b.Series = b.Series[:0]
				for j := range perWriter {
					pts := []storage.Point{{Timestamp: t0 + int64(k), Value: value(g, j, k)}}
					if k%30 == 29 {
						pts = append(pts, storage.Point{Timestamp: t0 + int64(k-5), Value: value(g, j, k-5) + 0.5})
					}
					b.Series = append(b.Series, storage.SeriesPoints{Name: name(g, j), Points: pts})
				}
				if err := s.Write(&b); err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", g, err)
		}
	}
	final := func(g, j, k int) float64 {
		if (k+5)%30 == 29 && k+5 < steps {
			return value(g, j, k) + 0.5
		}
		return value(g, j, k)
	}
	for g := range writers {
		for j := range perWriter {
			fine, err := s.Fetch(name(g, j), t0-1, t0+steps-1, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if fine.Step != 1 {
				t.Fatalf("%s: step %d, want 1", name(g, j), fine.Step)
			}
			for k := range steps {
				ts := t0 + int64(k)
				if got := fine.Values[(ts-fine.Start)/fine.Step]; got != final(g, j, k) {
					t.Fatalf("%s at %d: %v, want %v", name(g, j), ts, got, final(g, j, k))
				}
			}
			coarse, err := s.Fetch(name(g, j), testNow-3600, testNow, testNow)
			if err != nil {
				t.Fatal(err)
			}
			for m := range steps / 60 {
				sum := 0.0
				for k := m * 60; k < m*60+60; k++ {
					sum += final(g, j, k)
				}
				ts := t0 + int64(m*60)
				if got := coarse.Values[(ts-coarse.Start)/coarse.Step]; got != sum/60 {
					t.Fatalf("%s, minute at %d: %v, want %v", name(g, j), ts, got, sum/60)
				}
			}
		}
	}
	want := int64(writers * perWriter * (steps + steps/30))
	if got := s.Stats().PointsWritten; got != want {
		t.Errorf("points written %d, want %d", got, want)
	}
}
