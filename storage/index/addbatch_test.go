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
	if got, want := sortedLeaves(x), []string{"a", "a.b.c", "a.b.d", "a.bc"}; !slices.Equal(got, want) {
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
		if g, w := sortedLeaves(batch), sortedLeaves(one); !slices.Equal(g, w) {
			t.Fatalf("names %q, want %q", g, w)
		}
		for _, n := range names {
			if batch.Has(n) != one.Has(n) {
				t.Fatalf("Has(%q) = %v, one Add each %v", n, batch.Has(n), one.Has(n))
			}
		}
	})
}

// TestAddNew: each name is offered once, with known when it is a leaf
// already (tagged: in the tag index); refused names are not added (a
// later duplicate is offered again as not known), accepted ones are, and
// a known name is never added again whatever file returns. Invalid names
// are offered as not known and never added.
func TestAddNew(t *testing.T) {
	x := New()
	x.Add("a.b.c")
	x.Add("t;k=v")
	x.Add("a.b.c.d") // a.b.c is a leaf and a branch
	names := []string{"a.b.c", "a.b", "a.b.e", "a.b.e", "r.s", "r.s", "p..q", "t;k=v", "t;k=w", "a.b.c.d", "z"}
	refuse := map[string]bool{"r.s": true, "z": true}
	var offered []string
	got := x.AddNew(names, func(i int, known bool) bool {
		offered = append(offered, names[i]+map[bool]string{true: "=known", false: "=new"}[known])
		return !refuse[names[i]]
	})
	want := []string{"a.b.c=known", "a.b=new", "a.b.e=new", "a.b.e=known", "r.s=new", "r.s=new",
		"p..q=new", "t;k=v=known", "t;k=w=new", "a.b.c.d=known", "z=new"}
	if !slices.Equal(offered, want) {
		t.Fatalf("offered %q\nwant    %q", offered, want)
	}
	if got != 3 { // a.b, a.b.e, t;k=w
		t.Fatalf("AddNew added %d, want 3", got)
	}
	if x.Len() != 4 {
		t.Fatalf("Len %d, want 4", x.Len())
	}
	if leaves, w := sortedLeaves(x), []string{"a.b", "a.b.c", "a.b.c.d", "a.b.e"}; !slices.Equal(leaves, w) {
		t.Fatalf("leaves %q, want %q", leaves, w)
	}
	// A refused name leaves no node behind: find does not list "r".
	if nodes, err := x.Find("*"); err != nil || len(nodes) != 1 || nodes[0].Path != "a" {
		t.Fatalf("Find(*) = %v, %v; want only a", nodes, err)
	}
	if tg, err := x.FindTagged([]string{"k=w"}); err != nil || !slices.Equal(tg, []string{"t;k=w"}) {
		t.Fatalf("tagged k=w: %v, %v", tg, err)
	}
}

// sortedLeaves is every leaf name of x, sorted.
func sortedLeaves(x *Index) []string {
	var out []string
	x.Walk(func(n string) bool { out = append(out, n); return true })
	slices.Sort(out)
	return out
}

// FuzzAddNew: AddNew accepting the names a rule picks gives the tree of
// one Add per accepted name that Has did not report, and offers a name as
// known exactly when Has would have said so at that point. The input is
// names separated by newlines; accept is a bit mask over their positions.
func FuzzAddNew(f *testing.F) {
	for _, s := range []string{
		"a.b.c\na.b.d\na.bc\na\na.b\na.b.c.d",
		"x.y\nx.y\nx.yz.w\nx\n.x\ny.\np..q\nt;k=v\nt;k=v",
		"a.b.c.d.e\na.b\na.b.c\nb.b.c\na.b",
		"app.h1.cpu\napp.h1.mem\napp.h2.cpu\napp.h1x.cpu\napp\napp.h1.cpu.x\napp.h1.cpu.y\napp.h1",
	} {
		f.Add(s, uint64(0xffff))
		f.Add(s, uint64(0x5555))
	}
	f.Fuzz(func(t *testing.T, in string, accept uint64) {
		if len(in) > 1<<14 {
			return
		}
		names := strings.Split(in, "\n")
		one, x := New(), New()
		want := 0
		var wantKnown []bool
		for i, n := range names {
			known := one.Has(n)
			wantKnown = append(wantKnown, known)
			if !known && accept&(1<<(i%64)) != 0 && one.Add(n) {
				want++
			}
		}
		var gotKnown []bool
		got := x.AddNew(names, func(i int, known bool) bool {
			gotKnown = append(gotKnown, known)
			return accept&(1<<(i%64)) != 0
		})
		if !slices.Equal(gotKnown, wantKnown) {
			t.Fatalf("known %v, Has said %v", gotKnown, wantKnown)
		}
		if got != want || x.Len() != one.Len() || x.TaggedLen() != one.TaggedLen() {
			t.Fatalf("added %d (Len %d, tagged %d), want %d (%d, %d)", got, x.Len(), x.TaggedLen(), want, one.Len(), one.TaggedLen())
		}
		if g, w := sortedLeaves(x), sortedLeaves(one); !slices.Equal(g, w) {
			t.Fatalf("names %q, want %q", g, w)
		}
		// A refused name leaves no node behind.
		if g, w := x.store.used-uint32(len(x.store.freeNodes)), one.store.used-uint32(len(one.store.freeNodes)); g != w {
			t.Fatalf("%d nodes, want %d", g, w)
		}
	})
}
