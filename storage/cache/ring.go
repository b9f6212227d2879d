package cache

import "sync/atomic"

// ring is a bounded single-producer/single-consumer queue of chunks.
type ring struct {
	buf  []*chunk
	mask uint64
	_    [48]byte // keep head and tail on separate cache lines
	head atomic.Uint64
	_    [56]byte
	tail atomic.Uint64
	_    [56]byte
}

func newRing(size int) *ring {
	n := 1
	for n < size {
		n <<= 1
	}
	return &ring{buf: make([]*chunk, n), mask: uint64(n - 1)}
}

// push is called only by the producer. It reports false when full.
func (r *ring) push(c *chunk) bool {
	t := r.tail.Load()
	if t-r.head.Load() == uint64(len(r.buf)) {
		return false
	}
	r.buf[t&r.mask] = c
	r.tail.Store(t + 1)
	return true
}

// pop is called only by the consumer. It returns nil when empty.
func (r *ring) pop() *chunk {
	h := r.head.Load()
	if h == r.tail.Load() {
		return nil
	}
	c := r.buf[h&r.mask]
	r.buf[h&r.mask] = nil
	r.head.Store(h + 1)
	return c
}
