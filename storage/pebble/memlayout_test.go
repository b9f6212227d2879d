package pebble

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"unsafe"
)

// TestPerSeriesStructSizes pins the bytes every stored series costs in the
// writer's structs (docs/pebble.md, "Memory"): a field added or reordered
// without a thought shows here. Neither holds a pointer: the chunks that
// hold one for every series are not scanned by the garbage collector.
func TestPerSeriesStructSizes(t *testing.T) {
	if got := unsafe.Sizeof(series{}); got != 32 {
		t.Errorf("series is %d bytes, want 32", got)
	}
	if got := unsafe.Sizeof(tail{}); got != 40 {
		t.Errorf("tail is %d bytes, want 40", got)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[series](), reflect.TypeFor[tail]()} {
		for i := range typ.NumField() {
			switch typ.Field(i).Type.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.String, reflect.Map, reflect.Interface, reflect.UnsafePointer:
				t.Errorf("%s.%s holds a pointer", typ.Name(), typ.Field(i).Name)
			}
		}
	}
}

// writerWith returns a writer of a store that knows schemas of 1 to 4
// archives (index = archives - 1).
func writerWith() (*writer, []*seriesSchema) {
	s := &Store{}
	var scs []*seriesSchema
	for n := 1; n <= 4; n++ {
		sc := &seriesSchema{archives: make([]archive, n)}
		s.addSchema(sc)
		scs = append(scs, sc)
	}
	s.w.init(s)
	return &s.w, scs
}

// TestTailsFromChunks checks that tails carved from the writer's chunks do
// not overlap, follow one another in a chunk, start zero, and that a large
// count gets a chunk of its own with the next small one after it in a new
// chunk.
func TestTailsFromChunks(t *testing.T) {
	w, scs := writerWith()
	a := &series{sch: scs[2].at} // two tails
	b := &series{sch: scs[3].at} // three
	w.ser, w.sc = a, scs[2]
	w.freshTails()
	w.ser, w.sc = b, scs[3]
	w.freshTails()
	if a.tails != 1 || b.tails != 3 || len(w.tailChunks) != 1 || w.tailUsed != 5 {
		t.Fatalf("refs a %d b %d, chunks %d used %d; want 1, 3, 1, 5", a.tails, b.tails, len(w.tailChunks), w.tailUsed)
	}
	ta, tb := w.tailsOf(a, scs[2]), w.tailsOf(b, scs[3])
	if len(ta) != 2 || cap(ta) != 2 || len(tb) != 3 || cap(tb) != 3 || &ta[1] == &tb[0] ||
		uintptr(unsafe.Pointer(&tb[0]))-uintptr(unsafe.Pointer(&ta[0])) != 2*unsafe.Sizeof(tail{}) {
		t.Fatalf("tails of b do not follow a's in the chunk")
	}
	for _, tl := range append(slices.Clone(ta), tb...) {
		if tl != (tail{curL: math.MinInt64, end: math.MaxInt64}) || !tl.ok() {
			t.Fatalf("fresh tail %+v", tl)
		}
	}
	ta[1].n = tailNotOK
	if tb[0].n != 0 || ta[1].ok() {
		t.Fatalf("tails share memory or ok() wrong: %+v %+v", ta[1], tb[0])
	}
	w.forgetTails(b)
	for _, tl := range w.tailsOf(b, scs[3]) {
		if tl != (tail{n: tailNotOK}) {
			t.Fatalf("forgotten tail %+v", tl)
		}
	}
	tl := tail{curL: 3600, n: 2, lastOff: 59}
	if tl.lastTs() != 3659 {
		t.Fatalf("lastTs %d, want 3659", tl.lastTs())
	}
	if r := w.newTails(tailChunk/4 + 1); r != 1<<tailShift+1 || len(w.tailChunks[1]) != tailChunk/4+1 {
		t.Fatalf("big tails: ref %d, chunk of %d", r, len(w.tailChunks[1]))
	}
	if r := w.newTails(1); r != 2<<tailShift+1 || len(w.tailChunks) != 3 {
		t.Fatalf("tails after a big count: ref %d in %d chunks", r, len(w.tailChunks))
	}
	if w.newTails(0) != 0 {
		t.Fatal("no tails got a ref")
	}
}

// TestSeriesTailList checks a series has no tails until the writer carves
// them, one per lower archive, and that a single-archive series has none.
func TestSeriesTailList(t *testing.T) {
	w, scs := writerWith()
	ser := &series{sch: scs[2].at}
	w.ser, w.sc = ser, scs[2]
	if w.tailList() != nil {
		t.Fatal("tails before any were set")
	}
	ts := w.ownTails()
	got := w.tailList()
	if len(got) != 2 || &got[0] != &ts[0] || &got[1] != &ts[1] || &w.ownTails()[0] != &ts[0] {
		t.Fatalf("tailList %p len %d, want %p len 2", got, len(got), ts)
	}
	one := &series{sch: scs[0].at}
	w.ser, w.sc = one, scs[0]
	w.freshTails()
	if one.tails != 0 || w.tailList() != nil {
		t.Fatal("a single-archive series got tails")
	}
}
