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

// TestHandoffStagesAfterWriterLock stages a Write of new series as Write
// does under writeMu and checks that the sorted operands and name records
// are not yet in the batch but go with the handoff (so the next Write's
// staging overlaps them), then commits the handoff without writeMu and
// checks the values, the counts, and that the names are stored (reopen).
func TestHandoffStagesAfterWriterLock(t *testing.T) {
	s := openTest(t, w1Rules(t), func() int64 { return testNow })
	dir := s.opts.Dir
	// The first series creates the schema and its rings: that batch
	// commits under writeMu.
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "first", Points: []storage.Point{{Timestamp: testNow - 10, Value: 1}}}}}); err != nil {
		t.Fatal(err)
	}
	const n = 5
	var b storage.Batch
	for j := range n {
		b.Series = append(b.Series, storage.SeriesPoints{
			Name:   fmt.Sprintf("late.s%d", n-j), // out of key order
			Points: []storage.Point{{Timestamp: testNow - 10, Value: float64(j) + 0.25}},
		})
	}
	s.writeMu.Lock()
	h, staged, err := s.stageWrite(&b)
	if err != nil || h == nil || staged != 0 {
		s.writeMu.Unlock()
		t.Fatalf("stageWrite: handoff %v, staged %d, %v", h != nil, staged, err)
	}
	if got := len(h.stage.names); got != n {
		t.Errorf("handoff carries %d name records, want %d", got, n)
	}
	if got := len(h.stage.ops); got != 2*n {
		t.Errorf("handoff carries %d operands, want %d", got, 2*n)
	}
	if !s.w.stageBufs.empty() || len(h.flushed) != n {
		t.Errorf("writer still stages %d ops, %d names; handoff flushes %d series", len(s.w.ops), len(s.w.names), len(h.flushed))
	}
	if h.batch.Count() != 1 { // the series count only
		t.Errorf("batch holds %d entries before the commit, want 1", h.batch.Count())
	}
	written := s.w.written
	s.w.written, s.w.dropped = 0, 0
	s.writeMu.Unlock()
	s.commits.RLock()
	err = s.commitHandoff(h)
	s.commits.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	if got := h.batch.Count(); got != 1+3*n {
		t.Errorf("committed batch of %d entries, want %d", got, 1+3*n)
	}
	s.release(h)
	s.countCommitted(written, 0)
	check := func(s *Store) {
		t.Helper()
		for j := range n {
			name := fmt.Sprintf("late.s%d", n-j)
			got, err := s.Fetch(name, testNow-60, testNow, testNow)
			if err != nil {
				t.Fatal(err)
			}
			ts := int64(testNow - 10)
			if v := got.Values[(ts-got.Start)/got.Step]; v != float64(j)+0.25 {
				t.Fatalf("%s at %d: %v, want %v", name, ts, v, float64(j)+0.25)
			}
		}
	}
	check(s)
	if got := s.Stats().PointsWritten; got != n+1 {
		t.Errorf("points written %d, want %d", got, n+1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opts := s.opts
	opts.Dir = dir
	s2, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2)
	if got := s2.Stats().Series; got != n+1 {
		t.Errorf("reopened store has %d series, want %d", got, n+1)
	}
}
