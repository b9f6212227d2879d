package pebble

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"unsafe"
)

// nameTable maps stored series names to their series without a pointer an
// entry, so the garbage collector neither scans nor marks a million of
// them (a map[string]*series holds two pointers an entry and ~56 bytes).
//
//   - slots is an open-addressing table (linear probing, deletion by
//     backward shift) of one uint64 an entry: the high 32 bits of the name's
//     hash above the location of its entry in the arena (0 is an empty
//     slot: no entry is at location 0). A slot's home is its hash's low
//     bits, so moving slots needs no rehash.
//   - The entries live in append-only arena chunks of arenaChunk bytes: the
//     series' ref (4 bytes), the name's length (uvarint), the name's bytes;
//     a location is chunk<<arenaShift | offset. A lookup reads the slot,
//     then the entry (ref and name in one place).
//   - The series live in chunks of refChunk, by ref. A ref is never handed
//     out twice: a *series stays the series it was for whoever holds it
//     (readers, the decoded-block cache). Removed names leave their series
//     and bytes behind until compact rebuilds the table.
//
// Callers hold Store.mu to change it (the writer, under writeMu, reads it
// without); every method other than get, at and each changes it.
type nameTable struct {
	seed  maphash.Seed
	slots []uint64
	n     int // names in slots

	sers  [][]series
	next  uint32 // refs handed out
	arena [][]byte

	liveBytes, usedBytes int // arena bytes of the names in slots, and in all
}

const (
	refShift   = 10
	refChunk   = 1 << refShift
	arenaShift = 20
	arenaChunk = 1 << arenaShift
	// maxArenaChunks bounds the chunks a 32-bit location can name: 4 GiB
	// of names.
	maxArenaChunks = 1 << (32 - arenaShift)
	minSlots       = 64
)

// errNamesFull is why a name cannot be added once the arena's 4 GiB of
// locations or the 32-bit refs are used up.
var errNamesFull = errors.New("series name table full (4 GiB of names or 2^32 series)")

func newNameTable() *nameTable {
	return &nameTable{seed: maphash.MakeSeed(), slots: make([]uint64, minSlots)}
}

// Len returns the number of names.
func (t *nameTable) Len() int { return t.n }

func (t *nameTable) hash(name string) uint32 { return uint32(maphash.String(t.seed, name) >> 32) }

// at returns the series of ref.
func (t *nameTable) at(ref uint32) *series { return &t.sers[ref>>refShift][ref&(refChunk-1)] }

// entry returns the ref and name of the arena entry at loc; the name's
// bytes are never written again.
func (t *nameTable) entry(loc uint32) (uint32, string) {
	c := t.arena[loc>>arenaShift][loc&(arenaChunk-1):]
	ref := binary.LittleEndian.Uint32(c)
	n, k := binary.Uvarint(c[4:])
	if n == 0 {
		return ref, ""
	}
	return ref, unsafe.String(&c[4+k], int(n))
}

// find returns the slot index of name, the ref its entry holds and the
// entry's name (read with the ref), or -1.
func (t *nameTable) find(name string) (int, uint32, string) {
	return t.findHash(name, t.hash(name))
}

// findHash is find with name's hash (hash) given.
func (t *nameTable) findHash(name string, h uint32) (int, uint32, string) {
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := t.slots[i]
		if e == 0 {
			return -1, 0, ""
		}
		if uint32(e>>32) == h {
			if r, n := t.entry(uint32(e)); n == name {
				return int(i), r, n
			}
		}
	}
}

// ref returns name's ref.
func (t *nameTable) ref(name string) (uint32, bool) {
	i, r, _ := t.find(name)
	return r, i >= 0
}

// get returns name's series, or nil.
func (t *nameTable) get(name string) *series {
	ser, _ := t.getName(name)
	return ser
}

// getName is get also returning the table's copy of name (a string over
// its arena entry, whose bytes are never written again), or "".
func (t *nameTable) getName(name string) (*series, string) {
	return t.getNameHash(name, t.hash(name))
}

// getNameHash is getName with name's hash (hash) given.
func (t *nameTable) getNameHash(name string, h uint32) (*series, string) {
	if i, r, n := t.findHash(name, h); i >= 0 {
		return t.at(r), n
	}
	return nil, ""
}

// add hands out a new ref and its zero series, not yet named (put).
func (t *nameTable) add() (uint32, *series, error) {
	r := t.next
	if r == ^uint32(0) {
		return 0, nil, errNamesFull
	}
	if r&(refChunk-1) == 0 {
		t.sers = append(t.sers, make([]series, refChunk))
	}
	t.next++
	return r, t.at(r), nil
}

// put names ref name, replacing the ref name had. ref must have no other
// name (remove it first).
func (t *nameTable) put(name string, ref uint32) error {
	_, err := t.putName(name, ref)
	return err
}

// putName is put returning the table's copy of name: a string over the
// arena entry's bytes, which are never written again.
func (t *nameTable) putName(name string, ref uint32) (string, error) {
	h := t.hash(name)
	i, _, _ := t.findHash(name, h)
	if i < 0 {
		return t.putNewName(name, ref, h)
	}
	loc, err := t.appendEntry(name, ref)
	if err != nil {
		return "", err
	}
	t.liveBytes -= entrySize(name) // the same name's older entry
	t.slots[i] = t.slots[i]&^0xffffffff | uint64(loc)
	_, stored := t.entry(loc)
	return stored, nil
}

// putNewName is putName for a name not in the table, whose hash (hash) the
// caller has: a new series' name is looked up once, not three times.
func (t *nameTable) putNewName(name string, ref uint32, h uint32) (string, error) {
	loc, err := t.appendEntry(name, ref)
	if err != nil {
		return "", err
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.insert(h, loc)
	t.n++
	_, stored := t.entry(loc)
	return stored, nil
}

// appendEntry appends the entry of ref and name to the arena and returns
// its location.
func (t *nameTable) appendEntry(name string, ref uint32) (uint32, error) {
	size := entrySize(name)
	last := len(t.arena) - 1
	if last < 0 || len(t.arena[last])+size > cap(t.arena[last]) {
		if len(t.arena) == maxArenaChunks {
			return 0, errNamesFull
		}
		c := make([]byte, 0, max(arenaChunk, size))
		if last < 0 {
			c = append(c, 0) // no entry at location 0
		}
		t.arena = append(t.arena, c)
		last++
	}
	c := t.arena[last]
	loc := uint32(last)<<arenaShift | uint32(len(c))
	c = binary.LittleEndian.AppendUint32(c, ref)
	c = binary.AppendUvarint(c, uint64(len(name)))
	t.arena[last] = append(c, name...)
	t.usedBytes += size
	t.liveBytes += size
	return loc, nil
}

// entrySize is the arena bytes of name's entry.
func entrySize(name string) int { return 4 + uvarintLen(uint64(len(name))) + len(name) }

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// insert puts (h, loc) into the first empty slot from h's home.
func (t *nameTable) insert(h, loc uint32) {
	mask := uint32(len(t.slots) - 1)
	i := h & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = uint64(h)<<32 | uint64(loc)
}

func (t *nameTable) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	for _, e := range old {
		if e != 0 {
			t.insert(uint32(e>>32), uint32(e))
		}
	}
}

// remove drops name and returns the ref it had.
func (t *nameTable) remove(name string) (uint32, bool) {
	i, ref, _ := t.find(name)
	if i < 0 {
		return 0, false
	}
	t.liveBytes -= entrySize(name)
	t.n--
	mask := len(t.slots) - 1
	t.slots[i] = 0
	for j := (i + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := int(uint32(t.slots[j]>>32)) & mask
		// The entry at j may move to the hole at i unless its home lies
		// cyclically in (i, j].
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i], t.slots[j] = t.slots[j], 0
			i = j
		}
	}
	return ref, true
}

// each calls fn for every name and its series.
func (t *nameTable) each(fn func(name string, ser *series)) {
	for _, e := range t.slots {
		if e != 0 {
			r, name := t.entry(uint32(e))
			fn(name, t.at(r))
		}
	}
}

// wasted reports whether removed names left more series and bytes behind
// than the live ones take (and enough to be worth a rebuild).
func (t *nameTable) wasted() bool {
	dead := int(t.next) - t.n
	return dead > 4096 && dead > t.n || t.usedBytes-t.liveBytes > 1<<20 && t.usedBytes-t.liveBytes > t.liveBytes
}

// compacted returns a table of the same names whose series are copies of
// t's. Nothing may hold t's series for a write across the switch (a copy's
// written count moves on without the original); readers' copies are only
// no longer current in the decoded-block cache.
func (t *nameTable) compacted() (*nameTable, error) {
	nt := newNameTable()
	for len(nt.slots)*3 < t.n*4 {
		nt.slots = make([]uint64, 2*len(nt.slots))
	}
	var err error
	t.each(func(name string, old *series) {
		if err != nil {
			return
		}
		r, ser, aerr := nt.add()
		if aerr == nil {
			aerr = nt.put(name, r)
		}
		if aerr != nil {
			err = aerr
			return
		}
		ser.copyFrom(old)
	})
	return nt, err
}

// compactNames rebuilds the name table once removed names left more
// behind than the live ones take. Called by the writer between commits
// (holding writeMu, no series staged).
func (s *Store) compactNames() {
	if !s.names.wasted() {
		return
	}
	nt, err := s.names.compacted()
	if err != nil {
		s.opts.Logger.Error("pebble store: compacting the series name table", "err", err)
		return
	}
	// The live series' tails move to new chunks; the removed ones' are
	// left behind with the old chunks.
	w := &s.w
	old := w.tailChunks
	w.tailChunks, w.tailUsed = nil, 0
	nt.each(func(_ string, ser *series) {
		if ser.tails == 0 {
			return
		}
		sc := s.schemaOf(ser)
		r := ser.tails - 1
		from := old[r>>tailShift][r&(tailChunk-1):][:len(sc.archives)-1]
		ser.tails = w.newTails(len(from))
		copy(w.tailsOf(ser, sc), from)
	})
	s.mu.Lock()
	s.names = nt
	s.mu.Unlock()
}
