package index

// The lookup table of a node with more than bigThreshold children: an
// open-addressing hash table (linear probing) of positions in the node's
// child list. A slot holds 0 (never used), 1 (deleted) or position+2 in its
// low posBits bits, with the top tagBits bits of the segment's hash above
// them: a probe passing another child's slot compares the tags and reads
// that child (its node and its segment bytes, a cache miss each in a
// flat node of a million series) only when they agree, 1 time in 128. A
// list longer than posBits allows stores untagged slots from then on. The table costs 4
// bytes a slot at a load between 3/8 and 3/4 — 5.3 to 10.7 bytes a child
// (a miss probes 8.5 slots on average at 3/4, a few adjacent words whose
// tags rarely agree; an untagged table, which reads a child per slot,
// keeps its load between 1/4 and 1/2) — where a
// Go map[string]*node took about 50 (the 24-byte key and value, its
// control byte and its own slack), and it holds no pointers, so the
// collector does not scan it. A flat node of a million series (one per
// host or container under one parent) is where that matters.

const (
	slotEmpty   = 0
	slotDeleted = 1
	slotBase    = 2

	posBits = 25
	posMask = 1<<posBits - 1
	tagBits = 32 - posBits
	// maxTagged bounds the list a tagged table holds (positions + slotBase
	// fit in posBits).
	maxTagged = posMask - slotBase
)

// bigTable is the lookup table; list is the node's unordered child list.
type bigTable struct {
	slots    []uint32 // len is a power of two
	used     int      // live slots
	dead     int      // deleted slots
	untagged bool     // slots carry no hash tags: the list outgrew maxTagged once
}

// segHash is FNV-1a over seg.
func segHash(seg string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(seg); i++ {
		h ^= uint32(seg[i])
		h *= 16777619
	}
	return h
}

// newBigTable builds the table over list.
func newBigTable(s *nodeStore, list []nodeID) *bigTable {
	t := &bigTable{}
	t.rebuild(s, list)
	return t
}

// rebuild sizes the table for list (load at most 1/2 after it, 1/4
// untagged) and fills it.
func (t *bigTable) rebuild(s *nodeStore, list []nodeID) {
	t.untagged = t.untagged || len(list) >= maxTagged
	room := 2 // slots a child after a rebuild, at least
	if t.untagged {
		room = 4
	}
	size := 16
	for size < room*len(list) {
		size *= 2
	}
	if cap(t.slots) >= size && cap(t.slots) <= 2*size {
		t.slots = t.slots[:size]
		clear(t.slots)
	} else {
		t.slots = make([]uint32, size)
	}
	t.used, t.dead = 0, 0
	for i, c := range list {
		t.put(s.segOf(c), i)
	}
}

// slot is the slot value for position pos of a child whose segment hashes
// to h.
func (t *bigTable) slot(h uint32, pos int) uint32 {
	if t.untagged {
		return uint32(pos) + slotBase
	}
	return h>>posBits<<posBits | (uint32(pos) + slotBase)
}

// pos is the list position a live slot value v holds.
func (t *bigTable) pos(v uint32) int {
	if t.untagged {
		return int(v - slotBase)
	}
	return int(v&posMask) - slotBase
}

// find returns the position in list of the child named seg, or -1.
func (t *bigTable) find(s *nodeStore, list []nodeID, seg string) int {
	mask := uint32(len(t.slots) - 1)
	h := segHash(seg)
	tag, tagOf := h>>posBits, uint32(posBits)
	if t.untagged {
		tag, tagOf = 0, 32 // v>>32 is 0: no filtering
	}
	for i := h & mask; ; i = (i + 1) & mask {
		switch v := t.slots[i]; v {
		case slotEmpty:
			return -1
		case slotDeleted:
		default:
			if v>>tagOf != tag {
				continue
			}
			if p := t.pos(v); s.segOf(list[p]) == seg {
				return p
			}
		}
	}
}

// put files position pos under seg (not present). Caller keeps the load
// at most 3/4 (add).
func (t *bigTable) put(seg string, pos int) {
	mask := uint32(len(t.slots) - 1)
	h := segHash(seg)
	i := h & mask
	for t.slots[i] >= slotBase {
		i = (i + 1) & mask
	}
	if t.slots[i] == slotDeleted {
		t.dead--
	}
	t.slots[i] = t.slot(h, pos)
	t.used++
}

// add files list's last child, growing the table first past a load of 3/4
// (1/2 untagged), counting deleted slots, which probes still walk.
func (t *bigTable) add(s *nodeStore, list []nodeID) {
	full := 4*(t.used+t.dead+1) > 3*len(t.slots)
	if t.untagged {
		full = 2*(t.used+t.dead+1) > len(t.slots)
	}
	if full || (!t.untagged && len(list) >= maxTagged) {
		t.rebuild(s, list) // files the new child too
		return
	}
	t.put(s.segOf(list[len(list)-1]), len(list)-1)
}

// slotOf returns the slot holding position pos of the child named seg.
func (t *bigTable) slotOf(seg string, pos int) uint32 {
	mask := uint32(len(t.slots) - 1)
	h := segHash(seg)
	want := t.slot(h, pos)
	for i := h & mask; ; i = (i + 1) & mask {
		if t.slots[i] == want {
			return i
		}
	}
}

// remove drops the child at position i of list by moving the last child
// into its place, as removeChild does to the list itself; list is the
// list before that move.
func (t *bigTable) remove(s *nodeStore, list []nodeID, i int) {
	t.slots[t.slotOf(s.segOf(list[i]), i)] = slotDeleted
	t.used--
	t.dead++
	last := len(list) - 1
	if i != last {
		seg := s.segOf(list[last])
		t.slots[t.slotOf(seg, last)] = t.slot(segHash(seg), i)
	}
}
