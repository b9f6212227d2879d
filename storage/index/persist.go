package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unsafe"
)

// Snapshot format (little endian):
//
//	magic "PLGIDX1\n"
//	records: uvarint shared, uvarint n, n bytes   (name = prev[:shared] + bytes)
//	terminator: uvarint 0, uvarint 0
//	uint64 record count, uint32 CRC-32C of everything before it
//
// Names are front-coded against the previous one; the depth-first walk order
// makes siblings share their parent's prefix, so 1M names of ~25 bytes take
// a few bytes each.
const snapMagic = "PLGIDX1\n"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var errCorrupt = errors.New("corrupt index snapshot")

// walkBytes calls fn with every leaf name in a buffer valid only during the
// call. Caller holds a lock.
func (s *nodeStore) walkBytes(n *node, buf []byte, fn func([]byte)) {
	for _, id := range s.kidsOf(n) {
		c := s.node(id)
		b := buf
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, s.seg(c)...)
		if c.leaf {
			fn(b)
		}
		s.walkBytes(c, b, fn)
	}
}

// WriteTo writes a snapshot of every name to w. The snapshot is encoded in
// memory under the read lock (a few MB for 1M names) and written after the
// lock is released, so inserts are not held up by a slow w.
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	out := make([]byte, 0, 1<<16)
	out = append(out, snapMagic...)
	var prev []byte
	var count uint64
	l := x.mu.RLock("")
	x.store.walkBytes(&x.store.root, make([]byte, 0, 256), func(name []byte) {
		shared := 0
		for shared < len(prev) && shared < len(name) && prev[shared] == name[shared] {
			shared++
		}
		out = binary.AppendUvarint(out, uint64(shared))
		out = binary.AppendUvarint(out, uint64(len(name)-shared))
		out = append(out, name[shared:]...)
		prev = append(prev[:0], name...)
		count++
	})
	x.mu.RUnlock(l)
	out = append(out, 0, 0)
	out = binary.LittleEndian.AppendUint64(out, count)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, crcTable))
	n, err := w.Write(out)
	if err != nil {
		return int64(n), fmt.Errorf("writing index snapshot: %w", err)
	}
	return int64(n), nil
}

// ReadFrom reads a snapshot written by WriteTo and adds its names to the
// index (existing names are kept). The whole snapshot is read and its
// checksum verified before any name is added, so a truncated or corrupt
// snapshot changes nothing and returns an error.
func (x *Index) ReadFrom(r io.Reader) (int64, error) {
	data, err := io.ReadAll(r)
	n := int64(len(data))
	if err != nil {
		return n, fmt.Errorf("reading index snapshot: %w", err)
	}
	if len(data) < len(snapMagic)+2+12 || string(data[:len(snapMagic)]) != snapMagic {
		return n, fmt.Errorf("reading index snapshot of %d bytes: %w: bad header", len(data), errCorrupt)
	}
	body, trailer := data[:len(data)-4], data[len(data)-4:]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(trailer) {
		return n, fmt.Errorf("reading index snapshot: %w: checksum mismatch", errCorrupt)
	}
	want := binary.LittleEndian.Uint64(body[len(body)-8:])
	recs := body[len(snapMagic) : len(body)-8]
	// First pass: validate every record, so a bad snapshot adds nothing.
	count, err := decodeSnapshot(recs, nil)
	if err != nil {
		return n, err
	}
	if count != want {
		return n, fmt.Errorf("reading index snapshot: %w: %d names, trailer says %d", errCorrupt, count, want)
	}
	// Second pass: insert in batches so readers are not blocked for long.
	// Names come in depth-first order and front-coded, so the nodes of the
	// segments shared with the previous name are reused from a stack
	// instead of being looked up again.
	const batch = 4096
	i := 0
	var p prefixInserter
	x.mu.Lock()
	p.reset(&x.store)
	_, err = decodeSnapshot(recs, func(name []byte, shared int) {
		i++
		if i%batch == 0 {
			// Let readers in; nodes may be pruned meanwhile only by
			// Delete, so restart from the root.
			x.mu.Unlock()
			x.mu.Lock()
			p.reset(&x.store)
			shared = 0
		}
		if p.insert(unsafe.String(&name[0], len(name)), shared) { // insert copies what it keeps
			x.n.Add(1)
		}
	})
	x.mu.Unlock()
	return n, err
}

// decodeSnapshot decodes the records, calling fn (when non-nil) with each
// valid name, and returns the number of names.
func decodeSnapshot(recs []byte, fn func(name []byte, shared int)) (uint64, error) {
	name := make([]byte, 0, 256)
	var count uint64
	for {
		shared, k := binary.Uvarint(recs)
		if k <= 0 {
			return count, fmt.Errorf("reading index snapshot: %w: bad record %d", errCorrupt, count)
		}
		recs = recs[k:]
		ln, k := binary.Uvarint(recs)
		if k <= 0 {
			return count, fmt.Errorf("reading index snapshot: %w: bad record %d", errCorrupt, count)
		}
		recs = recs[k:]
		if shared == 0 && ln == 0 {
			if len(recs) != 0 {
				return count, fmt.Errorf("reading index snapshot: %w: %d trailing bytes", errCorrupt, len(recs))
			}
			return count, nil
		}
		if shared > uint64(len(name)) || ln > uint64(len(recs)) || shared+ln > MaxNameLen {
			return count, fmt.Errorf("reading index snapshot: %w: bad lengths in record %d", errCorrupt, count)
		}
		name = append(name[:shared], recs[:ln]...)
		recs = recs[ln:]
		if !validName(string(name)) {
			return count, fmt.Errorf("reading index snapshot: %w: invalid name %.100q", errCorrupt, name)
		}
		if fn != nil {
			fn(name, int(shared))
		}
		count++
	}
}
