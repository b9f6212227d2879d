package index

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/storage"
)

func newIndex(names ...string) *Index {
	x := New()
	for _, n := range names {
		x.Add(n)
	}
	return x
}

var sample = []string{
	"app.host01.cpu.user",
	"app.host01.cpu.system",
	"app.host01.mem.free",
	"app.host02.cpu.user",
	"app.host02.mem.free",
	"app.host10.cpu.user",
	"app.count",
	"app.count.rate", // app.count is both a leaf and a branch
	"db.x",
	"é.ü",
}

func TestAddHasLenDelete(t *testing.T) {
	x := New()
	if !x.Add("a.b.c") {
		t.Fatal("first Add returned false")
	}
	if x.Add("a.b.c") {
		t.Fatal("second Add returned true")
	}
	if !x.AddBytes([]byte("a.b.d")) || x.AddBytes([]byte("a.b.d")) {
		t.Fatal("AddBytes new/existing")
	}
	if x.Len() != 2 {
		t.Fatalf("Len = %d, want 2", x.Len())
	}
	if !x.Has("a.b.c") || x.Has("a.b") || x.Has("a.b.c.d") || x.Has("a") {
		t.Fatal("Has wrong")
	}
	// A branch becomes a leaf too.
	if !x.Add("a.b") || !x.Has("a.b") || x.Len() != 3 {
		t.Fatal("Add of branch path")
	}
	for _, bad := range []string{"", ".", "a.", ".a", "a..b", string(make([]byte, MaxNameLen+1))} {
		if x.Add(bad) || x.Has(bad) || x.Delete(bad) {
			t.Errorf("invalid name %q accepted", bad)
		}
	}
	if x.Len() != 3 {
		t.Fatalf("Len = %d after invalid adds", x.Len())
	}
	if x.Delete("a.x") || x.Delete("a") {
		t.Fatal("Delete of absent name returned true")
	}
	if !x.Delete("a.b") || x.Has("a.b") || !x.Has("a.b.c") {
		t.Fatal("Delete of leaf+branch must keep children")
	}
	if !x.Delete("a.b.c") || !x.Delete("a.b.d") || x.Len() != 0 {
		t.Fatal("Delete leaves")
	}
	if x.store.root.kids != 0 {
		t.Fatal("empty branches not pruned")
	}
	if got, _ := x.Find("*"); len(got) != 0 {
		t.Fatalf("Find after delete = %v", got)
	}
}

func TestAddExistingNoAlloc(t *testing.T) {
	x := newIndex(sample...)
	b := []byte("app.host01.cpu.user")
	if n := testing.AllocsPerRun(100, func() { x.Add("app.host02.mem.free") }); n != 0 {
		t.Errorf("Add existing: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { x.AddBytes(b) }); n != 0 {
		t.Errorf("AddBytes existing: %v allocs", n)
	}
}

func TestAddBytesDoesNotRetain(t *testing.T) {
	x := New()
	b := []byte("aaa.bbb")
	x.AddBytes(b)
	copy(b, "zzz.zzz")
	if !x.Has("aaa.bbb") || x.Has("zzz.zzz") {
		t.Fatal("index retained caller's buffer")
	}
}

func nodesString(ns []storage.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		s := n.Path
		if n.Leaf {
			s += " L"
		}
		if n.Branch {
			s += " B"
		}
		out[i] = s
	}
	return out
}

func TestFind(t *testing.T) {
	x := newIndex(sample...)
	cases := map[string][]string{
		"":                         nil,
		"*":                        {"app B", "db B", "é B"},
		"app":                      {"app B"},
		"app.count":                {"app.count L B"},
		"app.count.rate":           {"app.count.rate L"},
		"app.nope":                 nil,
		"app.":                     nil,
		".app":                     nil,
		"app..count":               nil,
		"app.*":                    {"app.count L B", "app.host01 B", "app.host02 B", "app.host10 B"},
		"app.host0?":               {"app.host01 B", "app.host02 B"},
		"app.host0[2-9].*":         {"app.host02.cpu B", "app.host02.mem B"},
		"app.*.cpu.user":           {"app.host01.cpu.user L", "app.host02.cpu.user L", "app.host10.cpu.user L"},
		"app.*.*.free":             {"app.host01.mem.free L", "app.host02.mem.free L"},
		"app.host01.{cpu,mem}.*":   {"app.host01.cpu.system L", "app.host01.cpu.user L", "app.host01.mem.free L"},
		"app.{host01,host01}.mem":  {"app.host01.mem B"},
		"app.{host0*,count}":       {"app.count L B", "app.host01 B", "app.host02 B"},
		"app.host[!0]*":            {"app.host10 B"},
		"*.x":                      {"db.x L"},
		"é.?":                      {"é.ü L"},
		"app.host01.cpu.user.more": nil,
		"app.*.cpu.user*":          {"app.host01.cpu.user L", "app.host02.cpu.user L", "app.host10.cpu.user L"},
		// globstar, as graphite-web's standard finder: zero or more segments.
		"app.**.free":   {"app.host01.mem.free L", "app.host02.mem.free L"},
		"**.rate":       {"app.count.rate L"},
		"**.count":      {"app.count L B"},
		"app.host01.**": {"app.host01.cpu B", "app.host01.cpu.system L", "app.host01.cpu.user L", "app.host01.mem B", "app.host01.mem.free L"},
		"**.**.rate":    {"app.count.rate L"},
		"db.**":         {"db.x L"},
		"db.x.**":       nil,
	}
	for pat, want := range cases {
		got, err := x.Find(pat)
		if err != nil {
			t.Errorf("Find(%q): %v", pat, err)
			continue
		}
		if g := nodesString(got); !slices.Equal(g, want) {
			t.Errorf("Find(%q) = %q, want %q", pat, g, want)
		}
	}
}

func TestExpand(t *testing.T) {
	x := newIndex(sample...)
	cases := map[string][]string{
		"app.count":               {"app.count"},
		"app":                     nil,
		"app.host01":              nil,
		"app.*":                   {"app.count"},
		"app.*.cpu.*":             {"app.host01.cpu.system", "app.host01.cpu.user", "app.host02.cpu.user", "app.host10.cpu.user"},
		"app.host0{1,2}.mem.free": {"app.host01.mem.free", "app.host02.mem.free"},
		"app.**":                  {"app.count", "app.count.rate", "app.host01.cpu.system", "app.host01.cpu.user", "app.host01.mem.free", "app.host02.cpu.user", "app.host02.mem.free", "app.host10.cpu.user"},
		"nope.*":                  nil,
	}
	for pat, want := range cases {
		got, err := x.Expand(pat)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Expand(%q) = %q, %v; want %q", pat, got, err, want)
		}
	}
}

func TestFindEscapes(t *testing.T) {
	x := newIndex("a.b*c", "a.bxc", "a.{x}", "a.x")
	for pat, want := range map[string][]string{
		`a.b\*c`:  {"a.b*c L"},
		`a.b*c`:   {"a.b*c L", "a.bxc L"},
		`a.\{x\}`: {"a.{x} L"},
		`a.{x}`:   {"a.x L"},
	} {
		got, err := x.Find(pat)
		if err != nil || !slices.Equal(nodesString(got), want) {
			t.Errorf("Find(%q) = %q, %v; want %q", pat, nodesString(got), err, want)
		}
	}
}

func TestFindHostile(t *testing.T) {
	x := newIndex(sample...)
	long := make([]byte, MaxPatternLen+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := x.Find(string(long)); err == nil {
		t.Error("Find of huge pattern: want error")
	}
	if _, err := x.Expand(string(long)); err == nil {
		t.Error("Expand of huge pattern: want error")
	}
	p := ""
	for range 12 {
		p += "{a,b}"
	}
	if _, err := x.Find("app." + p); err == nil {
		t.Error("Find with 4096 alternatives: want error")
	}
	// Many globstars stay cheap thanks to memoisation.
	deep := New()
	for i := range 200 {
		deep.Add(fmt.Sprintf("a.b.c.d.e.f.g.h.i.j.k%d", i))
	}
	got, err := deep.Find("**.**.**.**.**.**.**.**.k1?")
	if err != nil || len(got) != 10 {
		t.Fatalf("deep globstar: %d results, %v", len(got), err)
	}
}

func TestBigNode(t *testing.T) {
	x := New()
	const n = 3 * bigThreshold
	for i := range n {
		x.Add(fmt.Sprintf("m.k%04d", i))
	}
	if firstKids(x).big == nil {
		t.Fatal("big node has no table")
	}
	got, _ := x.Find("m.k00[0-4]?")
	if len(got) != 50 || got[0].Path != "m.k0000" || got[49].Path != "m.k0049" {
		t.Fatalf("Find over big node: %d results", len(got))
	}
	if !x.Has("m.k0300") || x.Has("m.k9999") {
		t.Fatal("Has over big node")
	}
	for i := range n - 10 {
		if !x.Delete(fmt.Sprintf("m.k%04d", i)) {
			t.Fatalf("Delete %d", i)
		}
	}
	if firstKids(x).big != nil {
		t.Fatal("shrunk node kept its table")
	}
	got, _ = x.Find("m.*")
	if len(got) != 10 || got[0].Path != fmt.Sprintf("m.k%04d", n-10) {
		t.Fatalf("after deletes: %v", got)
	}
	if !x.Has(fmt.Sprintf("m.k%04d", n-1)) || x.Len() != 10 {
		t.Fatal("remaining names")
	}
}

func TestWalk(t *testing.T) {
	x := newIndex(sample...)
	var got []string
	x.Walk(func(n string) bool { got = append(got, n); return true })
	slices.Sort(got)
	want := slices.Clone(sample)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Walk = %q", got)
	}
	n := 0
	x.Walk(func(string) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("Walk did not stop: %d", n)
	}
}

func TestConcurrent(t *testing.T) {
	x := New()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				name := fmt.Sprintf("c.h%d.m%d", i%50, i)
				x.Add(name)
				x.Add(name)
				// Worker 1 deletes every third name; the others must stay.
				if i%3 != 0 && !x.Has(name) {
					t.Errorf("lost %s", name)
					return
				}
				if w == 0 && i%100 == 0 {
					if _, err := x.Find("c.*.m1*"); err != nil {
						t.Error(err)
						return
					}
				}
				if w == 1 && i%3 == 0 {
					x.Delete(fmt.Sprintf("c.h%d.m%d", i%50, i))
				}
			}
		}()
	}
	wg.Wait()
	names, _ := x.Expand("c.*.*")
	if len(names) != x.Len() {
		t.Fatalf("Expand found %d names, Len %d", len(names), x.Len())
	}
	// Names deleted by worker 1 (i%3==0) may have been re-added by others
	// afterwards; every other name must be present.
	for i := range 2000 {
		if i%3 != 0 && !x.Has(fmt.Sprintf("c.h%d.m%d", i%50, i)) {
			t.Fatalf("missing c.h%d.m%d", i%50, i)
		}
	}
}

func TestFindGlobstarWorkBound(t *testing.T) {
	defer func(v int) { maxVisited = v }(maxVisited)
	maxVisited = 5000
	x := New()
	for i := range 200 {
		x.Add(fmt.Sprintf("a.b%d.c", i))
	}
	// 30 globstars over 202 branches: ~6000 states.
	p := strings.Repeat("**.", 30) + "c"
	if _, err := x.Find(p); !errors.Is(err, errTooMuchWork) {
		t.Fatalf("Find(30 globstars) err = %v, want too much work", err)
	}
	if _, err := x.Expand(p); !errors.Is(err, errTooMuchWork) {
		t.Fatalf("Expand(30 globstars) err = %v, want too much work", err)
	}
	// A few globstars stay within the bound and give exact results.
	got, err := x.Find("**.**.**.c")
	if err != nil || len(got) != 200 || got[0].Path != "a.b0.c" || got[199].Path != "a.b99.c" {
		t.Fatalf("Find(**.**.**.c) = %d, %v", len(got), err)
	}
}

func TestFindTotalVariantsBound(t *testing.T) {
	x := newIndex(sample...)
	seg := strings.Repeat("{a,b}", 10) // 1024 variants: allowed per segment
	if _, err := x.Find(seg); err != nil {
		t.Fatalf("one 1024-variant segment: %v", err)
	}
	p := strings.Repeat(seg+".", 4) + seg // 5 x 1024 > 4096 in total
	if _, err := x.Find(p); !errors.Is(err, errTooManyVariants) {
		t.Fatalf("Find(5 x 1024 variants) err = %v", err)
	}
}

// TestBigNodeTableChurn adds and deletes children of one big node at
// random against a plain map: every name added and not deleted since is
// found, every other is not, through table growth, deleted slots and
// rebuilds.
// The untagged variant turns the hash tags off (as past maxTagged
// children) once the table exists.
func TestBigNodeTableChurn(t *testing.T) {
	for _, untagged := range []bool{false, true} {
		t.Run(fmt.Sprintf("untagged=%v", untagged), func(t *testing.T) { bigNodeChurn(t, untagged) })
	}
}

func bigNodeChurn(t *testing.T, untagged bool) {
	x := New()
	model := map[string]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 40000 {
		if k := firstKids(x); untagged && k != nil && k.big != nil && !k.big.untagged {
			k.big.untagged = true
			k.big.rebuild(&x.store, k.list)
		}
		name := fmt.Sprintf("flat.h%05d", rng.IntN(6000))
		if rng.IntN(3) == 0 {
			if got := x.Delete(name); got != model[name] {
				t.Fatalf("step %d: Delete(%s) = %v, want %v", step, name, got, model[name])
			}
			delete(model, name)
		} else {
			if got := x.Add(name); got == model[name] {
				t.Fatalf("step %d: Add(%s) = %v with present=%v", step, name, got, model[name])
			}
			model[name] = true
		}
	}
	if x.Len() != len(model) {
		t.Fatalf("Len %d, want %d", x.Len(), len(model))
	}
	for i := range 6000 {
		name := fmt.Sprintf("flat.h%05d", i)
		if x.Has(name) != model[name] {
			t.Fatalf("Has(%s) = %v, want %v", name, !model[name], model[name])
		}
	}
	if big := firstKids(x).big; big == nil || big.untagged != untagged {
		t.Fatalf("the node of 4000 children: table %v, want one with untagged=%v", big != nil, untagged)
	}
	got, err := x.Find("flat.*")
	if err != nil || len(got) != len(model) {
		t.Fatalf("Find flat.*: %d nodes (%v), want %d", len(got), err, len(model))
	}
}

// TestSegmentBytesChunks: names whose new segments fill several chunks of
// segment bytes (long segments included) come back whole from Walk
// and Has, after the chunks they were carved from moved on (a long one
// starts a new chunk).
func TestSegmentBytesChunks(t *testing.T) {
	x := New()
	want := map[string]bool{}
	for i := range 3000 {
		name := fmt.Sprintf("chunks.h%d.%s", i%7, strings.Repeat(string(rune('a'+i%26)), 1+i%40)+strconv.Itoa(i))
		if i%500 == 0 {
			name += "." + strings.Repeat("L", 1500+i) // a long segment
		}
		if !x.Add(name) {
			t.Fatalf("Add(%.40s...) = false", name)
		}
		want[name] = true
	}
	got := map[string]bool{}
	x.Walk(func(name string) bool { got[strings.Clone(name)] = true; return true })
	if len(got) != len(want) {
		t.Fatalf("Walk gave %d names, want %d", len(got), len(want))
	}
	for name := range want {
		if !got[name] || !x.Has(name) {
			t.Fatalf("%.60s... lost (walk %v)", name, got[name])
		}
	}
}

// firstKids is the child list of the root's first child (nil when there is
// none).
func firstKids(x *Index) *children {
	s := &x.store
	root := s.kidsOf(&s.root)
	if len(root) == 0 {
		return nil
	}
	c := s.node(root[0])
	if c.kids == 0 {
		return nil
	}
	return &s.kids[c.kids-1]
}
