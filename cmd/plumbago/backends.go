package main

import (
	"fmt"
	"log/slog"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// openStore opens the backend chosen by --backend.
func openStore(cfg Config, rules *schema.Rules, idx *index.Index, log *slog.Logger) (storage.Store, error) {
	switch cfg.Backend {
	default:
		return nil, fmt.Errorf("backend %q is not available in this build yet", cfg.Backend)
	}
}
