package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/seriesops"
	"github.com/plumbago/plumbago/storage/whisper"
)

// The series subcommands for a stopped store (a running server answers the
// same operations under /admin/series/, seriesadmin.go): delete, rename, stale.

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// storeFlags are the flags that locate a store, with serve's names and
// meaning (a --config file may set them).
type storeFlags struct {
	config, dataDir, backend, whisperDir, schemas, aggregation string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "TOML config file of the server (its data-dir, backend and whisper-dir keys are used; flags win)")
	fs.StringVar(&f.dataDir, "data-dir", "", "root of all stored data (default ./data)")
	fs.StringVar(&f.backend, "backend", "", "storage backend: pebble or whisper (default pebble)")
	fs.StringVar(&f.whisperDir, "whisper-dir", "", "whisper tree (default <data-dir>/whisper)")
	fs.StringVar(&f.schemas, "schemas", "", "storage-schemas.conf (for series a rename or merge writes)")
	fs.StringVar(&f.aggregation, "aggregation", "", "storage-aggregation.conf")
}

// config resolves the flags through serve's config loading.
func (f *storeFlags) resolve(name string) (Config, error) {
	var args []string
	for _, kv := range [][2]string{{"config", f.config}, {"data-dir", f.dataDir}, {"backend", f.backend},
		{"whisper-dir", f.whisperDir}, {"schemas", f.schemas}, {"aggregation", f.aggregation}} {
		if kv[1] != "" {
			args = append(args, "--"+kv[0], kv[1])
		}
	}
	return loadConfig(name, args)
}

// offlineStore is a stopped server's store opened by a subcommand.
type offlineStore struct {
	store storage.Store
	index *index.Index
}

func (o *offlineStore) close() error { return o.store.Close() }

// openOffline opens the store cfg names, with its whole name index loaded
// (for whisper, after the scan of the tree). The server must not be
// running on it: pebble refuses a second opener; whisper files would be
// changed under a running server's feet.
func openOffline(cfg Config) (*offlineStore, error) {
	rules, err := schema.Load(cfg.Schemas, cfg.Aggregation)
	if err != nil {
		return nil, err
	}
	idx := index.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch cfg.Backend {
	case "whisper":
		st, err := whisper.Open(whisper.Options{Dir: cfg.WhisperDir, Rules: rules, Index: idx})
		if err != nil {
			return nil, err
		}
		<-st.ScanDone()
		return &offlineStore{store: st, index: idx}, nil
	case "pebble":
		opts := pebble.DefaultOptions()
		opts.Dir = filepath.Join(cfg.DataDir, "pebble")
		opts.Rules = rules
		opts.Index = idx
		opts.Logger = log
		st, err := pebble.Open(opts)
		if err != nil {
			return nil, err
		}
		return &offlineStore{store: st, index: idx}, nil
	}
	return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
}

func (o *offlineStore) ops() (*seriesops.Ops, error) {
	st, ok := o.store.(seriesops.Store)
	if !ok {
		return nil, errors.New("this backend cannot delete or rename series")
	}
	return &seriesops.Ops{Store: st, Index: o.index}, nil
}

// withOffline opens the store, runs fn and closes the store.
func withOffline(name string, sf *storeFlags, fn func(*seriesops.Ops) error) error {
	cfg, err := sf.resolve(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	st, err := openOffline(cfg)
	if err != nil {
		return fmt.Errorf("%s: opening the %s store: %w", name, cfg.Backend, err)
	}
	ops, err := st.ops()
	if err == nil {
		err = fn(ops)
	}
	if cerr := st.close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the store: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// runDelete implements `plumbago delete [flags] [glob ...]`.
func runDelete(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var sf storeFlags
	sf.register(fs)
	var tags, names multiFlag
	fs.Var(&tags, "tag", "seriesByTag expression, e.g. 'dc=eu' or 'name=~cpu.*' (repeatable; all must match)")
	fs.Var(&names, "name", "exact series name (repeatable)")
	dry := fs.Bool("dry-run", false, "list the series that would be deleted; change nothing")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: plumbago delete [flags] [glob ...]\n\nDeletes the series the globs, --tag expressions and --name names select from a stopped store.\nA running server: POST /admin/series/delete.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	sel := seriesops.Selector{Globs: fs.Args(), TagExprs: tags, Names: names}
	if sel.Empty() {
		return errors.New("delete: give at least one glob, --tag or --name")
	}
	return withOffline("delete", &sf, func(ops *seriesops.Ops) error {
		res, err := ops.Delete(sel, *dry)
		if err != nil {
			return err
		}
		return printJSON(stdout, res)
	})
}

// runRename implements `plumbago rename [flags] FROM TO`.
func runRename(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rename", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var sf storeFlags
	sf.register(fs)
	merge := fs.Bool("merge", false, "fill existing series with the renamed ones' points where they have none (whisper-fill), then delete the renamed ones")
	dry := fs.Bool("dry-run", false, "list the renames; change nothing")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: plumbago rename [flags] FROM TO\n\nRenames the series FROM (a name, or a glob whose wildcards TO refers to as \\1, \\2, ...) in a stopped store.\nA running server: POST /admin/series/rename.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("rename: give FROM and TO")
	}
	return withOffline("rename", &sf, func(ops *seriesops.Ops) error {
		res, err := ops.Rename(fs.Arg(0), fs.Arg(1), *merge, *dry)
		if err != nil {
			return err
		}
		return printJSON(stdout, res)
	})
}

// runStale implements `plumbago stale --since TIME [--prune [--dry-run]] [glob ...]`.
func runStale(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stale", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var sf storeFlags
	sf.register(fs)
	var tags, names multiFlag
	fs.Var(&tags, "tag", "seriesByTag expression (repeatable; all must match)")
	fs.Var(&names, "name", "exact series name (repeatable)")
	since := fs.String("since", "", "graphite time (-30d, now-1w, 20261101, a unix time): series with no point since then are stale (required)")
	prune := fs.Bool("prune", false, "delete the stale series")
	dry := fs.Bool("dry-run", false, "with --prune: list what would be deleted; change nothing")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: plumbago stale --since TIME [--prune [--dry-run]] [flags] [glob ...]\n\nLists (or prunes) the series of a stopped store with no point since TIME; all series without globs, --tag or --name.\nA running server: /admin/series/stale and /admin/series/prune.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	sel := seriesops.Selector{Globs: fs.Args(), TagExprs: tags, Names: names}
	return withOffline("stale", &sf, func(ops *seriesops.Ops) error {
		cfg, _ := sf.resolve("stale")
		loc := time.UTC
		if cfg.TimeZone != "" {
			if l, err := time.LoadLocation(cfg.TimeZone); err == nil {
				loc = l
			}
		}
		t, err := parseSince(*since, loc)
		if err != nil {
			return err
		}
		var res seriesops.StaleResult
		if *prune {
			res, err = ops.Prune(sel, t, *dry)
		} else {
			res, err = ops.Stale(sel, t)
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, res)
	})
}
