package cache

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestSeriesMapCollision: two names filed under the same 64-bit hash are
// each found by their name, never the other's series, and are forgotten
// and swept apart.
func TestSeriesMapCollision(t *testing.T) {
	m := newSeriesMap(maphash.MakeSeed())
	a, b, c := &series{name: "a.b"}, &series{name: "c.d"}, &series{name: "e.f"}
	const h = 0x1234_5678_9abc_def0 // a and b collide, as a 64-bit collision would
	m.putHash(h, a)
	if got := m.getHash(h, b.name); got != nil {
		t.Fatalf("getHash(%q) = %q before it was filed", b.name, got.name)
	}
	m.putHash(h, b)
	m.put(c)
	if ga, gb, gc := m.getHash(h, a.name), m.getHash(h, b.name), m.get(c.name); ga != a || gb != b || gc != c || m.len() != 3 {
		t.Fatalf("got %v %v %v, len %d; want a, b, c, 3", ga, gb, gc, m.len())
	}
	// a's slot is the first of the two: deleting it must move b back
	// where a probe for h still reaches it.
	i := m.home(h)
	if m.slots[i].s != a {
		t.Fatalf("slot %d holds %v, want a", i, m.slots[i].s)
	}
	m.removeSlot(t, a)
	if got := m.getHash(h, b.name); got != b || m.getHash(h, a.name) != nil || m.len() != 2 {
		t.Fatalf("after deleting a: getHash(b) = %v, getHash(a) = %v, len %d; want b, nil, 2", got, m.getHash(h, a.name), m.len())
	}
	if n := m.sweep(func(s *series) bool { return s == b }); n != 1 || m.len() != 1 || m.get(c.name) != c || m.getHash(h, b.name) != nil {
		t.Fatalf("sweep dropped %d, len %d; want 1, 1 and c alone", n, m.len())
	}
}

// removeSlot deletes s from m by hash, as del does for a series filed
// under its own name's hash, for a series filed under another hash.
func (m *seriesMap) removeSlot(t *testing.T, s *series) {
	t.Helper()
	for i := range m.slots {
		if m.slots[i].s == s {
			m.remove(uint64(i))
			return
		}
	}
	t.Fatalf("%q is not filed", s.name)
}

// TestSeriesMapAgainstMap: a random mix of puts, deletes and sweeps over
// names whose hashes crowd a few home slots (hash = name's number modulo
// 64, times a constant: long probe chains that wrap around the table's
// end) leaves m holding exactly what a Go map holds, each series found
// under its name and every probe chain unbroken; lookChunk over all the
// names (hits, misses, and names sharing a hash and a length) agrees.
func TestSeriesMapAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newSeriesMap(maphash.MakeSeed())
	want := map[string]*series{}
	hashOf := func(i int) uint64 { return uint64(i%64) * 0x0123_4567_89ab_cdef }
	names := make([]string, 2000)
	for i := range names {
		names[i] = fmt.Sprintf("host%d.cpu", i)
	}
	var look []*series
	check := func(step int) {
		t.Helper()
		if m.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, m.len(), len(want))
		}
		ch := &chunk{}
		for i, name := range names {
			if got := m.getHash(hashOf(i), name); got != want[name] {
				t.Fatalf("step %d: getHash(%q) = %v, want %v", step, name, got, want[name])
			}
			ch.add(hashOf(i), []byte(name), 0, 0)
		}
		// lookChunk answers each name's series or nil, or leaves it to
		// getHash (probeLater); never another name's series.
		look = m.lookChunk(ch, look)
		if len(look) != len(names) {
			t.Fatalf("step %d: lookChunk gave %d series for %d entries", step, len(look), len(names))
		}
		for i, got := range look {
			if got != probeLater && got != want[names[i]] {
				t.Fatalf("step %d: lookChunk(%q) = %v, want %v", step, names[i], got, want[names[i]])
			}
		}
	}
	for step := range 4000 {
		i := rng.IntN(len(names))
		name := names[i]
		switch op := rng.IntN(10); {
		case op < 6:
			if want[name] == nil {
				s := &series{name: name}
				m.putHash(hashOf(i), s)
				want[name] = s
			}
		case op < 9:
			if s := want[name]; s != nil {
				m.removeSlot(t, s)
				delete(want, name)
			}
		default:
			digit := byte('0' + rng.IntN(10))
			n := m.sweep(func(s *series) bool { return s.name[len(s.name)-5] == digit })
			gone := 0
			for k := range want {
				if k[len(k)-5] == digit {
					delete(want, k)
					gone++
				}
			}
			if n != gone {
				t.Fatalf("step %d: sweep dropped %d, want %d", step, n, gone)
			}
		}
		if step%100 == 0 {
			check(step)
		}
	}
	check(4000)
}

// TestSeriesMapSweepRebuild: filing, finding and sweeping 10,000 names;
// a sweep dropping most of them keeps the rest findable in a table built
// anew to fit, and one dropping all lets the table go.
func TestSeriesMapSweepRebuild(t *testing.T) {
	m := newSeriesMap(maphash.MakeSeed())
	for i := range 10000 {
		m.put(&series{name: fmt.Sprintf("host%d.cpu", i)})
	}
	if len(m.slots) != 16384 {
		t.Fatalf("%d slots for 10,000 series, want 16384", len(m.slots))
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
	if m.len() != 1000 || len(m.slots) != 2048 {
		t.Fatalf("len %d in %d slots, want 1000 in 2048", m.len(), len(m.slots))
	}
	if n := m.sweep(func(*series) bool { return true }); n != 1000 || m.len() != 0 || m.slots != nil {
		t.Fatalf("swept %d, len %d, %d slots; want 1000, 0, none", n, m.len(), len(m.slots))
	}
	s := &series{name: "again"}
	m.put(s)
	if m.get("again") != s {
		t.Fatal("a series filed after the table went is not found")
	}
	m.del(s)
	if m.get("again") != nil || m.len() != 0 {
		t.Fatalf("del left %d series", m.len())
	}
}

// BenchmarkSeriesMapGet looks up the series of one shard at a million
// series (250,000, the default 4 shards' share) in W1's order: each
// lookup is another series, none in the CPU caches. One op is a lookup.
func BenchmarkSeriesMapGet(b *testing.B) {
	const n = 250_000
	names := make([]string, n)
	for i := range names {
		names[i] = "loadtest.m1.host" + strconv.Itoa(i%1000) + ".metric" + strconv.Itoa(i)
	}
	m := newSeriesMapForBench()
	for _, name := range names {
		m.put(&series{name: strings.Clone(name)})
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if m.get(names[i]) == nil {
			b.Fatal("not found")
		}
		if i++; i == n {
			i = 0
		}
	}
}

func newSeriesMapForBench() seriesMap { return newSeriesMap(maphash.MakeSeed()) }

// chunkBench files n series, in the order of their names as a burst of
// new series does, and returns the map and chunks of 512 of the names
// in that order (the order a loader cycling through its names sends
// them in).
func chunkBench(n int) (seriesMap, []*chunk) {
	m := newSeriesMapForBench()
	var chunks []*chunk
	ch := &chunk{}
	for i := range n {
		name := "loadtest.m1.host" + strconv.Itoa(i%1000) + ".metric" + strconv.Itoa(i)
		h := m.hash(name)
		m.putHash(h, &series{name: strings.Clone(name)})
		ch.add(h, []byte(name), 0, 0)
		if len(ch.entries) == 512 {
			chunks = append(chunks, ch)
			ch = &chunk{}
		}
	}
	return m, chunks
}

// BenchmarkSeriesMapLookChunk: a chunk's lookups at 500,000 series (a
// shard's half of the 1 M x 20 run), by lookChunk's passes ("passes") and
// by getHash point by point ("getHash", ingest before lookChunk); the
// metric is wall nanoseconds per point.
func BenchmarkSeriesMapLookChunk(b *testing.B) {
	get := func(ch *chunk, s *series, j int, m *seriesMap) *series {
		if s == probeLater {
			e := ch.entries[j]
			s = m.getHash(e.h, unsafe.String(unsafe.SliceData(ch.names[e.off:]), e.n))
		}
		return s
	}
	b.Run("passes", func(b *testing.B) {
		benchLookChunk(b, func(m *seriesMap, ch *chunk, look []*series) []*series {
			look = m.lookChunk(ch, look)
			for j, s := range look {
				look[j] = get(ch, s, j, m)
			}
			return look
		})
	})
	b.Run("getHash", func(b *testing.B) {
		benchLookChunk(b, func(m *seriesMap, ch *chunk, look []*series) []*series {
			look = look[:0]
			for j := range ch.entries {
				look = append(look, get(ch, probeLater, j, m))
			}
			return look
		})
	})
}

func benchLookChunk(b *testing.B, look func(*seriesMap, *chunk, []*series) []*series) {
	m, chunks := chunkBench(500_000)
	var got []*series
	i := 0
	for b.Loop() {
		got = look(&m, chunks[i], got)
		if slices.Contains(got, nil) {
			b.Fatal("not found")
		}
		if i++; i == len(chunks) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*512), "ns/point")
}

// TestShardIndex: every hash maps into [0, n), the extremes to the first
// and the last shard, and 100,000 names' hashes spread evenly (within 5 %
// of their share).
func TestShardIndex(t *testing.T) {
	seed := maphash.MakeSeed()
	for n := 1; n <= 16; n++ {
		if got := shardIndex(0, n); got != 0 {
			t.Fatalf("shardIndex(0, %d) = %d; want 0", n, got)
		}
		if got := shardIndex(math.MaxUint64, n); got != n-1 {
			t.Fatalf("shardIndex(max, %d) = %d; want %d", n, got, n-1)
		}
		counts := make([]int, n)
		const names = 100_000
		for i := 0; i < names; i++ {
			counts[shardIndex(maphash.String(seed, "servers.host"+strconv.Itoa(i)+".cpu"), n)]++
		}
		for k, c := range counts {
			if share := names / n; c < share*95/100 || c > share*105/100 {
				t.Fatalf("n=%d: shard %d got %d of %d names; want %d ± 5 %%", n, k, c, names, share)
			}
		}
	}
}
