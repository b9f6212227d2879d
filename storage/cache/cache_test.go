package cache

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/plumbago/plumbago/storage"
)

// recorder is a Store that records what the cache hands over, so the tests
// can check the cache's own contract: every point written once, in order.
type recorder struct {
	mu     sync.Mutex
	points map[string][]storage.Point
	delay  time.Duration
	writes int
}

func newRecorder() *recorder { return &recorder{points: map[string][]storage.Point{}} }

func (r *recorder) Write(b *storage.Batch) error {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	for _, s := range b.Series {
		r.points[s.Name] = append(r.points[s.Name], s.Points...)
	}
	return nil
}

func (r *recorder) writesDone() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

func (r *recorder) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	return nil, storage.ErrNotFound
}
func (r *recorder) Find(string) ([]storage.Node, error) { return nil, nil }
func (r *recorder) Close() error                        { return nil }

func step10(string, int64, int64) int64 { return 10 }

func TestCacheDeliversEveryPointInOrder(t *testing.T) {
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 4, LaneChunks: 4, ChunkPoints: 16, FlushInterval: 5 * time.Millisecond, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	const producers, metrics, perMetric = 3, 50, 200
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			pr := c.NewProducer()
			for i := 0; i < perMetric; i++ {
				for m := 0; m < metrics; m++ {
					pr.AddPoint([]byte("p"+strconv.Itoa(p)+".m"+strconv.Itoa(m)), int64(1000+i), float64(i))
				}
				if i%7 == 0 {
					pr.Flush()
				}
			}
			pr.Flush()
		}(p)
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	const total = producers * metrics * perMetric
	if st.Received != total || st.Committed != total || st.Buffered != 0 {
		t.Fatalf("stats = %+v; want received = committed = %d, buffered 0", st, total)
	}
	if len(rec.points) != producers*metrics {
		t.Fatalf("got %d series; want %d", len(rec.points), producers*metrics)
	}
	for name, pts := range rec.points {
		if len(pts) != perMetric {
			t.Fatalf("%s: %d points; want %d", name, len(pts), perMetric)
		}
		for i, p := range pts {
			if p.Timestamp != int64(1000+i) || p.Value != float64(i) {
				t.Fatalf("%s point %d = %+v; want {%d %d}", name, i, p, 1000+i, i)
			}
		}
	}
}

func TestCacheBackpressureBoundsBuffer(t *testing.T) {
	rec := newRecorder()
	rec.delay = 20 * time.Millisecond
	c, err := New(rec, nil, Options{Shards: 1, LaneChunks: 2, ChunkPoints: 8, MaxBufferedPoints: 100, MaxWritePoints: 50, FlushInterval: time.Hour, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	pr := c.NewProducer()
	done := make(chan struct{})
	var maxSeen int64
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if b := c.Stats().Buffered; b > maxSeen {
				maxSeen = b
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for i := 0; i < 1000; i++ {
		pr.AddPoint([]byte("a.b"), int64(i), 1)
	}
	pr.Flush()
	c.Close()
	close(done)
	if got := len(rec.points["a.b"]); got != 1000 {
		t.Fatalf("wrote %d points; want 1000", got)
	}
	// The bound: MaxBufferedPoints plus what is in flight in the lane (2 chunks × 8).
	if maxSeen > 100+2*8 {
		t.Fatalf("buffer grew to %d points; bound is %d", maxSeen, 100+2*8)
	}
	if c.Stats().BlockedWaits == 0 {
		t.Fatal("producer never waited although the backend was slower than ingest")
	}
}

func TestCacheFetchOverlaysBufferedPoints(t *testing.T) {
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 2, FlushInterval: time.Hour, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pr := c.NewProducer()
	pr.AddPoint([]byte("x.y"), 1005, 1)
	pr.AddPoint([]byte("x.y"), 1021, 2)
	pr.AddPoint([]byte("x.y"), 1029, 3) // same 10 s slot as 1021: last wins
	pr.Flush()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Series == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	s, err := c.Fetch("x.y", 990, 1030, 1030)
	if err != nil {
		t.Fatal(err)
	}
	// whisper alignment: from 990 → 1000, until 1030 → 1040.
	want := []float64{1, math.NaN(), 3, math.NaN()}
	if s.Start != 1000 || s.Step != 10 || len(s.Values) != len(want) {
		t.Fatalf("series = %+v; want start 1000 step 10 %d values", s, len(want))
	}
	for i, v := range want {
		if !(v == s.Values[i] || math.IsNaN(v) && math.IsNaN(s.Values[i])) {
			t.Fatalf("values = %v; want %v", s.Values, want)
		}
	}
	if _, err := c.Fetch("nope", 990, 1030, 1030); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("fetch of unknown metric: err = %v; want ErrNotFound", err)
	}
}

// TestCacheReleasesBurstBuffers: once a series' points are written and
// none wait, the buffers a burst grew are released (memory comes back
// after a bulk load), while a series taking a point at a time keeps its
// small ones.
func TestCacheReleasesBurstBuffers(t *testing.T) {
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 2, LaneChunks: 4, ChunkPoints: 256, FlushInterval: 5 * time.Millisecond, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pr := c.NewProducer()
	for i := 0; i < 200; i++ {
		pr.AddPoint([]byte("burst"), int64(1000+10*i), float64(i))
	}
	pr.AddPoint([]byte("steady"), 1000, 0)
	pr.Flush()
	waitCommitted := func(n uint64) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); c.Stats().Committed < n || c.Stats().Buffered != 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("stats %+v: want %d committed", c.Stats(), n)
			}
		}
	}
	waitCommitted(201)
	for i := 1; i <= 5; i++ {
		pr.AddPoint([]byte("steady"), int64(1000+10*i), float64(i))
		pr.Flush()
		waitCommitted(uint64(201 + i))
	}
	buffer := func(name string) int {
		sh := c.shardOfString(name)
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return cap(sh.series.get(name).buf)
	}
	if n := buffer("burst"); n != 0 {
		t.Errorf("burst series keeps a buffer of %d bytes after its 200 points were written; want none", n)
	}
	if n := buffer("steady"); n != firstBufBytes {
		t.Errorf("steady series keeps a buffer of %d bytes; want its first one (%d) kept", n, firstBufBytes)
	}
	if got := len(rec.points["burst"]); got != 200 {
		t.Fatalf("burst: %d points written, want 200", got)
	}
}

// TestCacheBatchForgetsWrittenSeries: a write cycle split into several
// batches (MaxWritePoints) leaves no series' buffer referenced from the
// shard's batch once it is over, whatever the last batch's length.
func TestCacheBatchForgetsWrittenSeries(t *testing.T) {
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 1, LaneChunks: 4, ChunkPoints: 256, FlushInterval: 5 * time.Millisecond, MaxWritePoints: 30, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pr := c.NewProducer()
	for i := 0; i < 100; i++ { // 100 series: batches of 30, 30, 30, 10 series
		pr.AddPoint([]byte("s"+strconv.Itoa(i)), 1000, float64(i))
	}
	pr.Flush()
	for deadline := time.Now().Add(30 * time.Second); c.Stats().Committed < 100; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: want 100 committed", c.Stats())
		}
	}
	sh := c.shards[0]
	// The writer clears the batch after settling the cycle; poll for it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		sh.mu.Lock()
		stale := 0
		for _, sp := range sh.batch.Series[:cap(sh.batch.Series)] {
			if sp.Points != nil || sp.Name != "" {
				stale++
			}
		}
		sh.mu.Unlock()
		if stale == 0 && rec.writesDone() >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d series still referenced by the shard's batch after the cycle (%d writes)", stale, rec.writesDone())
		}
	}
}

// namer is a Store that hands back its own copy of every name it writes,
// as storage.Store.Write allows (pebble hands back its name table's).
type namer struct {
	discard // Fetch, Find, Close
	mu      sync.Mutex
	names   map[string]string
}

func (n *namer) Write(b *storage.Batch) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range b.Series {
		own, ok := n.names[b.Series[i].Name]
		if !ok {
			own = string([]byte(b.Series[i].Name))
			n.names[own] = own
		}
		b.Series[i].Name = own
	}
	return nil
}

// TestSeriesAdoptsStoreName: after a write, the buffer's series holds the
// name the store handed back, not its own copy, and still finds its
// points by it.
func TestSeriesAdoptsStoreName(t *testing.T) {
	st := &namer{names: map[string]string{}}
	c, err := New(st, nil, Options{Shards: 2, FlushInterval: time.Hour, IdleSeriesAfter: -1, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := c.NewProducer()
	names := []string{"adopt.a", "adopt.b", "adopt.c"}
	for _, n := range names {
		p.AddPoint([]byte(n), 1_700_000_000, 1)
	}
	p.Flush()
	for c.Stats().Buffered < int64(len(names)) {
		time.Sleep(time.Millisecond)
	}
	c.Sync()
	for _, n := range names {
		sh := c.shardOfString(n)
		sh.mu.Lock()
		s := sh.series.get(n)
		sh.mu.Unlock()
		if s == nil {
			t.Fatalf("%s: not in the buffer after its write", n)
		}
		if unsafe.StringData(s.name) != unsafe.StringData(st.names[n]) {
			t.Errorf("%s: the series keeps its own copy of the name, not the store's", n)
		}
	}
}
