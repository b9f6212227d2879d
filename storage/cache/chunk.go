package cache

import "unsafe"

// entry is one point in a chunk; its name is names[off:off+n], h the
// name's hash under Cache.seed (the producer's, which picked the shard;
// the shard's seriesMap looks the name up by it).
type entry struct {
	h      uint64
	off, n uint32
	ts     int64
	v      float64
}

// chunk carries a group of points from one producer to one shard. Names are
// copied into one byte slab, so a chunk costs no allocation once recycled.
type chunk struct {
	names   []byte
	entries []entry
}

// name is e's name: a view of the chunk's bytes, valid until the chunk is
// reset (copy it to keep it).
func (c *chunk) name(e *entry) string {
	return unsafe.String(unsafe.SliceData(c.names[e.off:]), e.n)
}

func (c *chunk) reset() {
	c.names = c.names[:0]
	c.entries = c.entries[:0]
}

func (c *chunk) add(h uint64, name []byte, ts int64, v float64) {
	off := len(c.names)
	c.names = append(c.names, name...)
	c.entries = append(c.entries, entry{h: h, off: uint32(off), n: uint32(len(name)), ts: ts, v: v})
}
