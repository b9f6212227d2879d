package storage

import "testing"

// TestValuesReuse: GetValues answers n values with room rounded up to
// the grain; a buffer handed back is answered again for a size of its
// class (sync.Pool may drop it at a garbage collection, so only the
// capacity is asserted then); other slices and large sizes are not kept.
func TestValuesReuse(t *testing.T) {
	for _, c := range []struct{ n, cap int }{{1, 256}, {256, 256}, {257, 512}, {2160, 2304}, {2190, 2304}, {4096, 4096}, {4097, 4097}, {0, 0}} {
		v := GetValues(c.n)
		if len(v) != c.n || cap(v) != c.cap {
			t.Fatalf("GetValues(%d): len %d cap %d, want cap %d", c.n, len(v), cap(v), c.cap)
		}
		PutValues(v)
	}
	v := GetValues(2160)
	v[0] = 42
	PutValues(v)
	w := GetValues(2200)
	if len(w) != 2200 || cap(w) != 2304 {
		t.Fatalf("len %d cap %d", len(w), cap(w))
	}
	PutValues(make([]float64, 100, 300)) // not a pooled capacity: ignored
	if u := GetValues(290); cap(u) != 512 {
		t.Fatalf("cap %d", cap(u))
	}
}
