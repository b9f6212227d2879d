package pebble

import (
	"time"
)

// monoStart anchors the monotonic clock of lastWrite.
var monoStart = time.Now()

// noteWrite records that a commit reached pebble's memtable (and WAL).
func (s *Store) noteWrite() {
	s.writes.Add(1)
	s.lastWrite.Store(int64(time.Since(monoStart)))
}

// idleFlushLoop flushes the memtable once the store has taken no write for
// Options.IdleFlush. pebble flushes a memtable only when it is full, so
// after a burst the last one would hold its data, and pin its WAL file,
// until the next burst or the next open; flushed, the WAL file is recycled
// and the new level-0 file is compacted like the others (L0CompactionThreshold
// 2 in pebbleOptions: a single level-0 sublevel is already worth a
// compaction), so the store settles while idle.
func (s *Store) idleFlushLoop() {
	defer s.wg.Done()
	every := min(max(s.opts.IdleFlush/4, 10*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	var flushed uint64 // writes counted before the last idle flush
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
		n := s.writes.Load()
		if n == flushed || time.Since(monoStart)-time.Duration(s.lastWrite.Load()) < s.opts.IdleFlush {
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
