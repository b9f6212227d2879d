package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/aggregator"
	"github.com/plumbago/plumbago/ingest/carbonlink"
	"github.com/plumbago/plumbago/ingest/pickle"
	"github.com/plumbago/plumbago/ingest/protobuf"
	"github.com/plumbago/plumbago/ingest/rewrite"
	"github.com/plumbago/plumbago/ingest/selfmetrics"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/tagged"
)

func init() { registerComponent(newCarbonComponent) }

// carbonConfig is the [carbon] table of the TOML config.
type carbonConfig struct {
	// Whitelist and Blacklist are carbon's whitelist.conf / blacklist.conf
	// (one regex per line).
	Whitelist string `toml:"whitelist"`
	Blacklist string `toml:"blacklist"`
	// ForwardAll is carbon-aggregator's FORWARD_ALL: also store the raw
	// points of metrics an aggregation rule matched.
	ForwardAll bool `toml:"forward-all"`
	// MaxAggregationIntervals is MAX_AGGREGATION_INTERVALS (default 5).
	MaxAggregationIntervals int `toml:"max-aggregation-intervals"`
	// PickleMaxFrame is PICKLE_RECEIVER_MAX_LENGTH (default 1MiB); it also
	// bounds protobuf frames.
	PickleMaxFrame ByteSize `toml:"pickle-max-frame"`
	// MetricInterval is CARBON_METRIC_INTERVAL (default 60s; 0s = off).
	MetricInterval Duration `toml:"metric-interval"`
	// MetricPrefix replaces "carbon.agents.<host>".
	MetricPrefix string `toml:"metric-prefix"`
	// MaxNameLength bounds metric names (default 1024).
	MaxNameLength int `toml:"max-name-length"`
}

// carbonComponent is carbon's ingest side beyond the plaintext protocol:
// pickle and protobuf listeners, carbonlink, carbon-aggregator rules,
// rewrite rules, white/blacklists, tag normalisation and indexing, and the
// carbon.agents.* self-metrics.
type carbonComponent struct {
	s  *server
	cc carbonConfig

	pickle *pickle.Handler
	proto  *protobuf.Handler
	link   *carbonlink.Handler

	rules *aggregator.Rules // nil: no aggregation
	rw    atomic.Pointer[rewriteSet]
	tags  *tagged.TagIndex

	merger   *aggregator.Merger
	epoch    atomic.Uint64
	handMu   sync.Mutex
	handed   []*aggregator.State
	sinksMu  sync.Mutex
	sinks    []*carbonSink
	aggSent  atomic.Uint64
	aggBufs  atomic.Int64
	aggVals  atomic.Int64
	mergerMu sync.Mutex // serialises merge cycles with the final flush

	unsafeNames atomic.Uint64
	badTags     atomic.Uint64
	blacklisted atomic.Uint64
	whitelistNo atomic.Uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// bufferedPoints adapts the write buffer to carbonlink.Cache.
type bufferedPoints struct{ s *server }

func (b bufferedPoints) Points(name string, dst []storage.Point) []storage.Point {
	return b.s.cache.Buffered(name, dst)
}

// aggregationMethods answers carbonlink get-metadata from the schemas.
type aggregationMethods struct{ s *server }

func (a aggregationMethods) AggregationMethod(name string) (string, error) {
	_, agg, err := a.s.rules.Match(name)
	if err != nil {
		return "", err
	}
	return agg.Method.String(), nil
}

// carbonFiles is what the carbon component reads from the config and the
// files it names: the [carbon] table, aggregation rules, rewrite rules and
// white/blacklists. serve and check-config load it the same way.
type carbonFiles struct {
	cc    carbonConfig
	rules *aggregator.Rules // nil: no aggregation
	rw    *rewriteSet
	// lossy lists the invalid lines skipped in rewrite and list files:
	// serve warns, check-config fails.
	lossy []string
}

// rewriteSet is what the rewrite-rules, whitelist and blacklist files say;
// it is swapped whole when they change (every 10 s check, and SIGHUP).
type rewriteSet struct {
	rewrite *rewrite.Rules // nil: no rewriting
	filter  rewrite.Filter
	mtimes  map[string]time.Time
}

// loadRewriteSet reads the rewrite and list files; invalid lines that
// carbon would skip are skipped and returned.
func loadRewriteSet(cfg Config, cc carbonConfig) (*rewriteSet, []string, error) {
	rs := &rewriteSet{mtimes: map[string]time.Time{}}
	var lossy []string
	var err error
	if cfg.RewriteRules != "" {
		rs.rewrite, err = rewrite.ParseFile(cfg.RewriteRules)
		if rs.rewrite == nil {
			return nil, nil, err
		}
		if err != nil {
			lossy = append(lossy, fmt.Sprintf("%s: %v", cfg.RewriteRules, err))
		}
		rs.mtimes[cfg.RewriteRules] = mtime(cfg.RewriteRules)
	}
	for _, l := range []struct {
		path string
		dst  **rewrite.List
	}{{cc.Whitelist, &rs.filter.Whitelist}, {cc.Blacklist, &rs.filter.Blacklist}} {
		if l.path == "" {
			continue
		}
		*l.dst, err = rewrite.ParseListFile(l.path)
		if *l.dst == nil {
			return nil, nil, err
		}
		if err != nil {
			lossy = append(lossy, fmt.Sprintf("%s: %v", l.path, err))
		}
		rs.mtimes[l.path] = mtime(l.path)
	}
	return rs, lossy, nil
}

func mtime(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// changed reports whether any file of rs changed since it was read.
func (rs *rewriteSet) changed() bool {
	for p, t := range rs.mtimes {
		if !mtime(p).Equal(t) {
			return true
		}
	}
	return false
}

// loadCarbonFiles parses the carbon component's configuration. Invalid lines
// that carbon itself would skip are logged and skipped; anything else is an
// error.
func loadCarbonFiles(cfg Config, log *slog.Logger) (carbonFiles, error) {
	var f carbonFiles
	f.cc.MetricInterval = Duration{60 * time.Second}
	f.cc.ForwardAll = true // carbon's FORWARD_ALL default, and Debian's carbon.conf
	for _, apply := range cfg.classicCarbon {
		apply(&f.cc) // carbon.conf, under the [carbon] table
	}
	if cfg.meta.IsDefined("carbon") {
		if err := cfg.meta.PrimitiveDecode(cfg.Carbon, &f.cc); err != nil {
			return f, fmt.Errorf("config [carbon]: %w", err)
		}
	}
	var err error
	if cfg.AggregationRules != "" {
		if f.rules, err = aggregator.ParseFile(cfg.AggregationRules); err != nil {
			return f, err
		}
		f.rules.ForwardAll = f.cc.ForwardAll
		if f.cc.MaxAggregationIntervals > 0 {
			f.rules.MaxIntervals = int64(f.cc.MaxAggregationIntervals)
		}
	}
	if f.rw, f.lossy, err = loadRewriteSet(cfg, f.cc); err != nil {
		return f, err
	}
	for _, l := range f.lossy {
		log.Warn("rewrite rules or white/blacklist: skipped invalid lines", "err", l)
	}
	return f, nil
}

// reload re-reads the rewrite and list files; on error the old ones stay.
func (c *carbonComponent) reload() error {
	rs, lossy, err := loadRewriteSet(c.s.cfg, c.cc)
	if err != nil {
		return fmt.Errorf("rewrite rules or white/blacklist: %w", err)
	}
	for _, l := range lossy {
		c.s.log.Warn("rewrite rules or white/blacklist: skipped invalid lines", "err", l)
	}
	c.rw.Store(rs)
	return nil
}

// watchFiles re-reads the rewrite and list files within 10 s of a change,
// as carbon re-reads its rule files.
func (c *carbonComponent) watchFiles(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !c.rw.Load().changed() {
				continue
			}
			if err := c.reload(); err != nil {
				c.s.log.Error("re-reading changed files; keeping the old ones", "err", err)
			} else {
				c.s.log.Info("re-read changed rewrite rules and white/blacklists")
			}
		}
	}
}

func newCarbonComponent(s *server) (component, error) {
	files, err := loadCarbonFiles(s.cfg, s.log)
	if err != nil {
		return nil, err
	}
	c := &carbonComponent{s: s, tags: s.index.Tags(),
		cc: files.cc, rules: files.rules}
	c.rw.Store(files.rw)
	if c.rules != nil {
		c.merger = aggregator.NewMerger(c.rules)
	}
	// c.tags is the name index's own tag index, the one index of tagged
	// names: the write buffer, pebble's persisted names and the whisper scan
	// feed it through index.Add. Has takes no lock (storage/tagged).
	c.pickle = &pickle.Handler{MaxFrame: int(c.cc.PickleMaxFrame), Logger: s.log}
	c.proto = &protobuf.Handler{MaxFrame: int(c.cc.PickleMaxFrame), Logger: s.log}
	c.link = &carbonlink.Handler{Cache: bufferedPoints{s}, Metadata: aggregationMethods{s}}
	s.wrapSink(c.wrap)
	return c, nil
}

func (c *carbonComponent) listeners() []ingest.Listener {
	var ls []ingest.Listener
	cfg := c.s.cfg
	if cfg.PickleAddr != "" {
		ls = append(ls, ingest.Listener{Name: "pickle", Network: "tcp", Addr: cfg.PickleAddr, Handler: c.pickle})
	}
	if cfg.ProtobufAddr != "" {
		ls = append(ls, ingest.Listener{Name: "protobuf", Network: "tcp", Addr: cfg.ProtobufAddr, Handler: c.proto})
	}
	if cfg.CarbonlinkAddr != "" {
		ls = append(ls, ingest.Listener{Name: "carbonlink", Network: "tcp", Addr: cfg.CarbonlinkAddr, Handler: c.link})
	}
	return ls
}

func (c *carbonComponent) start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if c.merger != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.runMerger(ctx)
		}()
	}
	if len(c.rw.Load().mtimes) > 0 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.watchFiles(ctx, 2*time.Second)
		}()
	}
	if iv := c.cc.MetricInterval.Duration; iv > 0 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.runSelfMetrics(ctx, iv)
		}()
	}
	return nil
}

func (c *carbonComponent) stop(context.Context) error {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	if c.merger == nil {
		return nil
	}
	// The engine has stopped: no loop touches its sink any more, so every
	// loop's aggregation state can be taken directly.
	c.sinksMu.Lock()
	for _, w := range c.sinks {
		c.merger.Merge(w.loop.Swap())
	}
	c.sinksMu.Unlock()
	c.mergerMu.Lock()
	defer c.mergerMu.Unlock()
	c.takeHanded()
	p := c.s.cache.NewProducer()
	c.merger.Flush(c.emitter(p))
	p.Flush()
	return nil
}

func (c *carbonComponent) metrics(p *promWriter, drops map[string]uint64) {
	for _, r := range pickle.Reasons() {
		drops[r.String()] = c.pickle.Rejected(r)
	}
	drops["protobuf_malformed"] = c.proto.Malformed()
	drops["protobuf_frame_too_large"] = c.proto.TooLarge()
	drops["protobuf_bad_point"] = c.proto.BadPoints()
	drops["unsafe_name"] = c.unsafeNames.Load()
	drops["bad_tags"] = c.badTags.Load()
	drops["blacklist"] = c.blacklisted.Load()
	drops["whitelist"] = c.whitelistNo.Load()
	p.counter("plumbago_pickle_frames_total", "Carbon pickle frames decoded.", c.pickle.Frames())
	p.counter("plumbago_protobuf_frames_total", "Carbon protobuf frames decoded.", c.proto.Frames())
	p.counter("plumbago_carbonlink_queries_total", "Carbonlink cache queries.", c.link.Stats.Queries.Load(), "type", "single")
	p.counter("plumbago_carbonlink_queries_total", "Carbonlink cache queries.", c.link.Stats.BulkQueries.Load(), "type", "bulk")
	p.counter("plumbago_aggregate_points_total", "Points emitted by carbon-aggregator rules.", c.aggSent.Load())
	p.gauge("plumbago_tagged_series", "Tagged series in the tag index.", float64(c.s.index.TaggedLen()))
}

// wrap is the sink wrapper applied to every event loop's points, in
// carbon's order: name checks, blacklist/whitelist, [pre] rewrites, tag
// normalisation (and indexing), aggregation rules.
func (c *carbonComponent) wrap(next ingest.SinkFlusher) ingest.SinkFlusher {
	w := &carbonSink{c: c, next: next, epoch: c.epoch.Load()}
	if c.rules != nil {
		w.loop = aggregator.NewLoop(c.rules)
		c.sinksMu.Lock()
		c.sinks = append(c.sinks, w)
		c.sinksMu.Unlock()
	}
	return w
}

type carbonSink struct {
	c     *carbonComponent
	next  ingest.SinkFlusher
	loop  *aggregator.Loop
	epoch uint64
	rbuf  []byte
	pbuf  []byte
	nbuf  []byte
}

func (w *carbonSink) AddPoint(name []byte, ts int64, v float64) {
	c := w.c
	rs := c.rw.Load()
	switch rs.filter.Check(name) {
	case rewrite.BlacklistMatch:
		c.blacklisted.Add(1)
		return
	case rewrite.WhitelistReject:
		c.whitelistNo.Add(1)
		return
	}
	if rs.rewrite != nil && len(rs.rewrite.Pre) > 0 {
		out := rs.rewrite.Pre.Apply(name, w.rbuf)
		if len(out) == 0 {
			c.unsafeNames.Add(1) // rewritten to nothing
			return
		}
		if &out[0] != &name[0] {
			w.rbuf = out[:0] // keep the grown buffer
		}
		name = out
	}
	if err := tagged.ValidatePath(name, c.cc.MaxNameLength); err != nil {
		c.unsafeNames.Add(1)
		return
	}
	name, ok := w.normalize(name)
	if !ok {
		return
	}
	if w.loop != nil {
		matched := w.loop.Add(name, ts, v)
		if !w.loop.Forward(name, matched) {
			return
		}
	}
	// carbon-aggregator 1.1.7's pipeline is rewrite:pre, aggregate,
	// rewrite:post, write: [post] renames what the aggregate step passes
	// on, while the aggregates it generates skip both rewrite steps.
	if rs.rewrite != nil && len(rs.rewrite.Post) > 0 {
		out := rs.rewrite.Post.Apply(name, w.pbuf)
		if len(out) == 0 {
			c.unsafeNames.Add(1) // rewritten to nothing
			return
		}
		if &out[0] != &name[0] {
			w.pbuf = out[:0]
			if err := tagged.ValidatePath(out, c.cc.MaxNameLength); err != nil {
				c.unsafeNames.Add(1)
				return
			}
			if name, ok = w.normalize(out); !ok {
				return
			}
		}
	}
	w.next.AddPoint(name, ts, v)
}

// normalize puts tagged names in carbon's canonical form and indexes them.
func (w *carbonSink) normalize(name []byte) ([]byte, bool) {
	if !tagged.IsTagged(name) {
		return name, true
	}
	n, err := tagged.Normalize(w.nbuf[:0], name)
	if err != nil {
		w.c.badTags.Add(1)
		return nil, false
	}
	if &n[0] != &name[0] {
		w.nbuf = n[:0]
	}
	if !w.c.tags.Has(n) {
		w.c.tags.Add(n)
	}
	return n, true
}

// Flush hands the loop's aggregation state over when the merger asked for
// it (it runs on the loop's goroutine, after every traffic event and from
// Server.OnLoops).
func (w *carbonSink) Flush() {
	if w.loop != nil {
		if e := w.c.epoch.Load(); e != w.epoch {
			w.epoch = e
			if st := w.loop.Swap(); st.Points() > 0 {
				w.c.handMu.Lock()
				w.c.handed = append(w.c.handed, st)
				w.c.handMu.Unlock()
			}
		}
	}
	w.next.Flush()
}

func (c *carbonComponent) takeHanded() {
	c.handMu.Lock()
	states := c.handed
	c.handed = nil
	c.handMu.Unlock()
	for _, st := range states {
		c.merger.Merge(st)
	}
}

// emitter writes aggregates through tag normalisation into the write
// buffer.
func (c *carbonComponent) emitter(p ingest.SinkFlusher) aggregator.Emitter {
	var nbuf []byte
	return func(name string, ts int64, v float64) {
		c.aggSent.Add(1)
		// Aggregates skip the rewrite rules, as carbon-aggregator's
		// generated metrics do (its pipeline for them is relay/write only).
		b := []byte(name)
		if tagged.IsTagged(b) {
			n, err := tagged.Normalize(nbuf[:0], b)
			if err != nil {
				c.badTags.Add(1)
				return
			}
			b = n
			if !c.tags.Has(n) {
				c.tags.Add(n)
			}
		}
		p.AddPoint(b, ts, v)
	}
}

// runMerger collects every loop's aggregation state once a second and emits
// the intervals that completed.
func (c *carbonComponent) runMerger(ctx context.Context) {
	p := c.s.cache.NewProducer()
	emit := c.emitter(p)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c.epoch.Add(1)
			octx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.s.ingest.OnLoops(octx, func(*ingest.Loop) {})
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				c.s.log.Warn("aggregator: collecting loop state", "err", err)
			}
			c.mergerMu.Lock()
			c.takeHanded()
			c.merger.Emit(now.Unix(), emit)
			n, pts := c.merger.Buffers()
			c.mergerMu.Unlock()
			c.aggBufs.Store(int64(n))
			c.aggVals.Store(int64(pts))
			p.Flush()
		}
	}
}

// runSelfMetrics writes carbon.agents.<host>.* every interval.
func (c *carbonComponent) runSelfMetrics(ctx context.Context, iv time.Duration) {
	// creates counts names new since start, not those found on disk.
	baseNames := c.s.index.Len()
	// Like carbon's LoopingCall(now=False): nothing before one interval.
	select {
	case <-ctx.Done():
		return
	case <-time.After(iv):
	}
	p := c.s.cache.NewProducer()
	r := &selfmetrics.Reporter{Prefix: c.cc.MetricPrefix}
	var lastCPU time.Duration
	lastWall := time.Now()
	r.Run(ctx, iv, func() selfmetrics.Snapshot {
		st := c.s.cache.Stats()
		snap := selfmetrics.Snapshot{
			Counters: map[string]uint64{
				selfmetrics.MetricsReceived:         st.Received,
				selfmetrics.CommittedPoints:         st.Committed,
				selfmetrics.UpdateOperations:        st.WriteOps,
				selfmetrics.Errors:                  st.WriteErrors,
				selfmetrics.Creates:                 uint64(max(c.s.index.Len()-baseNames, 0)),
				selfmetrics.BlacklistMatches:        c.blacklisted.Load(),
				selfmetrics.WhitelistRejects:        c.whitelistNo.Load(),
				selfmetrics.CacheQueries:            c.link.Stats.Queries.Load(),
				selfmetrics.CacheBulkQueries:        c.link.Stats.BulkQueries.Load(),
				selfmetrics.CacheBulkMetrics:        c.link.Stats.BulkMetrics.Load(),
				selfmetrics.CacheOverflow:           st.BlockedWaits,
				selfmetrics.AggregateDatapointsSent: c.aggSent.Load(),
			},
			Gauges: map[string]float64{
				selfmetrics.CacheSize:         float64(st.Buffered),
				selfmetrics.CacheQueues:       float64(st.Series),
				selfmetrics.ActiveConnections: float64(c.s.ingest.Connections.Load()),
			},
		}
		if c.merger != nil {
			snap.Gauges[selfmetrics.AllocatedBuffers] = float64(c.aggBufs.Load())
			snap.Gauges[selfmetrics.BufferedDatapoints] = float64(c.aggVals.Load())
		}
		if rss, ok := residentBytes(); ok {
			snap.Gauges[selfmetrics.MemUsage] = float64(rss)
		}
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			now := time.Now()
			if wall := now.Sub(lastWall); wall > 0 {
				// carbon's cpuUsage: CPU seconds per wall second, in percent.
				snap.Gauges[selfmetrics.CPUUsage] = 100 * float64(cpu-lastCPU) / float64(wall)
			}
			lastCPU, lastWall = cpu, now
		}
		return snap
	}, p.AddPoint, p.Flush)
}
