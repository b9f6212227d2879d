package index

import (
	"slices"
	"strings"
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

// FuzzAddBatch: a batch (sorted, as at start-up, or in the input's order)
// gives the same tree and count as one Add per name. The input is names
// separated by newlines; the prefix reuse between neighbours must never
// file a name under the wrong node.
func FuzzAddBatch(f *testing.F) {
	for _, s := range []string{
		"a.b.c\na.b.d\na.bc\na\na.b\na.b.c.d",
		"app19.host099.cpu9.m42\napp19.host099.cpu9.m43\napp19.host1.x\napp2",
		"x.y\nx.y\nx.yz.w\nx\n.x\ny.\np..q\nt;k=v",
		"a.b.c.d.e\na.b\na.b.c\nb.b.c",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, sorted bool) {
		if len(in) > 1<<14 {
			return
		}
		names := strings.Split(in, "\n")
		if sorted {
			slices.Sort(names)
		}
		one, batch := New(), New()
		want := 0
		for _, n := range names {
			if one.Add(n) {
				want++
			}
		}
		if got := batch.AddBatch(names); got != want {
			t.Fatalf("AddBatch added %d, one Add each %d", got, want)
		}
		if batch.Len() != one.Len() {
			t.Fatalf("Len %d, want %d", batch.Len(), one.Len())
		}
		all := func(x *Index) []string {
			var out []string
			x.Walk(func(n string) bool { out = append(out, n); return true })
			slices.Sort(out)
			return out
		}
		if g, w := all(batch), all(one); !slices.Equal(g, w) {
			t.Fatalf("names %q, want %q", g, w)
		}
		for _, n := range names {
			if batch.Has(n) != one.Has(n) {
				t.Fatalf("Has(%q) = %v, one Add each %v", n, batch.Has(n), one.Has(n))
			}
		}
	})
}
