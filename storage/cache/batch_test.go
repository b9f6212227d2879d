package cache

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// batchLog is a Store that keeps a copy of every batch it is given.
type batchLog struct {
	mu      sync.Mutex
	batches [][]storage.SeriesPoints
}

func (l *batchLog) Write(b *storage.Batch) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var cp []storage.SeriesPoints
	for _, s := range b.Series {
		cp = append(cp, storage.SeriesPoints{Name: s.Name, Points: append([]storage.Point(nil), s.Points...)})
	}
	l.batches = append(l.batches, cp)
	return nil
}
func (l *batchLog) Fetch(string, int64, int64, int64) (*storage.Series, error) {
	return nil, storage.ErrNotFound
}
func (l *batchLog) Find(string) ([]storage.Node, error) { return nil, nil }
func (l *batchLog) Close() error                        { return nil }

// TestFillBatchSplitsAtTheLimit: one write cycle of series of 1 to 13
// points with MaxWritePoints 10 goes out in batches of at most 10 points
// (a larger series alone), each batch ending only where its next series
// would pass the bound, and every series carries exactly its own points,
// the series that did not fit a batch (decoded once, carried to the next)
// included.
func TestFillBatchSplitsAtTheLimit(t *testing.T) {
	const limit = 10
	log := &batchLog{}
	c, err := New(log, nil, Options{Shards: 1, LaneChunks: 4, ChunkPoints: 64, MaxWritePoints: limit, FlushInterval: time.Hour, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{4, 5, 3, 12, 2, 9, 1, 13, 6, 6, 7, 1}
	pr := c.NewProducer()
	for i, k := range sizes {
		for j := 0; j < k; j++ {
			pr.AddPoint([]byte("s"+strconv.Itoa(i)), int64(1000+10*j), float64(100*i+j))
		}
	}
	pr.Flush()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for bi, b := range log.batches {
		total := 0
		for _, s := range b {
			i, err := strconv.Atoi(s.Name[1:])
			if err != nil || seen[s.Name] {
				t.Fatalf("batch %d: unexpected or repeated series %q", bi, s.Name)
			}
			seen[s.Name] = true
			if len(s.Points) != sizes[i] {
				t.Fatalf("batch %d: %s has %d points; want %d", bi, s.Name, len(s.Points), sizes[i])
			}
			for j, p := range s.Points {
				if p.Timestamp != int64(1000+10*j) || p.Value != float64(100*i+j) {
					t.Fatalf("batch %d: %s point %d = %+v; want {%d %d}", bi, s.Name, j, p, 1000+10*j, 100*i+j)
				}
			}
			total += len(s.Points)
		}
		if total > limit && len(b) > 1 {
			t.Fatalf("batch %d: %d points in %d series; the bound is %d", bi, total, len(b), limit)
		}
		if bi+1 < len(log.batches) {
			next, _ := strconv.Atoi(log.batches[bi+1][0].Name[1:])
			if total+sizes[next] <= limit {
				t.Fatalf("batch %d (%d points) ended before %s (%d points) although both fit", bi, total, log.batches[bi+1][0].Name, sizes[next])
			}
		}
	}
	if len(seen) != len(sizes) {
		t.Fatalf("%d series written; want %d", len(seen), len(sizes))
	}
}

// BenchmarkFillBatch cuts one write cycle of 2,000 series of 40 points
// into batches of MaxWritePoints 64: every batch but the last ends on a
// series that does not fit, which the next batch starts with.
func BenchmarkFillBatch(b *testing.B) {
	const nSeries, per = 2000, 40
	c, err := New(&discard{}, nil, Options{Shards: 1, LaneChunks: 4, ChunkPoints: 256, MaxWritePoints: 64, FlushInterval: time.Hour, Step: step10})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pr := c.NewProducer()
	for j := 0; j < per; j++ {
		for i := 0; i < nSeries; i++ {
			pr.AddPoint([]byte("s"+strconv.Itoa(i)), int64(1000+10*j), float64(j))
		}
	}
	pr.Flush()
	sh := c.shards[0]
	var due []*series
	for deadline := time.Now().Add(30 * time.Second); len(due) < nSeries; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d series dirty; want %d", len(due), nSeries)
		}
		sh.mu.Lock()
		due = append(due[:0], sh.dirty...)
		sh.mu.Unlock()
	}
	for deadline := time.Now().Add(30 * time.Second); c.Stats().Buffered < nSeries*per; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d points buffered; want %d", c.Stats().Buffered, nSeries*per)
		}
	}
	sh.writeMu.Lock() // no write cycle meanwhile
	defer sh.writeMu.Unlock()
	sh.mu.Lock()
	for _, s := range due {
		s.startFlush()
	}
	sh.mu.Unlock()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batches := 0
		for start, over := 0, 0; start < len(due); batches++ {
			start, _, over = sh.fillBatch(due, start, over)
		}
		if batches != nSeries {
			b.Fatalf("%d batches; want %d", batches, nSeries)
		}
	}
}
