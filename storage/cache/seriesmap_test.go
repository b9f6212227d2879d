package cache

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// TestSeriesMapCollision: a name whose hash another series holds is filed
// in more and found, forgotten and swept like the others; a lookup never
// returns the series of another name with the same hash.
func TestSeriesMapCollision(t *testing.T) {
	m := newSeriesMap()
	a, b := &series{name: "a.b"}, &series{name: "c.d"}
	// a takes the slot of b's hash, as a 64-bit collision would.
	m.byHash[maphash.String(m.seed, b.name)] = a
	if got := m.get(b.name); got != nil {
		t.Fatalf("get(%q) = %q before it was filed", b.name, got.name)
	}
	m.put(b)
	if got := m.get(b.name); got != b || len(m.more) != 1 || m.len() != 2 {
		t.Fatalf("get(%q) = %v, more %d, len %d; want b, 1, 2", b.name, got, len(m.more), m.len())
	}
	m.del(a) // not under its own hash: nothing to do
	if m.len() != 2 {
		t.Fatalf("len %d after deleting a series filed under another hash; want 2", m.len())
	}
	delete(m.byHash, maphash.String(m.seed, b.name))
	if got := m.get(b.name); got != b {
		t.Fatalf("get(%q) = %v once the colliding slot went; want b", b.name, got)
	}
	if n := m.sweep(func(s *series) bool { return s == b }); n != 1 || m.len() != 0 || m.more != nil {
		t.Fatalf("sweep dropped %d, len %d, more %v; want 1, 0, nil", n, m.len(), m.more)
	}
}

// TestSeriesMapSweepRebuild: filing, finding and sweeping 10,000 names;
// a sweep dropping most of them keeps the rest findable.
func TestSeriesMapSweepRebuild(t *testing.T) {
	m := newSeriesMap()
	for i := range 10000 {
		m.put(&series{name: fmt.Sprintf("host%d.cpu", i)})
	}
	if n := m.sweep(func(s *series) bool { return s.name[len(s.name)-5] != '7' }); n != 9000 {
		t.Fatalf("swept %d, want 9000", n)
	}
	for i := range 10000 {
		name := fmt.Sprintf("host%d.cpu", i)
		if got, want := m.get(name) != nil, i%10 == 7; got != want {
			t.Fatalf("get(%q) found=%v, want %v", name, got, want)
		}
	}
	if m.len() != 1000 {
		t.Fatalf("len %d, want 1000", m.len())
	}
}
