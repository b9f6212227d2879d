package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

const mib = 1 << 20

func TestLimit(t *testing.T) {
	c := Config{Fraction: 0.25, Floor: 64 * mib, Cap: 20 << 30}
	for _, tc := range []struct {
		name string
		h    Heap
		want int64
	}{
		{"small heap: the floor", Heap{Live: 10 * mib}, 74 * mib},
		{"floor and quarter meet at 256 MiB", Heap{Live: 256 * mib}, 320 * mib},
		{"large heap: a quarter", Heap{Live: 400 * mib}, 500 * mib},
		{"memory outside the heap is added",
			Heap{Live: 400 * mib, Total: 700 * mib, Released: 100 * mib, Objects: 450 * mib, Unused: 20 * mib, Free: 110 * mib},
			520 * mib},
		{"inconsistent read: no negative outside", Heap{Live: 400 * mib, Total: 10 * mib, Objects: 450 * mib}, 500 * mib},
		{"capped", Heap{Live: 20 << 30}, 20 << 30},
	} {
		if got := c.Limit(tc.h, false); got != tc.want {
			t.Errorf("%s: Limit = %d MiB + %d, want %d MiB", tc.name, got/mib, got%mib, tc.want/mib)
		}
	}
	if got := (Config{Fraction: 0.25, Floor: 64 * mib}).Limit(Heap{Live: 1 << 40}, false); got != 1<<40+1<<38 {
		t.Errorf("no cap: Limit = %d, want %d", got, int64(1<<40+1<<38))
	}
}

// TestLimitGrowing: after a cycle that found the heap growing, the
// headroom is GrowthFloor from Floor to 3 × GrowthFloor of live heap, and
// the quarter or Floor elsewhere, so the goal never passes 4 × GrowthFloor
// there nor what it is without growth above.
func TestLimitGrowing(t *testing.T) {
	c := Config{Fraction: 0.25, Floor: 64 * mib, GrowthFloor: 128 * mib, Cap: 20 << 30}
	for _, tc := range []struct {
		name string
		live uint64
		want int64
	}{
		{"below Floor: Floor (GOGC paces there)", 40 * mib, 104 * mib},
		{"at Floor: the growth floor", 64 * mib, 192 * mib},
		{"where Floor and quarter meet", 256 * mib, 384 * mib},
		{"just below 3 × GrowthFloor", 383 * mib, 511 * mib},
		{"at 3 × GrowthFloor: a quarter", 384 * mib, 480 * mib},
		{"large heap: a quarter", 600 * mib, 750 * mib},
	} {
		if got := c.Limit(Heap{Live: tc.live}, true); got != tc.want {
			t.Errorf("%s: Limit = %d MiB + %d, want %d MiB", tc.name, got/mib, got%mib, tc.want/mib)
		}
	}
	if got := c.Limit(Heap{Live: 200 * mib}, false); got != 264*mib {
		t.Errorf("settled 200 MiB: Limit = %d MiB, want 264 MiB (Floor)", got/mib)
	}
	for _, tc := range []struct {
		prev, live uint64
		want       bool
	}{
		{100 * mib, 104 * mib, true},
		{100 * mib, 104*mib - 1, false},
		{100 * mib, 90 * mib, false},
		{0, 4 * mib, true},
	} {
		if got := c.Growing(tc.prev, tc.live); got != tc.want {
			t.Errorf("Growing(%d MiB, %d B) = %v, want %v", tc.prev/mib, tc.live, got, tc.want)
		}
	}
}

var retained []byte

// TestPacerFollowsCycles: after a cycle the runtime's limit is the one
// computed from what that cycle left live; Stop restores the cap.
func TestPacerFollowsCycles(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	const limitCap = 8 << 30
	debug.SetMemoryLimit(limitCap)
	retained = make([]byte, 96*mib)
	defer func() { retained = nil }()

	p := Start(Config{})
	if p.Limit() != limitCap {
		t.Fatalf("before a cycle: Limit %d, want the cap %d", p.Limit(), int64(limitCap))
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Cycles() < 2 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if p.Cycles() < 2 {
		t.Fatalf("pacer saw %d cycles after 10 s of runtime.GC", p.Cycles())
	}
	p.mu.Lock()
	h, l := p.last, debug.SetMemoryLimit(-1)
	p.mu.Unlock()
	// The last cycles found the same 96 MiB live: not growing.
	if l != p.Limit() || l != p.cfg.Limit(h, false) {
		t.Errorf("runtime limit %d, pacer's %d, computed from its last read %d: want all equal", l, p.Limit(), p.cfg.Limit(h, false))
	}
	if h.Live < 96*mib {
		t.Errorf("last cycle found %d bytes live, want at least the 96 MiB retained", h.Live)
	}
	// 96 MiB live: the headroom is the 64 MiB floor (a quarter is 24 MiB).
	if least := int64(h.Live + 64*mib); l < least || l >= limitCap {
		t.Errorf("limit %d MiB, want at least live + 64 MiB (%d MiB) and below the cap", l/mib, least/mib)
	}
	p.Stop()
	if got := debug.SetMemoryLimit(-1); got != limitCap {
		t.Errorf("after Stop the limit is %d, want the cap %d", got, int64(limitCap))
	}
	n := p.Cycles()
	runtime.GC()
	runtime.GC()
	if got := debug.SetMemoryLimit(-1); got != limitCap || p.Cycles() != n {
		t.Errorf("after Stop and two cycles: limit %d (want %d), cycles %d (want %d)", got, int64(limitCap), p.Cycles(), n)
	}
}
