package cache

// entry is one point in a chunk; its name is names[off:off+n].
type entry struct {
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

func (c *chunk) reset() {
	c.names = c.names[:0]
	c.entries = c.entries[:0]
}

func (c *chunk) add(name []byte, ts int64, v float64) {
	off := len(c.names)
	c.names = append(c.names, name...)
	c.entries = append(c.entries, entry{off: uint32(off), n: uint32(len(name)), ts: ts, v: v})
}
