package cache

import (
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/limits"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func addAll(c *Cache, names []string, points int) {
	p := c.NewProducer()
	for i := 0; i < points; i++ {
		for _, n := range names {
			p.AddPoint([]byte(n), int64(1000+10*i), float64(i))
		}
	}
	p.Flush()
}

func TestLimitsRejectNewSeriesWhileExistingFlow(t *testing.T) {
	rec := newRecorder()
	idx := index.New()
	idx.Add("old.a") // stored before this process
	lim := limits.New(limits.Config{MaxSeries: 2, Walk: idx.Walk, Logger: quiet})
	// One shard: names meet the limits in the order they were sent.
	c, err := New(rec, idx, Options{Shards: 1, FlushInterval: time.Hour, Step: step10, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	addAll(c, []string{"old.a", "new.a", "new.b", "new.c"}, 3)
	c.Sync()
	// new.a takes the second place; new.b and new.c are over the cap.
	addAll(c, []string{"old.a", "new.a", "new.d"}, 1)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.points["old.a"]) != 4 || len(rec.points["new.a"]) != 4 || len(rec.points) != 2 {
		t.Fatalf("written = %v; want old.a and new.a with 4 points each", rec.points)
	}
	if got := lim.DroppedPoints(limits.MaxSeries); got != 7 {
		t.Errorf("points dropped by max_series = %d; want 7 (new.b, new.c x 3, new.d x 1)", got)
	}
	if got := lim.Rejected(limits.MaxSeries); got != 7 {
		t.Errorf("rejections = %d; want 7 (each point of a rejected name is asked again)", got)
	}
	if idx.Has("new.b") || idx.Len() != 2 {
		t.Errorf("index holds %d names (new.b: %v); want old.a and new.a only", idx.Len(), idx.Has("new.b"))
	}
	if st := c.Stats(); st.Series != 2 || st.Committed != 8 || st.Buffered != 0 {
		t.Errorf("stats = %+v", st)
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCreateRateDefersAndKeepsPoints(t *testing.T) {
	rec := newRecorder()
	idx := index.New()
	clk := &clock{t: time.Unix(1e9, 0)}
	lim := limits.New(limits.Config{MaxCreates: 1, CreateWindow: time.Minute, Now: clk.now, Logger: quiet})
	c, err := New(rec, idx, Options{Shards: 1, FlushInterval: time.Hour, Step: step10, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	addAll(c, []string{"a", "b", "c"}, 2)
	c.Sync()
	st := c.Stats()
	if len(rec.points) != 1 || len(rec.points["a"]) != 2 || st.Deferred != 2 || st.DeferredPoints != 4 || st.Buffered != 0 {
		t.Fatalf("after one create: written %v, stats %+v; want a written, b and c deferred with 4 points", rec.points, st)
	}
	if idx.Has("b") || !idx.Has("a") {
		t.Error("a deferred series is in the index (find would list it before it exists)")
	}
	// Queries see the deferred points (as carbonlink shows carbon's cache).
	if got := c.Buffered("b", nil); len(got) != 2 || got[1] != (storage.Point{Timestamp: 1010, Value: 1}) {
		t.Errorf("Buffered(b) = %v", got)
	}
	addAll(c, []string{"b"}, 1) // more points wait with the others
	clk.add(time.Minute)        // one more create
	c.Sync()
	if len(rec.points["b"]) != 3 || rec.points["c"] != nil || lim.Rejected(limits.CreateRate) != 2 {
		t.Fatalf("after a minute: written %v, deferrals %d; want b's 3 points written, c still deferred, 2 deferrals", rec.points, lim.Rejected(limits.CreateRate))
	}
	// Close writes what was accepted, past the rate.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rec.points["c"]) != 2 || c.Stats().Deferred != 0 || c.Stats().DeferredPoints != 0 {
		t.Errorf("after Close: written %v, stats %+v", rec.points, c.Stats())
	}
}

func TestDeferredPointsAreBounded(t *testing.T) {
	rec := newRecorder()
	lim := limits.New(limits.Config{MaxCreates: 1, CreateWindow: time.Hour, Logger: quiet})
	c, err := New(rec, index.New(), Options{Shards: 1, FlushInterval: time.Hour, Step: step10, Limits: lim, MaxDeferredPoints: 5})
	if err != nil {
		t.Fatal(err)
	}
	addAll(c, []string{"a", "b", "c", "d"}, 3) // a admitted; 9 points of b, c, d over 5 deferred
	c.Sync()
	if st := c.Stats(); st.DeferredPoints != 5 || lim.DroppedPoints(limits.DeferredFull) != 4 {
		t.Fatalf("stats %+v, dropped %d; want 5 deferred points and 4 dropped", st, lim.DroppedPoints(limits.DeferredFull))
	}
	c.Close()
	total := 0
	for _, p := range rec.points {
		total += len(p)
	}
	if total != 3+5 {
		t.Errorf("written %d points; want 8", total)
	}
}

func TestQuotaThroughputDropsPointsOfTheNamespace(t *testing.T) {
	rules, _, err := limits.ParseQuotas(strings.NewReader("[busy]\nthroughput = 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	lim := limits.New(limits.Config{Rules: rules, ThroughputWindow: time.Hour, Logger: quiet})
	c, err := New(rec, index.New(), Options{Shards: 1, FlushInterval: time.Hour, Step: step10, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	addAll(c, []string{"busy.a", "busy.b", "calm.a"}, 4)
	c.Close()
	if n := len(rec.points["busy.a"]) + len(rec.points["busy.b"]); n != 5 || len(rec.points["calm.a"]) != 4 {
		t.Errorf("written %v; want 5 points of busy.* and calm.a's 4", rec.points)
	}
	if got := lim.DroppedPoints(limits.QuotaThroughput); got != 3 {
		t.Errorf("throughput drops = %d; want 3", got)
	}
}

// TestQuotaBindsAgainAfterReload: series are bound to their throughput
// quotas once per rules generation; only a series a quota applies to
// keeps out-of-line state for it, and a reload that adds a quota reaches
// series already bound to none.
func TestQuotaBindsAgainAfterReload(t *testing.T) {
	rec := newRecorder()
	lim := limits.New(limits.Config{ThroughputWindow: time.Hour, Logger: quiet})
	c, err := New(rec, index.New(), Options{Shards: 1, FlushInterval: time.Hour, IdleSeriesAfter: -1, Step: step10, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rare := func(name string) *seriesRare {
		sh := c.shards[0]
		sh.mu.Lock()
		defer sh.mu.Unlock()
		s := sh.series.get(name)
		if s == nil || !s.is(bound) {
			t.Fatalf("%s: series %v not bound", name, s)
		}
		return s.x
	}
	addAll(c, []string{"busy.a", "calm.a"}, 3)
	c.Sync()
	if rare("busy.a") != nil || rare("calm.a") != nil {
		t.Fatal("series without a quota keep out-of-line state")
	}
	rules, _, err := limits.ParseQuotas(strings.NewReader("[busy]\nthroughput = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	lim.SetRules(rules)
	p := c.NewProducer()
	for i := range 3 {
		p.AddPoint([]byte("busy.a"), int64(2000+10*i), 1)
		p.AddPoint([]byte("calm.a"), int64(2000+10*i), 1)
	}
	p.Flush()
	c.Sync()
	if got := lim.DroppedPoints(limits.QuotaThroughput); got != 1 {
		t.Errorf("throughput drops after the reload = %d; want 1 (busy.a: 3 points, quota 2)", got)
	}
	if x := rare("busy.a"); x == nil || x.bind == nil {
		t.Errorf("busy.a not bound to its quota after the reload")
	}
	if rare("calm.a") != nil {
		t.Errorf("calm.a keeps out-of-line state without a quota")
	}
	if n := len(rec.points["busy.a"]); n != 3+2 {
		t.Errorf("busy.a: %d points written; want 5", n)
	}
}

func TestMaxUpdatesPerSecondPutsOffWrites(t *testing.T) {
	rec := &seriesPerWrite{}
	c, err := New(rec, nil, Options{Shards: 1, FlushInterval: 5 * time.Millisecond, Step: step10, MaxUpdatesPerSecond: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; i < 10; i++ {
		names = append(names, "m"+strconv.Itoa(i))
	}
	addAll(c, names, 1)
	deadline := time.Now().Add(time.Minute)
	for c.Stats().Throttled == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c.Close() // writes the rest at once
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.sizes) == 0 || rec.sizes[0] > 2 || rec.total != 10 || c.Stats().Throttled == 0 {
		t.Errorf("series per write %v (total %d), throttled %d; want the first write at most 2 series, all 10 written by Close",
			rec.sizes, rec.total, c.Stats().Throttled)
	}
}

type seriesPerWrite struct {
	mu    sync.Mutex
	sizes []int
	total int
}

func (r *seriesPerWrite) Write(b *storage.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sizes = append(r.sizes, len(b.Series))
	r.total += len(b.Series)
	return nil
}
func (r *seriesPerWrite) Fetch(string, int64, int64, int64) (*storage.Series, error) {
	return nil, storage.ErrNotFound
}
func (r *seriesPerWrite) Find(string) ([]storage.Node, error) { return nil, nil }
func (r *seriesPerWrite) Close() error                        { return nil }
