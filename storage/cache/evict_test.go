package cache

import (
	"hash/maphash"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/plumbago/plumbago/storage"
)

// TestIdleSeriesForgotten: series that take no point for IdleSeriesAfter
// leave the shard (Stats.Series, Stats.IdleEvicted) while a series still
// fed stays; a point for a forgotten series files it again and is written.
func TestIdleSeriesForgotten(t *testing.T) {
	rec := newRecorder()
	var forgot atomic.Int64
	c, err := New(rec, nil, Options{Shards: 2, FlushInterval: 5 * time.Millisecond, IdleSeriesAfter: 100 * time.Millisecond, Step: step10,
		OnIdleForget: func(n int) { forgot.Add(int64(n)) }})
	if err != nil {
		t.Fatal(err)
	}
	p := c.NewProducer()
	p.AddPoint([]byte("idle.a"), 1000, 1)
	p.AddPoint([]byte("idle.b"), 1000, 2)
	p.AddPoint([]byte("busy"), 1000, 3)
	p.Flush()
	c.Sync()
	if st := c.Stats(); st.Series != 3 || st.IdleEvicted != 0 {
		t.Fatalf("after the first points: series %d, evicted %d; want 3, 0", st.Series, st.IdleEvicted)
	}
	ts := int64(1010)
	deadline := time.Now().Add(30 * time.Second)
	for c.Stats().IdleEvicted < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("idle series not forgotten within 30 s: %+v", c.Stats())
		}
		p.AddPoint([]byte("busy"), ts, 4)
		p.Flush()
		ts += 10
		time.Sleep(5 * time.Millisecond) // pacing the busy source, not synchronisation
	}
	st := c.Stats()
	if st.Series != 1 || st.IdleEvicted != 2 {
		t.Fatalf("after the sweep: series %d, evicted %d; want 1 (busy), 2", st.Series, st.IdleEvicted)
	}
	if n := forgot.Load(); n != 2 {
		t.Fatalf("OnIdleForget told of %d series, want 2", n)
	}
	if got := c.Buffered("idle.a", nil); len(got) != 0 {
		t.Fatalf("forgotten series still buffers %v", got)
	}
	p.AddPoint([]byte("idle.a"), 2000, 5)
	p.Flush()
	c.Sync()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	want := []storage.Point{{Timestamp: 1000, Value: 1}, {Timestamp: 2000, Value: 5}}
	got := rec.points["idle.a"]
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("idle.a written %v, want %v", got, want)
	}
	if st := c.Stats(); st.Received != st.Committed || st.Buffered != 0 {
		t.Fatalf("received %d, committed %d, buffered %d", st.Received, st.Committed, st.Buffered)
	}
}

// TestSweepKeepsSeriesInUse: a sweep forgets only series two epochs old
// holding nothing; points pending or being written, a series waiting for
// the store, for the creation rate or for a retry keep theirs.
func TestSweepKeepsSeriesInUse(t *testing.T) {
	sh := &shard{series: newSeriesMap(maphash.MakeSeed()), epoch: 5}
	pending, flushing := &series{}, &series{}
	pending.appendPoint(1, 1)
	flushing.appendPoint(1, 1)
	flushing.startFlush()
	cases := map[string]*series{
		"old.idle":      {touched: 3},
		"recent.idle":   {touched: 4},
		"old.pending":   {touched: 3, buf: pending.buf, split: pending.split, flags: dirty | unwritten},
		"old.flushing":  {touched: 3, buf: flushing.buf, split: flushing.split, flags: unwritten},
		"old.waiting":   {touched: 3, flags: waiting},
		"old.deferred":  {touched: 3, flags: deferred},
		"old.retrying":  {touched: 3, x: &seriesRare{failures: 1}},
		"old.unwritten": {touched: 3, flags: unwritten},
	}
	for name, s := range cases {
		s.name = name
		sh.series.put(s)
	}
	if n := sh.sweepIdle(); n != 1 {
		t.Fatalf("sweep forgot %d series, want 1", n)
	}
	if sh.series.get("old.idle") != nil {
		t.Fatal("old.idle kept")
	}
	if sh.series.len() != len(cases)-1 || sh.epoch != 6 || sh.evicted != 1 {
		t.Fatalf("kept %d series, epoch %d, evicted %d; want %d, 6, 1", sh.series.len(), sh.epoch, sh.evicted, len(cases)-1)
	}
	// One epoch later recent.idle is two behind too.
	if n := sh.sweepIdle(); n != 1 {
		t.Fatalf("second sweep forgot %d series, want 1 (recent.idle)", n)
	}
}

// TestSeriesStructSize keeps a buffered series in the runtime's 64-byte
// size class: after a burst of a million series each byte over it costs
// 16 more (the next class is 80).
func TestSeriesStructSize(t *testing.T) {
	if got := unsafe.Sizeof(series{}); got != seriesStructBytes {
		t.Fatalf("series is %d bytes, want %d (reorder its fields so it packs)", got, seriesStructBytes)
	}
}
