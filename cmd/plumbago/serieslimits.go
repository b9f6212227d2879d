package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/limits"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/tuning"
)

// bytesPerSeries is what one series costs in memory once known: its write
// buffer entry and map slot, its index node and name, measured with the
// churn load test (docs/bench-rounds.md, "New-series bursts"). The default
// --max-series is a quarter of the memory budget at this cost.
const bytesPerSeries = 1024

// seriesLimits is the server's storage/limits with its quota file: reloaded
// on SIGHUP and within --quota-reload-interval of a change.
type seriesLimits struct {
	lim   *limits.Limits
	path  string
	log   *slog.Logger
	mu    sync.Mutex // guards mtime and reloads
	mtime time.Time
	max   int64 // the series cap in force (derived or set)
}

// maxSeries is --max-series, or derived from the memory budget when 0;
// -1 is no cap.
func maxSeries(cfg Config, plan tuning.Plan) int64 {
	switch {
	case cfg.MaxSeries < 0:
		return 0
	case cfg.MaxSeries > 0:
		return cfg.MaxSeries
	}
	return max(plan.MemoryBudget/4/bytesPerSeries, 10_000)
}

// seriesSize is a series' cost against the size quotas, from its schema:
// the whisper file it is (header and archives). Whisper preallocates its
// files, so the physical size is the logical one; pebble's blocks are
// shared between series and compressed, so the logical size is used there
// too (docs/operations.md, "Limits and quotas").
func seriesSize(rules *schema.Rules) func(name string) limits.Size {
	return func(name string) limits.Size {
		s, _, err := rules.Match(name)
		if err != nil {
			return limits.Size{}
		}
		var pts int64
		for _, r := range s.Retentions {
			pts += r.Points
		}
		fs := schema.FileSize(s.Retentions)
		return limits.Size{DataPoints: pts, Logical: fs, Physical: fs}
	}
}

// readQuotaFile parses the quota file; warnings are logged once.
func readQuotaFile(path string, log *slog.Logger) ([]limits.Rule, time.Time, error) {
	if path == "" {
		return nil, time.Time{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("--quota-file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("--quota-file: %w", err)
	}
	rules, warns, err := limits.ParseQuotas(f)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("--quota-file %s: %w", path, err)
	}
	for _, w := range warns {
		log.Warn("quota file key has no effect", "file", path, "line", w.Line, "key", w.Key, "value", w.Value, "why", w.Why)
	}
	return rules, st.ModTime(), nil
}

// scanner is a backend that finds its stored series in the background
// (whisper's startup scan).
type scanner interface{ ScanDone() <-chan struct{} }

func newSeriesLimits(cfg Config, plan tuning.Plan, rules *schema.Rules, idx *index.Index, store storage.Store, log *slog.Logger) (*seriesLimits, error) {
	qr, mtime, err := readQuotaFile(cfg.QuotaFile, log)
	if err != nil {
		return nil, err
	}
	sl := &seriesLimits{path: cfg.QuotaFile, log: log, mtime: mtime, max: maxSeries(cfg, plan)}
	sl.lim = limits.New(limits.Config{
		MaxSeries:        sl.max,
		MaxCreates:       int64(cfg.MaxCreatesPerMinute),
		CreateWindow:     cfg.MaxCreatesWindow.Duration,
		ThroughputWindow: cfg.QuotaThroughputWindow.Duration,
		Rules:            qr,
		SizeOf:           seriesSize(rules),
		Walk:             idx.Walk,
		Logger:           log,
	})
	if sc, ok := store.(scanner); ok {
		select {
		case <-sc.ScanDone():
		default:
			// Until the scan is done a stored series looks new: count,
			// refuse nothing (watch recounts and ends this).
			sl.lim.SetCounting(true)
		}
	}
	return sl, nil
}

// reload re-reads the quota file; a file that fails keeps the old rules.
func (sl *seriesLimits) reload() error {
	if sl.path == "" {
		return nil
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	rules, mtime, err := readQuotaFile(sl.path, sl.log)
	if err != nil {
		return err
	}
	sl.lim.SetRules(rules)
	sl.mtime = mtime
	return nil
}

// recount counts existing series again (after the whisper tree scan).
func (sl *seriesLimits) recount() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	rules, _, err := readQuotaFile(sl.path, sl.log)
	if err != nil {
		sl.log.Error("quota file unreadable; usage recounted under the rules in force", "err", err)
		return
	}
	sl.lim.SetRules(rules)
}

// watch reloads the quota file within every of its change, and recounts
// usage once the backend's startup scan is done.
func (sl *seriesLimits) watch(ctx context.Context, store storage.Store, every time.Duration) {
	if sc, ok := store.(scanner); ok {
		select {
		case <-sc.ScanDone():
			sl.recount()
			sl.lim.SetCounting(false)
		case <-ctx.Done():
			return
		}
	}
	if sl.path == "" || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := os.Stat(sl.path)
		sl.mu.Lock()
		changed := err == nil && !st.ModTime().Equal(sl.mtime)
		sl.mu.Unlock()
		if !changed {
			continue
		}
		if err := sl.reload(); err != nil {
			sl.log.Error("quota file changed but does not load; keeping the old quotas", "file", sl.path, "err", err)
			sl.mu.Lock()
			sl.mtime = st.ModTime() // say it once per change
			sl.mu.Unlock()
			continue
		}
		sl.log.Info("reloaded", "file", sl.path)
	}
}

// metrics writes the limits' counters and the quota usage.
func (sl *seriesLimits) metrics(p *promWriter, drops map[string]uint64) {
	l := sl.lim
	for _, r := range limits.Reasons() {
		if r != limits.CreateRate {
			drops[r.String()] += l.DroppedPoints(r)
		}
	}
	help := "New series refused by a limit (reason max_series or quota_*), or for quota_throughput and deferred_full points refused, by namespace (/ = all)."
	p.header("plumbago_series_rejected_total", "counter", help)
	for _, rj := range l.Rejections() {
		p.counter("plumbago_series_rejected_total", help, rj.Count, "reason", rj.Reason.String(), "namespace", rj.Namespace)
	}
	p.counter("plumbago_series_deferred_total", "New series put off by --max-creates-per-minute (their points wait in the write buffer).", l.Rejected(limits.CreateRate))
	p.gauge("plumbago_series_counted", "Series counted against --max-series.", float64(l.Series()))
	p.gauge("plumbago_series_limit", "The series cap in force (--max-series; 0 = none).", float64(sl.max))
	for _, u := range l.Usages() {
		for _, q := range []struct {
			res       string
			used, lim int64
		}{
			{"metrics", u.Series, u.Rule.Metrics}, {"data_points", u.DataPoints, u.Rule.DataPoints},
			{"logical_size", u.Logical, u.Rule.LogicalSize}, {"physical_size", u.Physical, u.Rule.PhysicalSize},
			{"throughput", u.Taken, u.Rule.Throughput},
		} {
			if q.lim == 0 {
				continue
			}
			p.gauge("plumbago_quota_usage", "A namespace's use of a quota (throughput: points in the current window).", float64(q.used),
				"pattern", u.Pattern, "namespace", u.Namespace, "resource", q.res)
			p.gauge("plumbago_quota_limit", "A namespace's quota (-1: a quota of 0).", float64(q.lim),
				"pattern", u.Pattern, "namespace", u.Namespace, "resource", q.res)
		}
	}
}
