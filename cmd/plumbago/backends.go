package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

// openStore opens the backend chosen by --backend.
func openStore(cfg Config, rules *schema.Rules, idx *index.Index, log *slog.Logger) (storage.Store, error) {
	switch cfg.Backend {
	case "whisper":
		if err := os.MkdirAll(cfg.WhisperDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating whisper dir: %w", err)
		}
		st, err := whisper.Open(whisper.Options{Dir: cfg.WhisperDir, Rules: rules, Index: idx})
		if err != nil {
			return nil, err
		}
		go func() {
			<-st.ScanDone()
			log.Info("whisper tree scanned", "dir", cfg.WhisperDir, "metrics", st.Stats().ScannedFiles)
		}()
		return st, nil
	default:
		return nil, fmt.Errorf("backend %q is not available in this build yet", cfg.Backend)
	}
}

// backendMetrics adds the backend's own counters to /metrics and the
// points it dropped to drops.
func backendMetrics(p *promWriter, st storage.Store, drops map[string]uint64) {
	switch s := st.(type) {
	case *whisper.Store:
		w := s.Stats()
		drops["out_of_retention"] += w.PointsDropped
		drops["invalid_name"] += w.InvalidNames
		p.counter("plumbago_whisper_files_created_total", "Whisper files created.", w.Created)
		p.counter("plumbago_whisper_update_operations_total", "Whisper update_many operations (one per series per batch).", w.UpdateOps)
		p.counter("plumbago_whisper_points_written_total", "Points written into whisper archives.", w.PointsWritten)
		p.counter("plumbago_whisper_errors_total", "Series whose write failed.", w.Errors)
		p.counter("plumbago_whisper_scanned_files_total", "Metrics found by the startup scan of the whisper tree.", w.ScannedFiles)
	}
}
