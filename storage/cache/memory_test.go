package cache

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// sumHeld walks every shard and adds up what its series are charged: the
// value Stats.BufferedBytes must equal when nothing is in flight.
func sumHeld(c *Cache) int64 {
	var n int64
	for _, sh := range c.shards {
		sh.mu.Lock()
		sh.series.each(func(s *series) { n += held(s) })
		sh.mu.Unlock()
	}
	return n
}

// TestBufferedBytesAccounting follows Stats.BufferedBytes through
// buffering, a write, a Take and the idle sweep: at each step it equals
// the sum over the series holding unwritten points of their buffer's
// capacity, struct, name and map slot.
func TestBufferedBytesAccounting(t *testing.T) {
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 2, FlushInterval: time.Hour, IdleSeriesAfter: -1, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := c.NewProducer()
	// 7 points each, values 0..6 every 10 s from 100 (points.go): the
	// header (16 bytes), then 3 (tag, zigzag 100 in two bytes, value 0
	// equal to the run's start), 4 (tag, delta, two XOR bytes for 1.0 and
	// again for 2.0), 4, then 3 each for 3.0 to 6.0 (one XOR byte): 39
	// bytes, within the first buffer of 48.
	for i := range 7 {
		for m := range 10 {
			p.AddPoint([]byte("mem.series"+strconv.Itoa(m)), int64(100+10*i), float64(i))
		}
	}
	p.Flush()
	for end := time.Now().Add(30 * time.Second); c.Stats().Buffered != 70 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	// 10 series: a 48-byte buffer each plus the charge for a series
	// holding unwritten points (name "mem.seriesN" is 11 bytes).
	want := int64(10 * (48 + 64 + 32 + 11))
	if st := c.Stats(); st.Buffered != 70 || st.BufferedBytes != want || sumHeld(c) != want {
		t.Fatalf("buffered %d points, %d bytes (series sum %d); want 70 points, %d bytes", st.Buffered, st.BufferedBytes, sumHeld(c), want)
	}
	c.Sync()
	// Written and nothing pending: the 48-byte buffers are kept (at most
	// idleKeepBytes), and no series is charged any more.
	if st := c.Stats(); st.Buffered != 0 || st.BufferedBytes != 0 || sumHeld(c) != 0 {
		t.Fatalf("after Sync: buffered %d points, %d bytes (series sum %d); want 0, 0", st.Buffered, st.BufferedBytes, sumHeld(c))
	}
	// One point each, then written: the buffers are kept for the next
	// cycle but not charged.
	for m := range 10 {
		p.AddPoint([]byte("mem.series"+strconv.Itoa(m)), 200, 1)
	}
	p.Flush()
	c.Sync()
	if st := c.Stats(); st.BufferedBytes != 0 || sumHeld(c) != 0 {
		t.Fatalf("after a one-point cycle: %d bytes (series sum %d); want 0", st.BufferedBytes, sumHeld(c))
	}
	// Two more points on a series that kept its buffer: 16 + 5 (a run's
	// first point: tag, zigzag 210 in two bytes, two XOR bytes for 1.0) +
	// 2 (tag, delta, the same value) = 23 bytes in the kept 48; charged
	// that and the series.
	p.AddPoint([]byte("mem.series0"), 210, 1)
	p.AddPoint([]byte("mem.series0"), 220, 1)
	p.Flush()
	for end := time.Now().Add(30 * time.Second); c.Stats().Buffered != 2 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	want = 48 + 64 + 32 + 11
	if st, s := c.Stats(), sumHeld(c); st.BufferedBytes != want || s != want {
		t.Fatalf("after two more points: %d bytes (series sum %d); want %d", st.BufferedBytes, s, want)
	}
	if err := c.Pause(func() error { c.Take("mem.series0"); return nil }); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.BufferedBytes != 0 || sumHeld(c) != 0 {
		t.Fatalf("after Take: %d bytes (series sum %d); want 0", st.BufferedBytes, sumHeld(c))
	}
}

// TestBackpressureBoundsBytes: with a byte bound far below what a burst of
// new series would take, a slow backend paces the producer (it waits)
// and the buffer's bytes stay within the bound plus what one chunk can
// add; every point is written once, in order.
func TestBackpressureBoundsBytes(t *testing.T) {
	rec := newRecorder()
	rec.delay = 5 * time.Millisecond
	const chunkPoints = 16
	const bound = 8 << 10
	c, err := New(rec, nil, Options{Shards: 1, LaneChunks: 2, ChunkPoints: chunkPoints, MaxBufferedBytes: bound,
		MaxWritePoints: 64, FlushInterval: time.Hour, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	var maxSeen atomic.Int64
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if b := c.Stats().BufferedBytes; b > maxSeen.Load() {
				maxSeen.Store(b)
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	pr := c.NewProducer()
	const series, points = 500, 3
	for i := range points {
		for m := range series {
			pr.AddPoint([]byte("bp.s"+strconv.Itoa(m)), int64(100+10*i), float64(m))
		}
	}
	pr.Flush()
	c.Sync() // Close would take the lanes' last chunks past the bound
	close(done)
	<-watched
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for m := range series {
		name := "bp.s" + strconv.Itoa(m)
		got := rec.points[name]
		want := []storage.Point{{Timestamp: 100, Value: float64(m)}, {Timestamp: 110, Value: float64(m)}, {Timestamp: 120, Value: float64(m)}}
		if len(got) != points || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("%s written %v; want %v", name, got, want)
		}
	}
	// One chunk is taken while under the bound: at most chunkPoints new
	// series (charge + a first buffer each) past it.
	perNew := int64(seriesStructBytes + mapSlotBytes + len("bp.s499") + firstBufBytes)
	if limit := bound + chunkPoints*perNew; maxSeen.Load() > limit {
		t.Fatalf("buffer held %d bytes; bound %d plus one chunk = %d", maxSeen.Load(), bound, limit)
	}
	if st := c.Stats(); st.BlockedWaits == 0 || st.Committed != series*points {
		t.Fatalf("stats %+v: want the producer to have waited and %d points committed", st, series*points)
	}
}
