package index

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestNodeLayout pins the node at 12 bytes: a segment position and length,
// a child list number and the leaf flag, no pointers.
func TestNodeLayout(t *testing.T) {
	if got := unsafe.Sizeof(node{}); got != 12 {
		t.Fatalf("node is %d bytes, want 12", got)
	}
}

// TestDeletedNodesReused: deleting names gives their nodes and child lists
// back, and the next names take them instead of new ones.
func TestDeletedNodesReused(t *testing.T) {
	x := New()
	for h := range 10 {
		for m := range 300 {
			x.Add(fmt.Sprintf("reuse.h%d.m%d", h, m))
		}
	}
	s := &x.store
	used, lists := s.used, len(s.kids)
	if used != 1+10+3000 || lists != 2+10 {
		t.Fatalf("%d nodes, %d child lists; want 3011, 12 (the root's, reuse's, one a host)", used, lists)
	}
	for h := range 10 {
		for m := range 300 {
			if !x.Delete(fmt.Sprintf("reuse.h%d.m%d", h, m)) {
				t.Fatalf("Delete h%d.m%d", h, m)
			}
		}
	}
	if len(s.freeNodes) != 3011 || len(s.freeKids) != 12 || s.root.kids != 0 {
		t.Fatalf("after deletes: %d free nodes, %d free lists, root kids %d; want 3011, 12, 0", len(s.freeNodes), len(s.freeKids), s.root.kids)
	}
	for h := range 10 {
		for m := range 300 {
			if !x.Add(fmt.Sprintf("again.x%d.n%d", h, m)) {
				t.Fatalf("Add x%d.n%d", h, m)
			}
		}
	}
	if s.used != used || len(s.kids) != lists || len(s.freeNodes) != 0 || len(s.freeKids) != 0 {
		t.Fatalf("re-adding took %d nodes, %d lists (free %d, %d); want %d, %d (0, 0)", s.used, len(s.kids), len(s.freeNodes), len(s.freeKids), used, lists)
	}
	got, err := x.Expand("again.x9.n29?")
	if err != nil || len(got) != 10 || got[0] != "again.x9.n290" || got[9] != "again.x9.n299" {
		t.Fatalf("Expand after reuse = %v, %v", got, err)
	}
	if x.Has("reuse.h0.m0") || x.Len() != 3000 {
		t.Fatalf("Has(deleted) %v, Len %d", x.Has("reuse.h0.m0"), x.Len())
	}
}

// TestSegmentBytesFull: once every chunk a segment position can name is
// taken, a name whose new segments do not fit in the last chunk's rest is
// refused (Add false, nothing half inserted), one that fits is added.
func TestSegmentBytesFull(t *testing.T) {
	x := New()
	x.Add("full.a")
	s := &x.store
	for len(s.chunks) < maxSegChunks {
		s.chunks = append(s.chunks, nil) // positions only: never read
	}
	s.chunks[maxSegChunks-1] = new([segChunk]byte)
	s.chunkUsed = segChunk - 6
	if x.Add("full.toolong") || x.Has("full.toolong") || x.Len() != 1 {
		t.Fatalf("a name past the last chunk was added (Len %d)", x.Len())
	}
	if got, _ := x.Find("full.*"); len(got) != 1 || got[0].Path != "full.a" {
		t.Fatalf("Find after the refusal = %v", got)
	}
	if !x.Add("full.b") || !x.Has("full.b") || !x.Has("full.a") || x.Len() != 2 {
		t.Fatal("a name fitting the last chunk was refused")
	}
}
