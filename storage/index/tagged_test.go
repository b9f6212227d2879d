package index

import (
	"slices"
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
	x.Add("mem.free;host=b")
	// The index's tag index is the one index of tagged names: what Add
	// took, seriesByTag finds.
	got, err := x.Tags().FindSeries([]string{"host=~[ab]"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cpu.load;host=a;dc=x", "mem.free;host=b"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tags().FindSeries = %q; want %q", got, want)
	}
	if !x.Delete("mem.free;host=b") || x.Has("mem.free;host=b") || x.TaggedLen() != 1 {
		t.Fatal("Delete of a tagged name")
	}
	if got, _ := x.Tags().FindSeries([]string{"host=~[ab]"}); !slices.Equal(got, want[:1]) {
		t.Fatalf("after Delete, FindSeries = %q; want %q", got, want[:1])
	}
}
