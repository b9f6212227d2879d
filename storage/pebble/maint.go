package pebble

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// retentionLoop range-deletes expired blocks every RetentionInterval.
func (s *Store) retentionLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			if s.readOnly.Load() || s.stall.err() != nil {
				continue
			}
			if _, err := s.EnforceRetention(); err != nil {
				s.opts.Logger.Error("pebble store: enforcing retention", "err", err)
			}
		}
	}
}

// EnforceRetention deletes, for every ring (archive shape), the blocks that
// end before now - retention - keep, with one range tombstone per ring. It
// is cheap (no reads) and does not block writers: pebble reclaims the space
// in its compactions. It returns the number of rings trimmed.
func (s *Store) EnforceRetention() (int, error) {
	if !s.readDB() {
		return 0, ErrClosed
	}
	defer s.doneDB()
	s.retMu.Lock()
	defer s.retMu.Unlock()
	now := s.opts.Now()
	s.mu.RLock()
	rings := append([]*ring(nil), s.ringList...)
	keeps := make([]int64, len(rings))
	for i, r := range rings {
		keeps[i] = r.keep
	}
	s.mu.RUnlock()
	n := 0
	for i, r := range rings {
		span := r.step * blockSlots
		cutoff := now - r.retention - keeps[i]
		cut := cutoff - floorMod(cutoff, span) // blocks below cut end at or before cutoff
		if cut <= r.cut || cut <= 0 {
			continue
		}
		hi := min(cut, 1<<32-1)
		if err := s.db.DeleteRange(ringBound(r.id, 0), ringBound(r.id, uint32(hi)), pebble.NoSync); err != nil {
			return n, fmt.Errorf("deleting ring %d before %d: %w", r.id, cut, err)
		}
		s.noteWrite(2 * len(ringBound(r.id, 0)))
		r.cut = cut
		n++
	}
	return n, nil
}

// Checkpoint writes a consistent copy of the store to dest (which must not
// exist) while it keeps serving: sstables are hard-linked, the WAL is
// flushed and copied. Open dest with Open to use it.
func (s *Store) Checkpoint(dest string) error {
	if !s.readDB() {
		return ErrClosed
	}
	defer s.doneDB()
	if err := s.db.Checkpoint(dest, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("checkpointing to %q: %w", dest, err)
	}
	return nil
}

// Flush flushes memtables to sstables and compacts the whole key space;
// used by benchmarks and tools that want a settled on-disk size.
func (s *Store) Flush(compact bool) error {
	if !s.readDB() {
		return ErrClosed
	}
	defer s.doneDB()
	if err := s.db.Flush(); err != nil {
		return err
	}
	if compact {
		return s.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true)
	}
	return nil
}

// Stats is a snapshot of the store's counters for /metrics.
type Stats struct {
	PointsWritten         int64 // points stored (each counted once, in the archive it went to)
	PointsDropped         int64 // points refused: too old for every archive, or no schema
	PointsDroppedTooOld   int64
	PointsDroppedNoSchema int64
	Series                int64  // metric names stored
	DiskBytes             uint64 // pebble's on-disk size (sstables, WAL, blobs)
	TableBytes            int64  // live sstable bytes (the compressed data)
	MemTableBytes         uint64
	BlockCacheBytes       int64
	BlockCacheHits        int64
	BlockCacheMisses      int64
	Compactions           int64 // completed
	CompactionsInProgress int64
	CompactionDebtBytes   uint64
	Flushes               int64 // memtable flushes (full, idle, or asked)
	IdleFlushes           int64 // flushes after Options.IdleFlush without writes
	L0Files               int64
	L0Sublevels           int
	ReadAmp               int
	MemTables             int64  // memtables holding data or queued for flush
	WALFiles              int64  // live WAL files (of memtables not yet flushed)
	WALLiveBytes          uint64 // log data not yet flushed to sstables
	WALObsoleteFiles      int64  // flushed WAL files kept for reuse (recycled) or to delete
	WALDiskBytes          uint64 // every WAL file's size on disk, live and obsolete
	WALBytesWritten       uint64
}

// Stats returns the store's counters and pebble's metrics.
func (s *Store) Stats() Stats {
	st := Stats{
		PointsWritten:         s.stats.written.Load(),
		PointsDroppedTooOld:   s.stats.droppedOld.Load(),
		PointsDroppedNoSchema: s.stats.droppedNoSchema.Load(),
		Series:                s.stats.series.Load(),
	}
	st.PointsDropped = st.PointsDroppedTooOld + st.PointsDroppedNoSchema
	if !s.readDB() {
		return st
	}
	defer s.doneDB()
	m := s.db.Metrics()
	st.DiskBytes = m.DiskSpaceUsage()
	st.TableBytes = m.Total().TablesSize
	st.MemTableBytes = m.MemTable.Size
	st.BlockCacheBytes = m.BlockCache.Size
	st.BlockCacheHits = m.BlockCache.Hits
	st.BlockCacheMisses = m.BlockCache.Misses
	st.Compactions = m.Compact.Count
	st.CompactionsInProgress = m.Compact.NumInProgress
	st.CompactionDebtBytes = m.Compact.EstimatedDebt
	st.Flushes = m.Flush.Count
	st.IdleFlushes = s.stats.idleFlushes.Load()
	st.L0Files = m.Levels[0].TablesCount
	st.L0Sublevels = int(m.Levels[0].Sublevels)
	st.ReadAmp = m.ReadAmp()
	st.MemTables = m.MemTable.Count
	st.WALFiles = m.WAL.Files
	st.WALLiveBytes = m.WAL.Size
	st.WALObsoleteFiles = m.WAL.ObsoleteFiles
	st.WALDiskBytes = m.WAL.PhysicalSize + m.WAL.ObsoletePhysicalSize
	st.WALBytesWritten = m.WAL.BytesWritten
	return st
}

// quietLogger routes pebble's log lines to slog at debug level (errors at
// error level).
type quietLogger struct{ l *slog.Logger }

func (q quietLogger) Infof(format string, args ...any) {
	if q.l.Enabled(context.Background(), slog.LevelDebug) {
		q.l.Debug(fmt.Sprintf(format, args...))
	}
}
func (q quietLogger) Errorf(format string, args ...any) { q.l.Error(fmt.Sprintf(format, args...)) }
func (q quietLogger) Fatalf(format string, args ...any) {
	q.l.Error(fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}
