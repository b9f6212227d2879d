package statsd

import (
	"slices"
	"unsafe"
)

type entry[V any] struct {
	name string
	live bool
	v    V
}

// table is a map from an interned name to a value. order lists the entries
// in the order they became live in the current interval (snapshots only; the
// Flusher's own tables are ordered by ents).
//
// The index is open addressing with linear probing over slots of one word:
// the name's hash in the high 32 bits, the entry number + 1 in the low 32
// (0: empty slot). A lookup hashes the name once (nameHash, seeded per
// process), reads the slot's cache line and compares the name's bytes only
// when the 32-bit hash matches, so a miss never touches an entry; a hit
// then touches the entry and the name.
// Entries are never removed from the index one at a time (del only clears
// live); recycle, compact and shrink rebuild it when they drop entries.
type table[V any] struct {
	slots []uint64 // len is 0 or a power of two; at most half used
	ents  []entry[V]
	order []int32
	peak  int // most names held since the index was last rebuilt
}

func nameHash(name string) uint64 { return hashName(sbytes(name)) }

// eqName is a == b for lookup: the lengths first, then eight bytes at a
// time (the last eight overlapping) inline, where a call to the runtime's
// memequal cost more than comparing the few dozen bytes of a name.
func eqName(a, b string) bool {
	n := len(a)
	if n != len(b) || n < 8 {
		return n == len(b) && a == b
	}
	x, y := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b))
	for i := 0; i < n-8; i += 8 {
		if *(*uint64)(unsafe.Add(x, i)) != *(*uint64)(unsafe.Add(y, i)) {
			return false
		}
	}
	return *(*uint64)(unsafe.Add(x, n-8)) == *(*uint64)(unsafe.Add(y, n-8))
}

// lookup returns the entry number of name (or -1) and the slot where name
// is, or where it goes if absent; h is nameHash(name). The table must have
// slots.
func (t *table[V]) lookup(name string, h uint64) (int32, int) {
	mask := len(t.slots) - 1
	tag := h >> 32
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1, i
		}
		if s>>32 == tag {
			if e := int32(uint32(s)) - 1; eqName(t.ents[e].name, name) {
				return e, i
			}
		}
	}
}

// hit returns the value under name (hash h) when its entry is already
// live this interval, else nil: the steady state's common case, answered
// in one call (the fast path's lookups went through four calls before:
// liveValue, getLimH, lookup). Anything else goes to getLimH.
func (t *table[V]) hit(name []byte, h uint64) *V {
	if len(t.slots) == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	tag := h >> 32
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return nil
		}
		if s>>32 == tag {
			if e := &t.ents[uint32(s)-1]; eqName(e.name, bstr(name)) {
				if !e.live {
					return nil
				}
				return &e.v
			}
		}
	}
}

// index returns the entry number of name, or -1.
func (t *table[V]) index(name string) int32 {
	if len(t.slots) == 0 {
		return -1
	}
	e, _ := t.lookup(name, nameHash(name))
	return e
}

// insert appends a live entry for name (absent from the table) whose hash
// is h, growing the index first if it would pass half full.
func (t *table[V]) insert(name string, h uint64) *V {
	if (len(t.ents)+1)*2 > len(t.slots) {
		t.reindex(max(16, 2*len(t.slots)))
	}
	_, slot := t.lookup(name, h)
	e := int32(len(t.ents))
	t.slots[slot] = h>>32<<32 | uint64(uint32(e+1))
	t.order = append(t.order, e)
	t.ents = append(t.ents, entry[V]{name: name, live: true})
	if len(t.ents) > t.peak {
		t.peak = len(t.ents)
	}
	return &t.ents[e].v
}

// reindex rebuilds the index over ents with n slots (a power of two).
func (t *table[V]) reindex(n int) {
	if n == len(t.slots) {
		clear(t.slots)
	} else {
		t.slots = make([]uint64, n)
	}
	mask := n - 1
	for e := range t.ents {
		h := nameHash(t.ents[e].name)
		i := int(h) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = h>>32<<32 | uint64(uint32(e+1))
	}
}

// slotsFor is the index size for n names: a power of two at most half full.
func slotsFor(n int) int {
	s := 16
	for n*2 > s {
		s *= 2
	}
	return s
}

// eachLive calls fn for every live entry in the order they became live.
func (t *table[V]) eachLive(fn func(e *entry[V])) {
	for _, i := range t.order {
		if e := &t.ents[i]; e.live {
			fn(e)
		}
	}
}

// getLimH returns the value stored under name, whose hashName is h, making
// the entry live (and recording the order); it refuses (returns nil) to make
// a name live when *live already counts max live names (max 0: no limit).
func (t *table[V]) getLimH(name []byte, h uint64, live *int, max int) *V {
	if len(t.slots) > 0 {
		if i, _ := t.lookup(bstr(name), h); i >= 0 {
			e := &t.ents[i]
			if !e.live {
				if live != nil {
					if max > 0 && *live >= max {
						return nil
					}
					*live++
				}
				e.live = true
				t.order = append(t.order, i)
			}
			return &e.v
		}
	}
	if live != nil {
		if max > 0 && *live >= max {
			return nil
		}
		*live++
	}
	return t.insert(string(name), h)
}

// getS is get for a name that is already an immutable string (no copy).
func (t *table[V]) getS(name string) *V {
	h := nameHash(name)
	if len(t.slots) > 0 {
		if i, _ := t.lookup(name, h); i >= 0 {
			e := &t.ents[i]
			if !e.live {
				e.live = true
				t.order = append(t.order, i)
			}
			return &e.v
		}
	}
	return t.insert(name, h)
}

// find returns the live value stored under name.
func (t *table[V]) find(name string) (*V, bool) {
	if i := t.index(name); i >= 0 && t.ents[i].live {
		return &t.ents[i].v, true
	}
	return nil, false
}

// recycle keeps (reset) the entries used in the last interval and drops the
// others, so steady names are not copied again.
func (t *table[V]) recycle(reset func(*V)) {
	for i := range t.ents {
		if e := &t.ents[i]; e.live {
			e.live = false
			reset(&e.v)
		} else {
			e.name = "" // dropped by pack
		}
	}
	t.pack()
	t.order = t.order[:0]
}

// compact drops deleted entries, keeping the others as they are.
func (t *table[V]) compact() {
	for i := range t.ents {
		if !t.ents[i].live {
			t.ents[i].name = ""
		}
	}
	t.pack()
	t.order = t.order[:0] // the Flusher orders by ents
}

// pack removes the entries whose name was cleared, keeping the others in
// order, rebuilds the index if any went, and shrinks the table after a
// burst of names. Only recycle and compact clear names, so no live entry
// has an empty one ("" is never a key: keys are at least one byte).
func (t *table[V]) pack() {
	j := 0
	for i := range t.ents {
		if t.ents[i].name == "" {
			continue
		}
		if i != j {
			t.ents[j] = t.ents[i]
		}
		j++
	}
	if j == len(t.ents) {
		t.shrink()
		return
	}
	clear(t.ents[j:])
	t.ents = t.ents[:j]
	if !t.shrink() {
		t.reindex(len(t.slots))
	}
}

// shrink gives back the memory of a burst of names once it is over: when at
// most a quarter of a large table's peak is left, the index and the slices
// are rebuilt at the current size. It reports whether it rebuilt the index.
func (t *table[V]) shrink() bool {
	if t.peak < 4096 || len(t.ents) > t.peak/4 {
		return false
	}
	t.ents = slices.Clip(slices.Clone(t.ents))
	t.order = nil
	t.peak = len(t.ents)
	t.reindex(slotsFor(len(t.ents)))
	return true
}

func (t *table[V]) del(name string) {
	if i := t.index(name); i >= 0 {
		t.ents[i].live = false
		var zero V
		t.ents[i].v = zero
		if k := slices.Index(t.order, i); k >= 0 {
			t.order = slices.Delete(t.order, k, k+1)
		}
	}
}

func (t *table[V]) len() int {
	n := 0
	for i := range t.ents {
		if t.ents[i].live {
			n++
		}
	}
	return n
}
