package index

import (
	"errors"
	"fmt"
	"testing"

	"github.com/plumbago/plumbago/storage"
)

// TestFindLimitStopsTheWalk: on an index of 20,200 nodes, a find or
// expand bounded at 100 results fails with ErrTooManyResults at the 101st
// result, having looked at under a tenth of the nodes the unbounded walk
// looks at (the walk stops; nothing past the limit is built), for globs,
// braces and globstars; at or under the limit the results are complete.
func TestFindLimitStopsTheWalk(t *testing.T) {
	x := New()
	for i := 0; i < 200; i++ {
		for j := 0; j < 100; j++ {
			x.Add(fmt.Sprintf("big.n%03d.m%03d", i, j))
		}
	}
	x.Add("small.a")
	x.Add("small.b")
	for _, c := range []struct {
		pattern    string
		leavesOnly bool
	}{
		{"big.*.*", false}, {"big.*.*", true}, {"big.**", false}, {"big.**", true}, {"**.m00*", true}, {"big.{n001,n1*}.*", false},
	} {
		f, err := x.run(c.pattern, c.leavesOnly, 100)
		if !errors.Is(err, storage.ErrTooManyResults) || f != nil {
			t.Fatalf("run(%q, leaves %v, 100) = %v, %v; want ErrTooManyResults", c.pattern, c.leavesOnly, f, err)
		}
		// Count the nodes the stopped walk looked at (run returns no
		// finder on error): the same walk again, bounded and not.
		walk := func(limit int) *finder {
			segs, _, _ := compilePattern(c.pattern)
			g := &finder{s: &x.store, segs: segs, leavesOnly: c.leavesOnly, limit: limit}
			stars := 0
			for i := range segs {
				if segs[i].globstar {
					stars++
				}
			}
			if stars > 1 {
				g.visited = map[visitKey]struct{}{}
			}
			g.visit(&x.store.root, 0, nil)
			return g
		}
		bounded, all := walk(100), walk(0)
		if !errors.Is(bounded.err, storage.ErrTooManyResults) || bounded.results != 101 {
			t.Fatalf("%q: err %v after %d results; want ErrTooManyResults after 101", c.pattern, bounded.err, bounded.results)
		}
		if all.err != nil || all.results < 1000 {
			t.Fatalf("%q unbounded: %d results, %v", c.pattern, all.results, all.err)
		}
		// The walk stops at the limit: it looks at a small part of what
		// the unbounded walk does (20,000+ nodes).
		if bounded.steps*10 > all.steps {
			t.Fatalf("%q: the bounded walk looked at %d nodes, the unbounded one %d; want under a tenth", c.pattern, bounded.steps, all.steps)
		}
	}
	if _, err := x.FindLimit("big.*.*", 100); !errors.Is(err, storage.ErrTooManyResults) {
		t.Fatalf("FindLimit over the limit = %v; want ErrTooManyResults", err)
	}
	if _, err := x.ExpandLimit("big.n001.*", 99); !errors.Is(err, storage.ErrTooManyResults) {
		t.Fatalf("ExpandLimit(100 names, 99) = %v; want ErrTooManyResults", err)
	}
	names, err := x.ExpandLimit("big.n001.*", 100)
	if err != nil || len(names) != 100 || names[0] != "big.n001.m000" || names[99] != "big.n001.m099" {
		t.Fatalf("ExpandLimit(100 names, 100) = %d names (%v); want all 100", len(names), err)
	}
	nodes, err := x.FindLimit("small.*", 2)
	if err != nil || fmt.Sprint(nodes) != fmt.Sprint([]storage.Node{{Path: "small.a", Leaf: true}, {Path: "small.b", Leaf: true}}) {
		t.Fatalf("FindLimit(small.*, 2) = %v, %v", nodes, err)
	}
}
