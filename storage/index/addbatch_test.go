package index

import (
	"slices"
	"testing"
)

// TestAddBatch: AddBatch keeps Add's rules (invalid names ignored, tagged
// names in the tag index, a name present already not counted) and returns
// the number of new names.
func TestAddBatch(t *testing.T) {
	x := New()
	x.Add("a.b.c")
	names := []string{"a.b.c", "a.b.d", "a.bc", "a", "", ".x", "y.", "p..q", "t;k=v", "t;k=w", "a.b.d"}
	if got := x.AddBatch(names); got != 5 { // a.b.d, a.bc, a, t;k=v, t;k=w
		t.Fatalf("AddBatch added %d, want 5", got)
	}
	if x.Len() != 4 {
		t.Fatalf("Len %d, want 4", x.Len())
	}
	var got []string
	x.Walk(func(n string) bool { got = append(got, n); return true })
	slices.Sort(got)
	if want := []string{"a", "a.b.c", "a.b.d", "a.bc"}; !slices.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	if tg, err := x.FindTagged([]string{"k=w"}); err != nil || !slices.Equal(tg, []string{"t;k=w"}) {
		t.Fatalf("tagged k=w: %v, %v", tg, err)
	}
}
