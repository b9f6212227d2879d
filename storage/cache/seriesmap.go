package cache

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// seriesMap holds a shard's series by name in an open-addressing table
// (linear probing) of 16-byte slots: the 64-bit maphash of the name and
// the series. A lookup reads the slots from the hash's home on (four a
// cache line) and compares a series' name only where the whole 64-bit
// hash matches, so a point costs one miss in the table where a Go map
// took its directory, control word and slot (the write buffer's lookup
// was 17-19 % of the server's CPU under carbon load). The hash is the
// one the producer computed to pick the shard (Cache.seed, entry.h):
// a point's name is hashed once. Growing moves slots by their stored
// hash without reading a name. Two names with the same hash both live
// in the table, found by their names; deletion shifts the slots after
// the hole back (no tombstones), so probes stay short after sweeps.
type seriesMap struct {
	seed  maphash.Seed
	slots []seriesSlot // a power of two long, or empty
	n     int          // series filed
	shift uint         // 64 - log2(len(slots))
	// touched keeps lookChunk's loads of the names' first bytes from
	// being dropped as unused.
	touched byte
}

type seriesSlot struct {
	h uint64
	s *series // nil: an empty slot
}

const minSeriesSlots = 8

func newSeriesMap(seed maphash.Seed) seriesMap {
	return seriesMap{seed: seed}
}

// hash is the hash name is filed under.
func (m *seriesMap) hash(name string) uint64 { return maphash.String(m.seed, name) }

// home is the slot a hash's probe starts at. The shard was picked by
// h modulo the shard count, so the slot is taken from the high bits of a
// multiplicative mix, not h's low bits.
func (m *seriesMap) home(h uint64) uint64 { return (h * 0x9e3779b97f4a7c15) >> m.shift }

// get returns name's series, or nil. name is not retained.
func (m *seriesMap) get(name string) *series { return m.getHash(m.hash(name), name) }

// getHash is get of a name whose hash h the caller already has.
func (m *seriesMap) getHash(h uint64, name string) *series {
	if m.n == 0 {
		return nil
	}
	mask := uint64(len(m.slots) - 1)
	for i := m.home(h); ; i = (i + 1) & mask {
		sl := &m.slots[i]
		if sl.s == nil {
			return nil
		}
		if sl.h == h && sl.s.name == name {
			return sl.s
		}
	}
}

// probeLater marks, in lookChunk's result, an entry whose home slot
// held another hash or whose candidate's name length differs: it is
// looked up again by getHash.
var probeLater = &series{}

// lookChunk sets look[i] to the series filed under the name of ch's entry
// i, nil when none is (or probeLater, see below), and returns look. A
// lookup at a million series misses the CPU caches three times, one after
// the other: the slot, the series (its name's header) and the name's
// bytes. Done entry by entry the chunk waits for each chain in turn;
// here each step is a pass over the whole chunk whose loads do not depend
// on each other, so the core keeps many misses in flight. An entry whose
// home slot holds another hash (a probe that continues; a quarter of the
// slots at most are taken at the table's fullest) or whose candidate's
// name has another length is left as probeLater for getHash.
func (m *seriesMap) lookChunk(ch *chunk, look []*series) []*series {
	// The entries are read by pointer and look is sized once: copying
	// each 40-byte entry per pass and appending took a third of the
	// function's instructions.
	entries := ch.entries
	look = slices.Grow(look[:0], len(entries))[:len(entries)]
	if m.n == 0 {
		clear(look)
		return look
	}
	// Pass 1: the home slots.
	for i := range entries {
		e := &entries[i]
		sl := &m.slots[m.home(e.h)]
		s := sl.s
		if s != nil && sl.h != e.h {
			s = probeLater
		}
		look[i] = s
	}
	// Pass 2: the candidates' name headers; pass 3 touches the names'
	// first bytes, loads whose values are only summed.
	var touch byte
	for i, s := range look {
		if s != nil && s != probeLater {
			if n := entries[i].n; len(s.name) != int(n) {
				look[i] = probeLater
			} else if n > 0 {
				touch += s.name[0]
			}
		}
	}
	m.touched = touch
	// Pass 4: the names compared, now in the cache (pass 2 made the
	// lengths equal).
	for i, s := range look {
		if s != nil && s != probeLater {
			if s.name != ch.name(&entries[i]) {
				look[i] = probeLater
			}
		}
	}
	return look
}

// put files s, whose name is not filed yet.
func (m *seriesMap) put(s *series) { m.putHash(m.hash(s.name), s) }

// putHash is put of a series whose name's hash h the caller already has.
func (m *seriesMap) putHash(h uint64, s *series) {
	if (m.n+1)*4 > len(m.slots)*3 {
		m.resize(max(minSeriesSlots, 2*len(m.slots)))
	}
	m.insert(h, s)
	m.n++
}

// insert places (h, s) in the first empty slot from h's home.
func (m *seriesMap) insert(h uint64, s *series) {
	mask := uint64(len(m.slots) - 1)
	i := m.home(h)
	for m.slots[i].s != nil {
		i = (i + 1) & mask
	}
	m.slots[i] = seriesSlot{h: h, s: s}
}

// resize moves every series to a table of size slots (a power of two
// with room for them all).
func (m *seriesMap) resize(size int) {
	old := m.slots
	m.slots = make([]seriesSlot, size)
	m.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for _, sl := range old {
		if sl.s != nil {
			m.insert(sl.h, sl.s)
		}
	}
}

// del forgets s, if filed.
func (m *seriesMap) del(s *series) {
	if m.n == 0 {
		return
	}
	mask := uint64(len(m.slots) - 1)
	for i := m.home(m.hash(s.name)); m.slots[i].s != nil; i = (i + 1) & mask {
		if m.slots[i].s == s {
			m.remove(i)
			return
		}
	}
}

// remove empties slot i and moves back the slots after it that a probe
// would no longer reach past the hole.
func (m *seriesMap) remove(i uint64) {
	mask := uint64(len(m.slots) - 1)
	for j := (i + 1) & mask; m.slots[j].s != nil; j = (j + 1) & mask {
		// The slot at j stays where it is when its home lies cyclically
		// in (i, j]: its probe does not pass the hole.
		if (j-m.home(m.slots[j].h))&mask < (j-i)&mask {
			continue
		}
		m.slots[i] = m.slots[j]
		i = j
	}
	m.slots[i] = seriesSlot{}
	m.n--
}

// len is the number of series filed.
func (m *seriesMap) len() int { return m.n }

// each calls f for every series filed.
func (m *seriesMap) each(f func(*series)) {
	for _, sl := range m.slots {
		if sl.s != nil {
			f(sl.s)
		}
	}
}

// sweep forgets every series drop reports true for and returns how many;
// drop must not depend on how often it is asked (a series moved back over
// the end of the table is asked again). Once the table is less than an
// eighth full (a burst is over) it is built anew to fit.
func (m *seriesMap) sweep(drop func(*series) bool) int {
	before := m.n
	for i := uint64(0); i < uint64(len(m.slots)); {
		if s := m.slots[i].s; s != nil && drop(s) {
			m.remove(i) // a later slot may have moved into i: look again
			continue
		}
		i++
	}
	if len(m.slots) > minSeriesSlots && m.n*8 < len(m.slots) {
		size := minSeriesSlots
		for m.n*4 > size*3 {
			size *= 2
		}
		if m.n == 0 {
			m.slots, m.shift = nil, 0
		} else {
			m.resize(size)
		}
	}
	return before - m.n
}
