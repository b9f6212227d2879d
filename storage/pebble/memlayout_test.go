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
	if got := unsafe.Sizeof(series{}); got != 40 {
		t.Errorf("series is %d bytes, want 40", got)
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

// TestSeriesTailList checks the tails a series points at are the ones set,
// one per lower archive, and that a single-archive series has none.
func TestSeriesTailList(t *testing.T) {
	var w writer
	three := &seriesSchema{archives: make([]archive, 3)}
	ser := &series{schema: three}
	if ser.tailList() != nil {
		t.Fatal("tails before any were set")
	}
	ts := w.freshTails(2)
	ser.setTails(ts)
	got := ser.tailList()
	if len(got) != 2 || &got[0] != &ts[0] || &got[1] != &ts[1] {
		t.Fatalf("tailList %p len %d, want %p len 2", got, len(got), ts)
	}
	one := &series{schema: &seriesSchema{archives: make([]archive, 1)}}
	one.setTails(w.freshTails(0))
	if one.tails != nil || one.tailList() != nil {
		t.Fatal("a single-archive series got tails")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("setTails took tails of the wrong count")
		}
	}()
	ser.setTails(w.freshTails(1))
}
