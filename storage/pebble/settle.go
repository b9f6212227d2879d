package pebble

import (
	"time"
)

// monoStart anchors the monotonic clock of lastWrite.
var monoStart = time.Now()

// noteWrite records that a commit of n bytes (its batch's size: what it
// adds to the WAL and the memtable) reached pebble's memtable and WAL.
func (s *Store) noteWrite(n int) {
	s.writes.Add(1)
	s.logged.Add(uint64(n))
	s.lastWrite.Store(int64(time.Since(monoStart)))
}

// trickleRatio: the memtables are flushed while writes go on when the log
// data they hold is at least this many times what the last IdleFlush
// wrote (see idleFlushLoop).
const trickleRatio = 64

// idleFlushLoop flushes the memtable once the store has taken no write for
// Options.IdleFlush. pebble flushes a memtable only when it is full, so
// after a burst the last one would hold its data, and pin its WAL file,
// until the next burst or the next open; flushed, the WAL file is deleted
// (pebbleOptions: no recycling) and the new level-0 file is compacted like
// the others (L0CompactionThreshold 2 in pebbleOptions: a single level-0
// sublevel is already worth a compaction), so the store settles while idle.
//
// A server is rarely without any write: it stores its own metrics (the
// carbon.* series) every few seconds. So the burst is also over when the
// last IdleFlush wrote less than 1/trickleRatio of the log data the
// memtables hold (WAL bytes not yet flushed): after a back-fill of 40 MB,
// 33 self-metrics every 10 s do not keep it in memory. A store written
// only at such a trickle flushes its small memtable about every
// trickleRatio × IdleFlush (32 minutes with the default).
func (s *Store) idleFlushLoop() {
	defer s.wg.Done()
	every := min(max(s.opts.IdleFlush/4, 10*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	// logged at each of the last IdleFlush's ticks: recent[i%len] is the
	// count i ticks after the loop started.
	recent := make([]uint64, int((s.opts.IdleFlush+every-1)/every)+1)
	var flushed uint64 // writes counted before the last idle flush
	for tick := 0; ; tick++ {
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
		logged := s.logged.Load()
		recent[tick%len(recent)] = logged
		n := s.writes.Load()
		if n == flushed {
			continue
		}
		quiet := time.Since(monoStart)-time.Duration(s.lastWrite.Load()) >= s.opts.IdleFlush
		if !quiet && (tick+1 < len(recent) || !s.trickling(logged-recent[(tick+1)%len(recent)])) {
			continue
		}
		if s.readOnly.Load() || s.stall.err() != nil || s.space.Check() != nil || !s.readDB() {
			continue
		}
		err := s.db.Flush()
		s.doneDB()
		if err != nil {
			s.opts.Logger.Error("pebble store: flushing the idle memtable", "err", err)
			continue
		}
		flushed = n
		s.stats.idleFlushes.Add(1)
		if s.opts.OnIdleFlush != nil {
			s.opts.OnIdleFlush()
		}
	}
}

// trickling reports whether the memtables hold at least trickleRatio times
// window bytes of log data (window: what the last IdleFlush wrote).
func (s *Store) trickling(window uint64) bool {
	if !s.readDB() {
		return false
	}
	defer s.doneDB()
	live := s.db.Metrics().WAL.Size
	return live > 0 && live >= trickleRatio*window
}
