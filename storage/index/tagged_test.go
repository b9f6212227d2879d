package index

import (
	"slices"
	"sync"
	"testing"
)

func TestTaggedNamesKeptApartAndPublished(t *testing.T) {
	x := New()
	if !x.Add("cpu.load;host=a;dc=x") || x.Add("cpu.load;host=a;dc=x") {
		t.Fatal("Add of a tagged name: want true, then false for the duplicate")
	}
	x.Add("plain.metric")
	if x.Len() != 1 || x.TaggedLen() != 1 {
		t.Fatalf("Len = %d, TaggedLen = %d; want 1 and 1", x.Len(), x.TaggedLen())
	}
	if !x.Has("cpu.load;host=a;dc=x") || x.Has("cpu.load;host=b") {
		t.Fatal("Has of tagged names")
	}
	// Tagged names are not in the tree: find does not list them.
	nodes, err := x.Find("*")
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Path != "plain" {
		t.Fatalf("Find(*) = %v; want only plain", nodes)
	}
	var mu sync.Mutex
	var got []string
	x.OnTagged(func(n string) { mu.Lock(); got = append(got, n); mu.Unlock() })
	x.Add("mem.free;host=b")
	x.Add("mem.free;host=b")
	slices.Sort(got)
	want := []string{"cpu.load;host=a;dc=x", "mem.free;host=b"}
	if !slices.Equal(got, want) {
		t.Fatalf("OnTagged saw %q; want %q (existing, then new, each once)", got, want)
	}
	if !x.Delete("mem.free;host=b") || x.Has("mem.free;host=b") || x.TaggedLen() != 1 {
		t.Fatal("Delete of a tagged name")
	}
	want = want[:1]
	var walked []string
	x.WalkTagged(func(n string) bool { walked = append(walked, n); return true })
	slices.Sort(walked)
	if !slices.Equal(walked, want) {
		t.Fatalf("WalkTagged = %q; want %q", walked, want)
	}
}
