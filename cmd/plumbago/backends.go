package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
	"github.com/plumbago/plumbago/tuning"
)

// openStore opens the backend chosen by --backend.
// onIdleFlush is called after each pebble idle flush.
func openStore(cfg Config, plan tuning.Plan, rules *schema.Rules, idx *index.Index, onIdleFlush func(), log *slog.Logger) (storage.Store, error) {
	switch cfg.Backend {
	case "whisper":
		if cfg.readOnly() {
			// A read-only node serves an existing tree and creates nothing.
			if _, err := os.Stat(cfg.WhisperDir); err != nil {
				return nil, fmt.Errorf("read-only: no whisper tree to serve: %w", err)
			}
		} else if err := os.MkdirAll(cfg.WhisperDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating whisper dir: %w", err)
		}
		if cfg.ResizeOnStart && !cfg.readOnly() {
			logResize(log, resizeWhisperTree(cfg.WhisperDir, rules, false, time.Now().Unix()))
		}
		st, err := whisper.Open(whisper.Options{Dir: cfg.WhisperDir, Rules: rules, Index: idx, MinFreeBytes: minFreeDisk(plan),
			Watch: cfg.WhisperWatch, RescanInterval: cfg.WhisperRescanInterval.Duration, Logger: log})
		if err != nil {
			return nil, err
		}
		go func() {
			<-st.ScanDone()
			log.Info("whisper tree scanned", "dir", cfg.WhisperDir, "metrics", st.Stats().ScannedFiles)
		}()
		return st, nil
	case "pebble":
		st, err := pebble.Open(pebble.Options{
			Dir:   filepath.Join(cfg.DataDir, "pebble"),
			Rules: rules,
			Index: idx,
			// The write buffer adds each name before it writes it.
			WritesIndexed: true,
			SyncInterval:  pebbleSyncInterval(cfg),
			CacheSize:     plan.PebbleCacheBytes,
			MemTableSize:  int(plan.PebbleMemTableBytes),
			IdleFlush:     pebbleIdleFlush(cfg),
			// A burst is over: give the memory it took back to the OS
			// soon rather than over the next minutes (the Go scavenger's
			// pace), but not in the middle of a burst of requests
			// (memrelease.Releaser.Nudge).
			OnIdleFlush: onIdleFlush,
			// The WAL is reserved on disk as it grows, not 1.1 memtables at once.
			WALPreallocateBytes: plan.PebbleWALPreallocBytes,
			MinFreeBytes:        minFreeDisk(plan),
			Logger:              log,
			ReadOnly:            cfg.readOnly(),
			// Served at once; requests that read names wait (namesload.go).
			LoadNamesInBackground: true,
		})
		if err != nil || !cfg.ResizeOnStart || cfg.readOnly() {
			return st, err
		}
		res := resizePebbleStore(st, rules, false, time.Now().Unix())
		logResize(log, res)
		return st, nil
	case "clickhouse":
		return openClickHouse(cfg, rules, idx, log)
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
}

// pebbleIdleFlush is --pebble-idle-flush as pebble.Options takes it
// (negative = never).
func pebbleIdleFlush(cfg Config) time.Duration {
	if cfg.PebbleIdleFlush.Duration <= 0 {
		return -1
	}
	return cfg.PebbleIdleFlush.Duration
}

// keepBuffered tells the whisper backend's tree watcher to keep indexed a
// series whose file was removed by hand while the write buffer holds
// points for it (the next write creates the file again).
func keepBuffered(s *server) {
	if ws, ok := s.store.(*whisper.Store); ok {
		ws.SetKeep(func(name string) bool {
			var tmp [1]storage.Point
			return len(s.cache.Buffered(name, tmp[:0])) > 0
		})
	}
}

// minFreeDisk is the data volume's free-space reserve: --min-free-disk-space,
// or what tuning derives (64 MiB, plus 2.5 pebble memtables with pebble:
// room for a memtable flush and compactions once writes stop).
func minFreeDisk(plan tuning.Plan) uint64 {
	return uint64(max(plan.MinFreeDiskBytes, 0))
}

// backendMetrics adds the backend's own counters to /metrics and the
// points it dropped to drops.
func backendMetrics(p *promWriter, st storage.Store, drops map[string]uint64) {
	switch s := st.(type) {
	case *whisper.Store:
		w := s.Stats()
		drops["out_of_retention"] += w.PointsDropped
		drops["invalid_name"] += w.InvalidNames
		drops["no_schema"] += w.NoSchema
		p.counter("plumbago_whisper_files_created_total", "Whisper files created.", w.Created)
		p.counter("plumbago_whisper_update_operations_total", "Whisper update_many operations (one per series per batch).", w.UpdateOps)
		p.counter("plumbago_whisper_points_written_total", "Points written into whisper archives.", w.PointsWritten)
		p.counter("plumbago_whisper_errors_total", "Series whose write failed.", w.Errors)
		p.counter("plumbago_whisper_scanned_files_total", "Metrics found by the startup scan of the whisper tree.", w.ScannedFiles)
		ws := s.WatchStats()
		p.counter("plumbago_whisper_tree_names_added_total", "Names indexed because another tool created or moved a file into the whisper tree (inotify or rescan).", ws.Added)
		p.counter("plumbago_whisper_tree_names_removed_total", "Names dropped because another tool removed or moved a file out of the whisper tree (inotify or rescan).", ws.Removed)
		p.counter("plumbago_whisper_tree_rescans_total", "Full rescans of the whisper tree (periodic, or after an inotify queue overflow).", ws.Rescans)
		p.counter("plumbago_whisper_tree_watch_errors_total", "Directories of the whisper tree that could not be watched (fs.inotify.max_user_watches).", ws.WatchErrors)
		p.gauge("plumbago_whisper_tree_watched_dirs", "Directories of the whisper tree watched with inotify.", float64(ws.Watches))
	case *clickhouse.Store:
		clickhouseMetrics(p, s, drops)
	case *pebble.Store:
		ps := s.Stats()
		drops["out_of_retention"] += uint64(ps.PointsDroppedTooOld)
		drops["no_schema"] += uint64(ps.PointsDroppedNoSchema)
		p.counter("plumbago_pebble_points_written_total", "Points stored in pebble.", uint64(ps.PointsWritten))
		p.gauge("plumbago_pebble_series", "Metric names stored in pebble.", float64(ps.Series))
		p.gauge("plumbago_pebble_disk_bytes", "Pebble's on-disk size (sstables, WAL, blobs).", float64(ps.DiskBytes))
		p.gauge("plumbago_pebble_memtable_bytes", "Pebble memtable size.", float64(ps.MemTableBytes))
		p.gauge("plumbago_pebble_block_cache_bytes", "Pebble block cache size.", float64(ps.BlockCacheBytes))
		p.counter("plumbago_pebble_block_cache_hits_total", "Pebble block cache hits.", uint64(ps.BlockCacheHits))
		p.counter("plumbago_pebble_block_cache_misses_total", "Pebble block cache misses.", uint64(ps.BlockCacheMisses))
		p.counter("plumbago_pebble_compactions_total", "Pebble compactions completed.", uint64(ps.Compactions))
		p.gauge("plumbago_pebble_compactions_running", "Pebble compactions running now.", float64(ps.CompactionsInProgress))
		p.gauge("plumbago_pebble_compaction_debt_bytes", "Estimated bytes pebble still has to compact (0 once settled).", float64(ps.CompactionDebtBytes))
		p.counter("plumbago_pebble_flushes_total", "Pebble memtable flushes (full, idle or asked).", uint64(ps.Flushes))
		p.counter("plumbago_pebble_idle_flushes_total", "Pebble memtable flushes after --pebble-idle-flush without a write.", uint64(ps.IdleFlushes))
		p.gauge("plumbago_pebble_memtables", "Pebble memtables holding data or waiting to be flushed.", float64(ps.MemTables))
		p.gauge("plumbago_pebble_l0_files", "Files in pebble's level 0.", float64(ps.L0Files))
		p.gauge("plumbago_pebble_l0_sublevels", "Sublevels of pebble's level 0 (overlapping files stacked; each adds to read amplification).", float64(ps.L0Sublevels))
		p.gauge("plumbago_pebble_read_amplification", "Pebble read amplification.", float64(ps.ReadAmp))
		p.gauge("plumbago_pebble_wal_files", "Live pebble WAL files (of memtables not yet flushed).", float64(ps.WALFiles))
		p.gauge("plumbago_pebble_wal_live_bytes", "Pebble WAL data not yet flushed to sstables.", float64(ps.WALLiveBytes))
		p.gauge("plumbago_pebble_wal_obsolete_files", "Flushed pebble WAL files kept for reuse or awaiting deletion.", float64(ps.WALObsoleteFiles))
		p.gauge("plumbago_pebble_wal_disk_bytes", "Disk used by every pebble WAL file, live and obsolete.", float64(ps.WALDiskBytes))
		p.counter("plumbago_pebble_wal_bytes_written_total", "Bytes written to pebble's WAL.", ps.WALBytesWritten)
	}
}

// logResize logs what --resize-on-start did.
func logResize(log *slog.Logger, res resizeResult) {
	for _, r := range res.changed {
		log.Info("resized", "series", r.name, "from", r.from, "to", r.to, "bytes_before", r.oldSize, "bytes_after", r.newSize)
	}
	for _, err := range res.errs {
		log.Error("resize failed (see docs/operations.md, Resize)", "err", err)
	}
	log.Info("resize on start", "series", res.seen, "resized", len(res.changed), "bytes_before", res.before, "bytes_after", res.after)
}
