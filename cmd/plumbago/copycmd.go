package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/plumbago/plumbago/query/attime"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/seriescopy"
	"github.com/plumbago/plumbago/storage/whisper"
)

// `plumbago copy` (and `import-whisper --backend clickhouse`): series from
// one store to another, in bounded memory, resumable (docs/migration.md).

// copySide is one end of a copy: serve's storage flags, each with the
// side's prefix (--from-data-dir, --to-clickhouse-url, ...), over serve's
// TOML file given with --from-config or --to-config.
type copySide struct {
	prefix string
	cfg    Config
	config *string
}

// copyStoreFlag reports whether serve's flag name locates or shapes a
// store (and so is one of copy's side flags).
func copyStoreFlag(name string) bool {
	switch name {
	case "config", "backend", "data-dir", "whisper-dir", "schemas", "aggregation", "pebble-cache", "pebble-memtable", "min-free-disk-space":
		return true
	}
	return strings.HasPrefix(name, "clickhouse-")
}

func newCopySide(prefix string, outer *flag.FlagSet) *copySide {
	s := &copySide{prefix: prefix, cfg: DefaultConfig()}
	inner, config := flagSet("copy", &s.cfg)
	s.config = config
	inner.VisitAll(func(f *flag.Flag) {
		if copyStoreFlag(f.Name) {
			outer.Var(f.Value, prefix+f.Name, f.Usage)
		}
	})
	return s
}

// resolve returns the side's config as serve would load it: defaults, the
// TOML file, then the side's flags given on the command line.
func (s *copySide) resolve(outer *flag.FlagSet) (Config, error) {
	c := s.cfg
	if path := *s.config; path != "" {
		c = DefaultConfig()
		md, err := toml.DecodeFile(path, &c)
		if err != nil {
			return c, fmt.Errorf("reading --%sconfig %q: %w", s.prefix, path, err)
		}
		if err := unknownKeys(path, md, &c); err != nil {
			return c, err
		}
		fs, _ := flagSet("copy", &c)
		var err2 error
		outer.Visit(func(f *flag.Flag) {
			if name, ok := strings.CutPrefix(f.Name, s.prefix); ok && name != "config" && copyStoreFlag(name) {
				if err := fs.Set(name, f.Value.String()); err != nil && err2 == nil {
					err2 = err
				}
			}
		})
		if err2 != nil {
			return c, err2
		}
	}
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("(--%s* flags): %w", s.prefix, err)
	}
	return c, nil
}

// copyOptions are what copy does besides the two stores.
type copyOptions struct {
	globs, tags      []string
	from, until      string // graphite times as given
	fromTS, untilTS  int64
	state            string
	progressInterval time.Duration
	batchPoints      int
}

func (o *copyOptions) register(fl *flag.FlagSet) {
	fl.Var((*multiFlag)(&o.globs), "glob", "copy the series this graphite glob matches (repeatable; default every series)")
	fl.Var((*multiFlag)(&o.tags), "tag", "copy the tagged series matching this seriesByTag expression (repeatable; all must match)")
	fl.StringVar(&o.from, "from", "", "copy only points after this graphite time (-30d, 20261101, a unix time; default: all)")
	fl.StringVar(&o.until, "until", "", "copy only points up to this graphite time (default: now)")
	fl.StringVar(&o.state, "state", "", "resume log: the series copied, fsynced per batch; the same command run again skips them (default <destination data-dir>/copy.state; removed once every series is copied)")
	fl.DurationVar(&o.progressInterval, "progress-interval", 5*time.Second, "how often a progress line (series, points, rate, ETA) goes to stderr (0 = none)")
	fl.IntVar(&o.batchPoints, "batch-points", 200_000, "points per write to the destination (two batches are held, one read while the other is written: 16 bytes a point, plus the largest series' archives)")
}

func (o *copyOptions) resolve() error {
	now := time.Now()
	for _, t := range []struct {
		flag, v string
		dst     *int64
	}{{"from", o.from, &o.fromTS}, {"until", o.until, &o.untilTS}} {
		if t.v == "" {
			continue
		}
		at, err := attime.Parse(t.v, now, time.UTC)
		if err != nil {
			return fmt.Errorf("--%s %q: %w", t.flag, t.v, err)
		}
		*t.dst = at.Unix()
	}
	if o.fromTS > 0 && o.untilTS > 0 && o.fromTS >= o.untilTS {
		return fmt.Errorf("--from %q is not before --until %q", o.from, o.until)
	}
	if o.batchPoints <= 0 {
		return errors.New("--batch-points must be > 0")
	}
	return nil
}

// runCopy implements `plumbago copy`.
func runCopy(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("copy", flag.ContinueOnError)
	fl.SetOutput(stdout)
	src := newCopySide("from-", fl)
	dst := newCopySide("to-", fl)
	var o copyOptions
	o.register(fl)
	fl.Usage = func() {
		fmt.Fprintln(stdout, "usage: plumbago copy --from-backend B [--from-...] --to-backend B [--to-...] [--glob G] [--tag E] [--from T] [--until T] [--state F]\n\n"+
			"Copies series (every archive, names and tags) from one stopped store to another: pebble, whisper or clickhouse.\n"+
			"Each side takes serve's storage flags with its prefix, or serve's TOML file (--from-config, --to-config).\n"+
			"Killed, the same command resumes where it stopped (see docs/migration.md).\n\nflags:")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return err
	}
	o.globs = append(o.globs, fl.Args()...)
	srcCfg, err := src.resolve(fl)
	if err != nil {
		return fmt.Errorf("copy: source: %w", err)
	}
	dstCfg, err := dst.resolve(fl)
	if err != nil {
		return fmt.Errorf("copy: destination: %w", err)
	}
	if err := o.resolve(); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if err := copyStores(srcCfg, dstCfg, o, stdout, stderr); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	return nil
}

// copyStore is one opened end of a copy.
type copyStore struct {
	st    storage.Store
	idx   *index.Index
	rules *schema.Rules
	desc  string // identifies the store in the resume log's job
}

// openCopyStore opens cfg's store: the source read-only with its whole
// name index loaded, the destination with every write durable when Write
// returns (pebble syncs each commit; whisper is synced per batch by the
// engine; ClickHouse has acknowledged the insert).
func openCopyStore(cfg Config, write bool, log *slog.Logger) (*copyStore, error) {
	rules, err := schema.Load(cfg.Schemas, cfg.Aggregation)
	if err != nil {
		return nil, err
	}
	cs := &copyStore{idx: index.New(), rules: rules}
	switch cfg.Backend {
	case "whisper":
		cs.desc = "whisper:" + absPath(cfg.WhisperDir)
		if !write {
			if _, err := os.Stat(cfg.WhisperDir); err != nil {
				return nil, fmt.Errorf("no whisper tree to copy: %w", err)
			}
		} else if err := os.MkdirAll(cfg.WhisperDir, 0o755); err != nil {
			return nil, err
		}
		st, err := whisper.Open(whisper.Options{Dir: cfg.WhisperDir, Rules: rules, Index: cs.idx,
			MinFreeBytes: uint64(max(cfg.MinFreeDisk, 0)), Logger: log})
		if err != nil {
			return nil, err
		}
		<-st.ScanDone()
		cs.st = st
	case "pebble":
		dir := filepath.Join(cfg.DataDir, "pebble")
		cs.desc = "pebble:" + absPath(dir)
		if !write {
			if _, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("no pebble store to copy: %w", err)
			}
		}
		opts := pebble.DefaultOptions()
		opts.Dir, opts.Rules, opts.Index, opts.Logger = dir, rules, cs.idx, log
		opts.ReadOnly = !write
		opts.SyncInterval = 0 // every Write is fsynced before it returns
		opts.CacheSize = int64(max(cfg.PebbleCache, 0))
		opts.MemTableSize = int(max(cfg.PebbleMemtable, 0))
		opts.MinFreeBytes = uint64(max(cfg.MinFreeDisk, 0))
		st, err := pebble.Open(opts)
		if err != nil {
			return nil, err
		}
		cs.st = st
	case "clickhouse":
		cs.desc = "clickhouse:" + strings.Join(clickhouseURLs(cfg), ",") + "/" + cfg.ClickHouseDatabase + "." + cfg.ClickHousePointsTable
		tc, err := clickhouseTLS(cfg)
		if err != nil {
			return nil, err
		}
		st, err := clickhouse.Open(clickhouse.Options{
			URLs: clickhouseURLs(cfg), User: cfg.ClickHouseUser, Password: cfg.ClickHousePassword, TLS: tc,
			Tables: clickhouseTables(cfg), Timeout: cfg.ClickHouseTimeout.Duration,
			CreateTables: write && cfg.ClickHouseCreateTables, Rules: rules, Index: cs.idx, Logger: log,
			InsertQuorum: cfg.ClickHouseInsertQuorum,
		})
		if err != nil {
			return nil, err
		}
		cs.st = st
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
	if reg, ok := cs.st.(tagRegistry); ok && !write {
		// Tagged names registered through the API, with or without points.
		names, err := reg.RegisteredTagged()
		if err != nil {
			cs.st.Close()
			return nil, err
		}
		for _, n := range names {
			cs.idx.Add(n)
		}
	}
	return cs, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// retentions returns the store's archives of a series: the stored ones
// (whisper, pebble), or those its schema gives (ClickHouse).
func (cs *copyStore) retentions(name string) ([]schema.Retention, error) {
	if sr, ok := cs.st.(interface {
		SeriesRetentions(string) ([]schema.Retention, error)
	}); ok {
		return sr.SeriesRetentions(name)
	}
	sc, _, err := cs.rules.Match(name)
	if errors.Is(err, schema.ErrNoSchema) {
		return nil, storage.ErrNotFound
	}
	return sc.Retentions, err
}

// selectNames returns the sorted names of the source the options select
// (every plain and tagged name without globs and tag expressions).
func (cs *copyStore) selectNames(o copyOptions) ([]string, error) {
	var names []string
	if len(o.globs) == 0 && len(o.tags) == 0 {
		cs.idx.Walk(func(n string) bool { names = append(names, n); return true })
		tagged, err := cs.idx.FindTagged([]string{"name=~."})
		if err != nil {
			return nil, err
		}
		names = append(names, tagged...)
	}
	for _, g := range o.globs {
		ns, err := cs.idx.Expand(g)
		if err != nil {
			return nil, fmt.Errorf("--glob %q: %w", g, err)
		}
		names = append(names, ns...)
	}
	if len(o.tags) > 0 {
		ns, err := cs.idx.FindTagged(o.tags)
		if err != nil {
			return nil, fmt.Errorf("--tag %q: %w", o.tags, err)
		}
		names = append(names, ns...)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// storeDrops returns the points a store dropped as older than every
// archive, and those no schema matched.
func storeDrops(st storage.Store) (tooOld, noSchema uint64) {
	switch s := st.(type) {
	case *whisper.Store:
		w := s.Stats()
		return w.PointsDropped, w.NoSchema
	case *pebble.Store:
		p := s.Stats()
		return uint64(p.PointsDroppedTooOld), uint64(p.PointsDroppedNoSchema)
	case *clickhouse.Store:
		c := s.Stats()
		return c.PointsDropped, c.NoSchema
	}
	return 0, 0
}

// copyStores copies the selected series of src into dst.
func copyStores(srcCfg, dstCfg Config, o copyOptions, stdout, stderr io.Writer) (err error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := openCopyStore(srcCfg, false, log)
	if err != nil {
		return fmt.Errorf("opening the source (%s): %w", srcCfg.Backend, err)
	}
	defer func() {
		if cerr := src.st.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing the source: %w", cerr)
		}
	}()
	dst, err := openCopyStore(dstCfg, true, log)
	if err != nil {
		return fmt.Errorf("opening the destination (%s): %w", dstCfg.Backend, err)
	}
	defer func() {
		if cerr := dst.st.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing the destination: %w", cerr)
		}
	}()
	if src.desc == dst.desc {
		return errors.New("the source and the destination are the same store")
	}
	names, err := src.selectNames(o)
	if err != nil {
		return err
	}
	statePath := o.state
	if statePath == "" {
		if err := os.MkdirAll(dstCfg.DataDir, 0o755); err != nil {
			return err
		}
		statePath = filepath.Join(dstCfg.DataDir, "copy.state")
	}
	job := fmt.Sprintf("from %s to %s globs=%q tags=%q from=%q until=%q", src.desc, dst.desc, o.globs, o.tags, o.from, o.until)
	state, err := seriescopy.OpenState(statePath, job)
	if err != nil {
		return err
	}
	defer state.Close()
	if err := copyRegistrations(src, dst, names); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pr := &copyProgress{w: stderr, every: o.progressInterval}
	fmt.Fprintf(stdout, "copying %d series from %s to %s (resume log %s, %d series already copied)\n", len(names), src.desc, dst.desc, statePath, state.Len())
	sum, err := seriescopy.Run(ctx, src.st, dst.st, seriescopy.Job{
		Names: names, Retentions: src.retentions, From: o.fromTS, Until: o.untilTS,
		BatchPoints: o.batchPoints, State: state, Progress: pr.update,
	})
	pr.line(sum.Progress)
	tooOld, noSchema := storeDrops(dst.st)
	fmt.Fprint(stdout, copySummary(sum, tooOld, noSchema))
	if err != nil {
		return fmt.Errorf("stopped (run the same command again to resume): %w", err)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d series were not copied (run the same command again to retry them; %s keeps the others)", sum.Failed, statePath)
	}
	state.Close()
	if err := os.Remove(statePath); err != nil {
		return fmt.Errorf("removing the finished resume log: %w", err)
	}
	return nil
}

// copyRegistrations registers in dst the selected tagged names src has
// registered through the tags API (pebble and whisper keep them).
func copyRegistrations(src, dst *copyStore, names []string) error {
	from, ok1 := src.st.(tagRegistry)
	to, ok2 := dst.st.(tagRegistry)
	if !ok1 || !ok2 {
		return nil
	}
	reg, err := from.RegisteredTagged()
	if err != nil {
		return err
	}
	for _, n := range reg {
		if _, found := slices.BinarySearch(names, n); found {
			if err := to.RegisterTagged(n); err != nil {
				return fmt.Errorf("registering %q: %w", n, err)
			}
		}
	}
	return nil
}

func copySummary(s seriescopy.Summary, tooOld, noSchema uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "copied %d of %d series (%d by an earlier run, %d not in the source, %d failed): %d points in %s (%.0f points/s)\n",
		s.Done, s.Total, s.Resumed, s.Missing, s.Failed, s.Points, s.Elapsed.Round(time.Millisecond), rate(s.Points, s.Elapsed))
	if tooOld > 0 || noSchema > 0 {
		fmt.Fprintf(&b, "the destination dropped %d points older than its retention and %d of names no schema matches\n", tooOld, noSchema)
	}
	for _, e := range s.Errors {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

func rate(points int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(points) / d.Seconds()
}

// copyProgress writes a progress line to w at most every `every`.
type copyProgress struct {
	w     io.Writer
	every time.Duration
	last  time.Time
}

func (p *copyProgress) update(pr seriescopy.Progress) {
	if p.every <= 0 {
		return
	}
	if p.last.IsZero() {
		p.last = time.Now()
		return
	}
	if time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	p.line(pr)
}

// line writes one progress line: series done/total, points, rate, ETA.
func (p *copyProgress) line(pr seriescopy.Progress) {
	if p.every <= 0 {
		return
	}
	done := pr.Resumed + pr.Done + pr.Missing + pr.Failed
	eta := "-"
	if n := pr.Done + pr.Missing + pr.Failed; n > 0 && done < pr.Total {
		eta = (time.Duration(float64(pr.Elapsed) / float64(n) * float64(pr.Total-done))).Round(time.Second).String()
	} else if done == pr.Total {
		eta = "0s"
	}
	pct := 100.0
	if pr.Total > 0 {
		pct = 100 * float64(done) / float64(pr.Total)
	}
	fmt.Fprintf(p.w, "copy: %d/%d series (%.1f%%), %d points, %.0f points/s, ETA %s\n",
		done, pr.Total, pct, pr.Points, rate(pr.Points, pr.Elapsed), eta)
}
