package pebble

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/plumbago/plumbago/storage"
)

// addName adds a series named name to nt and returns it.
func addName(tb testing.TB, nt *nameTable, name string) *series {
	tb.Helper()
	ref, ser, err := nt.add()
	if err != nil {
		tb.Fatal(err)
	}
	if err := nt.put(name, ref); err != nil {
		tb.Fatal(err)
	}
	return ser
}

// checkNameTable compares t with model (name -> series id) in every
// direction: lookups, the count, each, and that no ref is named twice.
func checkNameTable(t *testing.T, nt *nameTable, model map[string]uint32) {
	t.Helper()
	if nt.Len() != len(model) {
		t.Fatalf("Len %d, want %d", nt.Len(), len(model))
	}
	for name, id := range model {
		ser := nt.get(name)
		if ser == nil || ser.id != id {
			t.Fatalf("get(%q) = %v, want series %d", name, ser, id)
		}
	}
	seen := map[string]bool{}
	refs := map[*series]bool{}
	nt.each(func(name string, ser *series) {
		if seen[name] || refs[ser] {
			t.Fatalf("each: %q or its series twice", name)
		}
		seen[name], refs[ser] = true, true
		if id, ok := model[name]; !ok || id != ser.id {
			t.Fatalf("each: %q -> %d, model has %d (%v)", name, ser.id, id, ok)
		}
	})
	live := 0
	for name := range model {
		live += entrySize(name)
	}
	if nt.liveBytes != live {
		t.Fatalf("liveBytes %d, want %d", nt.liveBytes, live)
	}
}

// TestNameTableAgainstMap runs random adds, renames, re-points (as a
// resize does) and removes against a map, through growth, backward-shift
// deletions and compactions, with names of 1 to 300 bytes (two-byte
// lengths) and a few colliding prefixes.
func TestNameTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nt := newNameTable()
	model := map[string]uint32{}
	var names []string
	id := uint32(0)
	newName := func() string {
		return fmt.Sprintf("a.%d.%s", rng.IntN(50000), strings.Repeat("x", rng.IntN(300)))
	}
	for step := 0; step < 60000; step++ {
		switch op := rng.IntN(10); {
		case op < 6 || len(names) == 0: // add
			name := newName()
			if _, ok := model[name]; ok {
				continue
			}
			if step%2 == 0 {
				addName(t, nt, name).id = id
			} else { // as a Write's new series: the hash of its lookup, no second one
				ref, ser, err := nt.add()
				if err != nil {
					t.Fatal(err)
				}
				ser.id = id
				stored, err := nt.putNewName(name, ref, nt.hash(name))
				if err != nil || stored != name {
					t.Fatalf("putNewName(%q) = %q, %v", name, stored, err)
				}
			}
			model[name], id = id, id+1
			names = append(names, name)
		case op < 7: // rename
			i := rng.IntN(len(names))
			to := newName()
			if _, ok := model[to]; ok {
				continue
			}
			ref, ok := nt.remove(names[i])
			if !ok {
				t.Fatalf("remove(%q) found nothing", names[i])
			}
			if err := nt.put(to, ref); err != nil {
				t.Fatal(err)
			}
			model[to] = model[names[i]]
			delete(model, names[i])
			names[i] = to
		case op < 8: // a new series under a stored name
			i := rng.IntN(len(names))
			ref, ser, err := nt.add()
			if err != nil {
				t.Fatal(err)
			}
			ser.id = id
			if err := nt.put(names[i], ref); err != nil {
				t.Fatal(err)
			}
			model[names[i]], id = id, id+1
		default: // remove
			i := rng.IntN(len(names))
			if _, ok := nt.remove(names[i]); !ok {
				t.Fatalf("remove(%q) found nothing", names[i])
			}
			delete(model, names[i])
			names[i] = names[len(names)-1]
			names = names[:len(names)-1]
			if _, ok := nt.remove("never.stored"); ok {
				t.Fatal("removed a name never stored")
			}
		}
		if step%5000 == 4999 {
			checkNameTable(t, nt, model)
			if nt.wasted() {
				c, err := nt.compacted()
				if err != nil {
					t.Fatal(err)
				}
				if c.wasted() || int(c.next) != len(model) || c.usedBytes != c.liveBytes {
					t.Fatalf("compacted table: next %d for %d names, used %d live %d", c.next, len(model), c.usedBytes, c.liveBytes)
				}
				nt = c
				checkNameTable(t, nt, model)
			}
		}
	}
	checkNameTable(t, nt, model)
	if nt.get("") != nil || nt.get("a") != nil {
		t.Fatal("found a name never stored")
	}
}

// TestNameTableCompactedKeepsSeries checks a compaction copies every field
// of the series, and that the old table's series are left as they were.
func TestNameTableCompactedKeepsSeries(t *testing.T) {
	nt := newNameTable()
	for i := 0; i < 10000; i++ {
		ref, ser, err := nt.add()
		if err != nil {
			t.Fatal(err)
		}
		ser.id, ser.sch, ser.tails, ser.gen, ser.fresh = uint32(i), 7, uint32(i)*2, uint64(i)*3, i%2 == 0
		ser.written.Store(uint64(i) + 5)
		if err := nt.put(fmt.Sprintf("m.%05d", i), ref); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10000; i++ {
		if i%3 != 0 {
			nt.remove(fmt.Sprintf("m.%05d", i))
		}
	}
	if !nt.wasted() {
		t.Fatalf("not wasted with %d names of %d refs", nt.Len(), nt.next)
	}
	old := nt.get("m.00003")
	c, err := nt.compacted()
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 3334 || c.next != 3334 {
		t.Fatalf("compacted: %d names, %d refs, want 3334", c.Len(), c.next)
	}
	for i := 0; i < 10000; i++ {
		ser := c.get(fmt.Sprintf("m.%05d", i))
		if i%3 != 0 {
			if ser != nil {
				t.Fatalf("removed m.%05d is back", i)
			}
			continue
		}
		if ser == nil || ser.id != uint32(i) || ser.sch != 7 || ser.tails != uint32(i)*2 || ser.gen != uint64(i)*3 || ser.fresh != (i%2 == 0) ||
			ser.written.Load() != uint64(i)+5 {
			t.Fatalf("m.%05d after compaction: %+v", i, ser)
		}
	}
	if c.get("m.00003") == old || old.id != 3 || old.written.Load() != 8 {
		t.Fatalf("old series moved or changed: %+v", old)
	}
}

// TestNameTableArenaChunks checks names fill arena chunks without
// straddling them and a name larger than a chunk gets one of its own.
func TestNameTableArenaChunks(t *testing.T) {
	nt := newNameTable()
	long := strings.Repeat("L", arenaChunk+10)
	names := []string{strings.Repeat("a", arenaChunk-1-4-3), "bb", long, "c"}
	for _, name := range names {
		addName(t, nt, name)
	}
	// The first chunk's unused byte and "aaa..." (4+3+len bytes) fill
	// it; "bb" starts the second, the long name the third (its own), "c"
	// the fourth.
	if len(nt.arena) != 4 || len(nt.arena[0]) != arenaChunk || len(nt.arena[2]) != arenaChunk+10+4+3 {
		t.Fatalf("arena chunks %d, lengths %d %d", len(nt.arena), len(nt.arena[0]), len(nt.arena[2]))
	}
	for r, name := range names {
		if ref, ok := nt.ref(name); !ok || ref != uint32(r) || nt.get(name) != nt.at(uint32(r)) {
			t.Fatalf("name of %d bytes: ref %d %v, want %d", len(name), ref, ok, r)
		}
	}
}

// BenchmarkNameTable compares the table with the map[string]*series it
// replaced at 1 M names shaped like the 1 M x 20 load test's: bytes an
// entry (heap after building it, names' own strings excluded for the
// map; the series structs included in both), CPU time a lookup in random
// order, and the CPU time of a forced GC with it live.
func BenchmarkNameTable(b *testing.B) {
	const n = 1 << 20
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("loadtest.m1.m%06d", i) // the 1 M x 20 run's names
	}
	order := slices.Clone(names)
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	b.Run("map", func(b *testing.B) {
		for range b.N {
			h0 := heapAfterGC()
			m := make(map[string]*series)
			slab := make([]series, n)
			for i, name := range names {
				m[name] = &slab[i]
			}
			h1 := heapAfterGC()
			gc := gcCPU()
			cpu := processCPU()
			for _, name := range order {
				if m[name] == nil {
					b.Fatal("missing")
				}
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/n, "cpu-ns/lookup")
			b.ReportMetric(float64(h1-h0)/n, "B/entry")
			b.ReportMetric(gc, "cpu-ms/GC")
			runtime.KeepAlive(m)
		}
	})
	b.Run("table", func(b *testing.B) {
		for range b.N {
			h0 := heapAfterGC()
			nt := newNameTable()
			for _, name := range names {
				addName(b, nt, name)
			}
			h1 := heapAfterGC()
			gc := gcCPU()
			cpu := processCPU()
			for _, name := range order {
				if nt.get(name) == nil {
					b.Fatal("missing")
				}
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/n, "cpu-ns/lookup")
			b.ReportMetric(float64(h1-h0)/n, "B/entry")
			b.ReportMetric(gc, "cpu-ms/GC")
			runtime.KeepAlive(nt)
		}
	})
}

// TestStoreCompactsNameTable deletes most of a store's series so the next
// Write rebuilds the name table, then checks the survivors: their points
// (fine and propagated into the coarse archive through the tails that
// moved), a new series, and the names after a reopen.
func TestStoreCompactsNameTable(t *testing.T) {
	now := int64(1_700_000_000)
	now -= now % 60
	s := openTest(t, w1Rules(t), func() int64 { return now })
	name := func(i int) string { return fmt.Sprintf("c.m%05d", i) }
	write := func(from, to int, ts int64, v func(i int) float64) {
		t.Helper()
		var b storage.Batch
		for i := from; i < to; i++ {
			b.Series = append(b.Series, storage.SeriesPoints{Name: name(i), Points: []storage.Point{{Timestamp: ts, Value: v(i)}}})
		}
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 10000, now-120, func(i int) float64 { return float64(i) })
	var del []string
	for i := 0; i < 10000; i++ {
		if i%5 != 0 {
			del = append(del, name(i))
		}
	}
	if deleted, _, err := s.DeleteSeries(del); err != nil || len(deleted) != 8000 {
		t.Fatalf("deleted %d: %v", len(deleted), err)
	}
	if !s.names.wasted() {
		t.Fatalf("table not wasted: %d names, %d refs", s.names.Len(), s.names.next)
	}
	before := s.names
	// Same minute as the first points: the tails must still hold them.
	write(0, 10000, now-100, func(i int) float64 { return float64(i) + 20 })
	if s.names == before || s.names.next != 10000-8000+8000 {
		t.Fatalf("table not rebuilt (same %v), %d refs", s.names == before, s.names.next)
	}
	for i := 0; i < 10000; i += 5 {
		sr, err := s.Fetch(name(i), now-130, now-90, now)
		if err != nil {
			t.Fatal(err)
		}
		at := func(ts int64) float64 { return sr.Values[(ts-sr.Start)/sr.Step] }
		if sr.Step != 1 || at(now-120) != float64(i) || at(now-100) != float64(i)+20 {
			t.Fatalf("%s: step %d, values %v %v", name(i), sr.Step, at(now-120), at(now-100))
		}
		// The coarse archive: the minute's average of both points.
		sr, err = s.Fetch(name(i), now-86400+60, now, now)
		if err != nil {
			t.Fatal(err)
		}
		slot := (now - 120 - sr.Start) / sr.Step
		if sr.Step != 60 || sr.Values[slot] != float64(i)+10 {
			t.Fatalf("%s: coarse step %d value %v, want %v", name(i), sr.Step, sr.Values[slot], float64(i)+10)
		}
	}
	if s.names.Len() != 2000+8000 || s.names.get(name(1)) == nil || s.names.get(name(1)).id < 10000 {
		t.Fatalf("%d names; re-created series %v", s.names.Len(), s.names.get(name(1)))
	}
	dir := s.opts.Dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Dir, opts.Rules, opts.Now = dir, w1Rules(t), func() int64 { return now }
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names := s.Names()
	slices.Sort(names)
	if len(names) != 10000 || names[0] != name(0) || names[9999] != name(9999) {
		t.Fatalf("after reopen: %d names, %q .. %q", len(names), names[0], names[len(names)-1])
	}
}

// TestWriteHandsBackTableName: Write replaces each series' Name in the
// batch with the name table's copy (equal bytes, the table's memory), for
// a series it creates and for one it already had, so the write buffer can
// hold that copy instead of its own.
func TestWriteHandsBackTableName(t *testing.T) {
	s := openTest(t, w1Rules(t), func() int64 { return 1_700_000_100 })
	defer s.Close()
	inTable := func(name string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(name)))
		for _, c := range s.names.arena {
			base := uintptr(unsafe.Pointer(unsafe.SliceData(c[:cap(c)])))
			if p >= base && p+uintptr(len(name)) <= base+uintptr(cap(c)) {
				return true
			}
		}
		return false
	}
	var first string
	for round := range 2 {
		own := string([]byte("hand.back.name")) // a copy of the caller's own
		b := &storage.Batch{Series: []storage.SeriesPoints{{Name: own, Points: []storage.Point{{Timestamp: 1_700_000_000 + int64(round), Value: 1}}}}}
		if err := s.Write(b); err != nil {
			t.Fatal(err)
		}
		got := b.Series[0].Name
		if got != "hand.back.name" {
			t.Fatalf("round %d: name handed back %q", round, got)
		}
		if !inTable(got) || inTable(own) {
			t.Fatalf("round %d: the name handed back is not the table's copy (in table: %v, caller's in table: %v)", round, inTable(got), inTable(own))
		}
		if round == 0 {
			first = got
		} else if unsafe.StringData(got) != unsafe.StringData(first) {
			t.Fatalf("an existing series handed back another copy than the one its creation did")
		}
	}
}
