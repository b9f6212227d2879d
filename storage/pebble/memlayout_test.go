package pebble

import (
	"math"
	"testing"
	"unsafe"
)

// TestPerSeriesStructSizes pins the bytes every stored series costs in the
// writer's structs (docs/pebble.md, "Memory"): a field added or reordered
// without a thought shows here.
func TestPerSeriesStructSizes(t *testing.T) {
	if got := unsafe.Sizeof(series{}); got != 56 {
		t.Errorf("series is %d bytes, want 56", got)
	}
	if got := unsafe.Sizeof(tail{}); got != 40 {
		t.Errorf("tail is %d bytes, want 40", got)
	}
}

// TestTailsFromSlab checks that tails carved from the writer's slab do not
// overlap, start as a fresh or unknown tail, and that a large count gets
// its own allocation.
func TestTailsFromSlab(t *testing.T) {
	var w writer
	a := w.freshTails(2)
	b := w.freshTails(3)
	if len(a) != 2 || cap(a) != 2 || len(b) != 3 || cap(b) != 3 {
		t.Fatalf("len/cap a %d/%d b %d/%d, want 2/2 3/3", len(a), cap(a), len(b), cap(b))
	}
	if &a[1] == &b[0] || uintptr(unsafe.Pointer(&b[0]))-uintptr(unsafe.Pointer(&a[0])) != 2*unsafe.Sizeof(tail{}) {
		t.Fatalf("b does not follow a in the slab")
	}
	for _, tl := range append(a, b...) {
		if tl != (tail{curL: math.MinInt64, end: math.MaxInt64}) || !tl.ok() {
			t.Fatalf("fresh tail %+v", tl)
		}
	}
	a[1].n = tailNotOK
	if b[0].n != 0 || a[1].ok() {
		t.Fatalf("tails share memory or ok() wrong: %+v %+v", a[1], b[0])
	}
	tl := tail{curL: 3600, n: 2, lastOff: 59}
	if tl.lastTs() != 3659 {
		t.Fatalf("lastTs %d, want 3659", tl.lastTs())
	}
	big := w.newTails(tailSlab/4 + 1)
	if len(big) != tailSlab/4+1 || len(w.tailSlab) != tailSlab-5 {
		t.Fatalf("big tails %d, slab left %d, want %d and %d", len(big), len(w.tailSlab), tailSlab/4+1, tailSlab-5)
	}
}
