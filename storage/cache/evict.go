package cache

import (
	"slices"
	"time"
)

// Forgetting idle series. A shard keeps a series (a 64-byte struct, a map
// entry and its name: about 120 bytes) only while it is in use: once it has
// nothing buffered and took no point for Options.IdleSeriesAfter it is
// dropped, and a later point files it again (newSeries). After a burst of
// a million series that is what the write buffer would otherwise hold for
// good. The shard sweeps every IdleSeriesAfter/2 and counts sweeps in
// epoch; ingest stamps each series with the epoch of its last point, so a
// series two epochs behind took no point for at least IdleSeriesAfter.

// maybeSweep runs sweepIdle when half of IdleSeriesAfter passed since the
// last sweep. Called by the shard's writer after each write cycle.
func (sh *shard) maybeSweep(now time.Time) {
	every := sh.c.opts.IdleSeriesAfter / 2
	if every <= 0 {
		return
	}
	if sh.lastSweep.IsZero() {
		sh.lastSweep = now
		return
	}
	if now.Sub(sh.lastSweep) < every {
		return
	}
	sh.lastSweep = now
	n := sh.sweepIdle()
	if n > 0 && cap(sh.batch.Series) > shrinkAbove && sh.c.buffered.Load() == 0 {
		// The batch a burst grew (one entry per series written in a
		// cycle): nothing is buffered, so the next cycle is small.
		sh.batch.Series = nil
	}
	if cap(sh.pts) > shrinkAbove && sh.c.buffered.Load() == 0 {
		// The decoded points of a burst's batches (up to MaxWritePoints).
		sh.pts = nil
	}
	if n > 0 && sh.c.opts.OnIdleForget != nil {
		sh.c.opts.OnIdleForget(n)
	}
}

// shrinkAbove is the capacity past which a sweep that forgot series lets go
// of the shard's per-cycle slices (the dirty list, its spare, the batch).
const shrinkAbove = 4096

// sweepIdle forgets the shard's series untouched for two epochs that hold
// nothing: no point pending or being written, none waiting for the store,
// the creation rate or a retry. It returns how many it forgot.
func (sh *shard) sweepIdle() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.series.sweep(func(s *series) bool { return sh.epoch-s.touched >= 2 && idle(s) }) // idle: charged nothing (memory.go)
	sh.epoch++
	sh.evicted += uint64(n)
	if n > 0 && cap(sh.spare) > shrinkAbove {
		sh.spare = nil
	}
	if n > 0 && cap(sh.dirty) > shrinkAbove && len(sh.dirty) < cap(sh.dirty)/4 {
		sh.dirty = slices.Clip(slices.Clone(sh.dirty))
	}
	return n
}

// idle reports whether s holds nothing the shard still needs. Caller holds
// sh.mu.
func idle(s *series) bool {
	return s.flags&(dirty|unwritten|deferred|waiting) == 0 && s.failures() == 0 && len(s.buf) == 0
}
