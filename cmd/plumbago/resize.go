package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

// runResize is `plumbago resize`: every series of a stopped whisper tree or pebble store
// whose stored archives, aggregation method or xFilesFactor differ from
// what the storage schemas and storage-aggregation give its name now is
// re-shaped as whisper-resize does (storage/whisper.Resize). --dry-run
// lists them with the bytes before and after and changes nothing.
func runResize(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("resize", flag.ContinueOnError)
	fl.SetOutput(stdout)
	dataDir := fl.String("data-dir", "./data", "plumbago data directory")
	whisperDir := fl.String("whisper-dir", "", "whisper tree (default <data-dir>/whisper)")
	backend := fl.String("backend", "whisper", "storage backend of the data directory: whisper or pebble")
	schemas := fl.String("schemas", "", "storage-schemas.conf to re-shape to (default built in)")
	aggregation := fl.String("aggregation", "", "storage-aggregation.conf to re-shape to (default built in)")
	dryRun := fl.Bool("dry-run", false, "list the series that would be re-shaped, with the bytes before and after; change nothing")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("resize: unexpected arguments %v", fl.Args())
	}
	if *backend != "whisper" && *backend != "pebble" {
		return fmt.Errorf("resize: unknown backend %q", *backend)
	}
	rules, err := schema.Load(*schemas, *aggregation)
	if err != nil {
		return fmt.Errorf("resize: %w", err)
	}
	var res resizeResult
	if *backend == "pebble" {
		opts := pebble.DefaultOptions()
		opts.Dir = filepath.Join(*dataDir, "pebble")
		opts.Rules = rules
		opts.ReadOnly = *dryRun
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		st, err := pebble.Open(opts)
		if err != nil {
			return fmt.Errorf("resize: %w", err)
		}
		res = resizePebbleStore(st, rules, *dryRun, time.Now().Unix())
		if err := st.Close(); err != nil {
			res.errs = append(res.errs, fmt.Errorf("resize: closing the store: %w", err))
		}
	} else {
		dir := *whisperDir
		if dir == "" {
			dir = filepath.Join(*dataDir, "whisper")
		}
		res = resizeWhisperTree(dir, rules, *dryRun, time.Now().Unix())
	}
	for _, r := range res.changed {
		fmt.Fprintf(stdout, "%s: %s -> %s (%d -> %d bytes)\n", r.name, r.from, r.to, r.oldSize, r.newSize)
	}
	verb := "re-shaped"
	if *dryRun {
		verb = "would be re-shaped (dry run)"
	}
	fmt.Fprintf(stdout, "%d of %d series %s: %d bytes before, %d after\n", len(res.changed), res.seen, verb, res.before, res.after)
	return errors.Join(res.errs...)
}

type resizedSeries struct {
	name, from, to   string
	oldSize, newSize int64
}

type resizeResult struct {
	seen          int
	changed       []resizedSeries
	before, after int64
	errs          []error
}

// layoutString is a header as storage-schemas.conf and storage-aggregation.conf
// would say it: "10s:6h,1m:7d average xff=0.5".
func layoutString(rs []schema.Retention, m schema.Method, xff float64) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ","
		}
		s += r.String()
	}
	return fmt.Sprintf("%s %s xff=%g", s, m, float32(xff))
}

// resizeWhisperTree compares every file under dir with the rules and
// re-shapes the ones that differ (all of them at time now), unless dryRun.
func resizeWhisperTree(dir string, rules *schema.Rules, dryRun bool, now int64) resizeResult {
	var mu sync.Mutex
	var res resizeResult
	whisper.Walk(dir, 0, func(name, path string) {
		sch, agg, err := rules.Match(name)
		f, ferr := whisper.OpenFile(path)
		mu.Lock()
		defer mu.Unlock()
		res.seen++
		if err != nil || ferr != nil {
			res.errs = append(res.errs, errors.Join(err, ferr))
			if f != nil {
				f.Close()
			}
			return
		}
		in := f.Info()
		f.Close()
		rs := slices.Clone(sch.Retentions)
		schema.SortRetentions(rs)
		l := whisper.Layout{Archives: rs, Method: agg.Method, XFilesFactor: agg.XFilesFactor}
		if !l.Differs(in) {
			return
		}
		r := resizedSeries{name: name, from: layoutString(in.Archives, in.Method, in.XFilesFactor),
			to: layoutString(rs, agg.Method, agg.XFilesFactor), oldSize: schema.FileSize(in.Archives), newSize: schema.FileSize(rs)}
		if !dryRun {
			// Resize outside the lock would be faster; whisper-resize is
			// one file at a time too, and the tree is stopped.
			if r.oldSize, r.newSize, err = whisper.Resize(path, l, now); err != nil {
				res.errs = append(res.errs, err)
				return
			}
		}
		res.changed = append(res.changed, r)
		res.before += r.oldSize
		res.after += r.newSize
	})
	sort.Slice(res.changed, func(i, j int) bool { return res.changed[i].name < res.changed[j].name })
	return res
}

// resizePebbleStore compares every series of st with the rules and
// re-shapes the ones that differ (all of them at time now, with
// whisper-resize's semantics: pebble.Store.ResizeSeries), unless dryRun.
// The byte counts are the whisper file sizes of the old and new layouts:
// the most a series' slots take uncompressed (pebble stores only the slots
// written, compressed).
func resizePebbleStore(st *pebble.Store, rules *schema.Rules, dryRun bool, now int64) resizeResult {
	var res resizeResult
	names := st.Names()
	sort.Strings(names)
	for _, name := range names {
		in, ok := st.SeriesLayout(name)
		if !ok {
			continue
		}
		res.seen++
		sch, agg, err := rules.Match(name)
		if err != nil {
			res.errs = append(res.errs, fmt.Errorf("resize %q: %w", name, err))
			continue
		}
		rs := slices.Clone(sch.Retentions)
		schema.SortRetentions(rs)
		l := pebble.Layout{Archives: rs, Method: agg.Method, XFilesFactor: agg.XFilesFactor}
		if !l.Differs(in) {
			continue
		}
		r := resizedSeries{name: name, from: layoutString(in.Archives, in.Method, in.XFilesFactor),
			to: layoutString(rs, agg.Method, agg.XFilesFactor), oldSize: schema.FileSize(in.Archives), newSize: schema.FileSize(rs)}
		if !dryRun {
			if err := st.ResizeSeries(name, l, now); err != nil {
				res.errs = append(res.errs, err)
				continue
			}
		}
		res.changed = append(res.changed, r)
		res.before += r.oldSize
		res.after += r.newSize
	}
	return res
}
