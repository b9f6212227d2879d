package cache

import (
	"slices"

	"github.com/plumbago/plumbago/storage"
)

// Pause runs fn while no shard writes to the backend: a write in progress
// finishes first, and ingest goes on buffering meanwhile (back-pressured
// only if the buffer fills up). Operations that change stored series
// (delete, rename, merge) run inside it, with Take, so no buffered point of
// a series they touch is written behind their back. fn must not call Sync
// or Close.
func (c *Cache) Pause(fn func() error) error {
	for _, sh := range c.shards {
		sh.writeMu.Lock()
	}
	defer func() {
		for _, sh := range c.shards {
			sh.writeMu.Unlock()
		}
	}()
	return fn()
}

// Take removes name from the buffer and returns its points not yet written,
// in arrival order (nil if none). Carbonlink and Fetch stop seeing them at
// once. Call it inside Pause: outside, a write in progress may still hold
// points of name. The points stay in the write-ahead log until its segments
// are trimmed (a crash before that replays them).
func (c *Cache) Take(name string) []storage.Point {
	sh := c.shardOfString(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.series.get(name)
	if s == nil {
		return nil
	}
	sh.series.del(s)
	sh.addHeld(-held(s))
	pts := s.points(nil)
	if s.is(dirty) {
		if i := slices.Index(sh.dirty, s); i >= 0 {
			sh.dirty = slices.Delete(sh.dirty, i, i+1)
		}
	}
	sh.unwait(s)
	if s.is(deferred) {
		// Waiting for the creation rate (limits): counted apart.
		c.deferredBytes.Add(-int64(cap(s.buf)))
		if i := slices.Index(sh.deferred, s); i >= 0 {
			sh.deferred = slices.Delete(sh.deferred, i, i+1)
		}
		c.deferredPts.Add(-int64(len(pts)))
		c.deferredSer.Add(-1)
	} else {
		c.buffered.Add(-int64(len(pts)))
	}
	if len(pts) == 0 {
		return nil
	}
	return pts
}
