package statsd

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// newFlusherLoop returns a Flusher and a Loop of the default config.
func newFlusherLoop(t *testing.T) (*Flusher, *Loop) {
	t.Helper()
	cfg := DefaultConfig()
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	return f, NewLoop(&cfg)
}

// TestNegativeZeroFlushesAsZero: etsy prints a -0 sample or gauge as 0 in
// what it sends to carbon, so the stored value is 0, not -0.
func TestNegativeZeroFlushesAsZero(t *testing.T) {
	f, l := newFlusherLoop(t)
	l.HandlePacket([]byte("t:-0|ms\ng:-0|g\nh:0|g\nh:-0|g"))
	got := flushOnce(t, f, t0.Add(10*time.Second), l.Swap())
	for _, name := range []string{"stats.timers.t.upper", "stats.timers.t.lower", "stats.timers.t.mean", "stats.timers.t.median",
		"stats.timers.t.sum", "stats.timers.t.upper_90", "stats.gauges.g", "stats.gauges.h"} {
		v, ok := got[name]
		if !ok {
			t.Errorf("%s not flushed", name)
			continue
		}
		if v != 0 || math.Signbit(v) {
			t.Errorf("%s = %v (sign bit %v); want 0", name, v, math.Signbit(v))
		}
	}
	for name, v := range got {
		if v == 0 && math.Signbit(v) {
			t.Errorf("%s flushed as -0", name)
		}
	}
}

// A flush of many counters gives the only P to a goroutine that waits for
// it (a UDP reader) before the flush ends: without the flush's yields
// the goroutine would run only after it, or after sysmon's 10 ms.
func TestFlushYieldsToWaitingGoroutine(t *testing.T) {
	f, l := newFlusherLoop(t)
	const counters = 10000
	var pkt []byte
	for i := 0; i < counters; i++ {
		pkt = fmt.Appendf(pkt, "c%d:1|c\n", i)
		if i%100 == 99 {
			l.HandlePacket(pkt[:len(pkt)-1])
			pkt = pkt[:0]
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var inFlush, ranDuring atomic.Bool
	done := make(chan struct{})
	emitted := 0
	inFlush.Store(true)
	go func() { ranDuring.Store(inFlush.Load()); close(done) }()
	f.Flush([]*Snapshot{l.Swap()}, t0.Add(10*time.Second), sinkFunc(func([]byte, int64, float64) { emitted++ }))
	inFlush.Store(false)
	<-done
	if want := 2*(counters+3) + 7; emitted != want { // rate and count of each and of statsd's 3 counters, numStats, 6 self-metrics
		t.Errorf("emitted %d points, want %d", emitted, want)
	}
	if !ranDuring.Load() {
		t.Error("the waiting goroutine ran only after the flush")
	}
}
