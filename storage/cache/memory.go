package cache

// The write buffer's memory bound. Options.MaxBufferedBytes bounds what the
// buffer holds that writing gives back: for each series holding points not
// yet written, the capacity of its point buffer (points.go, slack
// included: a buffer grows by a quarter of its length), its struct, its name and
// its map slot. Past the bound a shard's consumer
// stops taking chunks from the loops' queues, the loops block on a full
// queue and stop reading their TCP connections, as carbon-cache's
// MAX_CACHE_SIZE with USE_FLOW_CONTROL does; the writer catches up and
// ingest goes on. A series that wrote everything is not charged: what it
// keeps (its struct until evict.go forgets it, a buffer of at most
// idleKeepBytes) is not given back by writing, and charging it would
// stall ingest for good under a steady set of series larger than the
// bound.

// mapSlotBytes is what one entry of a shard's series map costs: a 16-byte
// slot (the name's hash and the pointer, seriesmap.go), its control byte
// and the table's load-factor and growth slack.
const mapSlotBytes = 32

// seriesStructBytes is the size class of the series struct
// (TestSeriesStructSize). Its out-of-line part (seriesRare: write
// retries, quotas) is not charged.
const seriesStructBytes = 64

// seriesCharge is what a series holding unwritten points is charged beside
// its points.
func seriesCharge(s *series) int64 {
	return seriesStructBytes + mapSlotBytes + int64(len(s.name))
}

// held is what s is charged now: while it holds unwritten points, its
// point buffer's capacity and its seriesCharge; else nothing. Caller holds
// sh.mu.
func held(s *series) int64 {
	if !s.is(unwritten) {
		return 0
	}
	return int64(cap(s.buf)) + seriesCharge(s)
}

// full reports whether the buffer is at a bound (points or bytes) with
// something the writers can write: a shard's consumer then waits. Points
// of deferred series (limits) are charged in bytes but cannot be written
// before the creation rate admits them, so their buffers' bytes
// (deferredBytes) are left out, and an empty buffer is never full.
func (c *Cache) full() bool {
	buffered := c.buffered.Load()
	if buffered <= 0 {
		return false
	}
	if buffered >= int64(c.opts.MaxBufferedPoints) {
		return true
	}
	return c.opts.MaxBufferedBytes > 0 &&
		c.heldBytes()-c.deferredBytes.Load() >= c.opts.MaxBufferedBytes
}

// addHeld adds d to the shard's held bytes.
func (sh *shard) addHeld(d int64) { sh.held.Add(d) }

// heldBytes is what the buffer holds that writing gives back: the sum of
// the shards' held bytes.
func (c *Cache) heldBytes() int64 {
	var n int64
	for _, sh := range c.shards {
		n += sh.held.Load()
	}
	return n
}

// mustWait reports whether the shard's consumer must wait before taking
// another chunk: the buffer is full and this shard holds something the
// writers can give back. A shard holding nothing always takes a chunk, so
// one shard filling the shared bound cannot keep another's first points
// (new series among them) queued out of sight of queries and writers; the
// overshoot is at most one chunk per shard.
func (sh *shard) mustWait() bool {
	return sh.held.Load() > 0 && sh.c.full()
}
