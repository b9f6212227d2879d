package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/aggregator"
	"github.com/plumbago/plumbago/ingest/carbonlink"
	"github.com/plumbago/plumbago/ingest/pickle"
	"github.com/plumbago/plumbago/ingest/pipeline"
	"github.com/plumbago/plumbago/ingest/protobuf"
	"github.com/plumbago/plumbago/ingest/rewrite"
	"github.com/plumbago/plumbago/storage"
)

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
// pickle and protobuf listeners, carbonlink, the aggregator's merge loop,
// the carbon.agents.* self-metrics and the re-reading of rewrite and list
// files. The per-point chain (lists, rewrites, tag normalisation,
// aggregation rules) is the server's pipeline.Chain, which every event
// loop's sink runs; reload hands it a new rule set.
type carbonComponent struct {
	s  *server
	cc carbonConfig

	pickle *pickle.Handler
	proto  *protobuf.Handler
	link   *carbonlink.Handler

	merger *pipeline.Merger
	self   *pipeline.SelfMetrics

	reloadMu sync.Mutex                 // one reload at a time (SIGHUP, watchFiles)
	watched  atomic.Pointer[rewriteSet] // the rewrite and list files in force

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

// rewriteSet is what the rewrite-rules, whitelist, blacklist and
// aggregation-rules files say, with the modification times they had when
// read; the chain gets it whole when they change (every 10 s check, and
// SIGHUP).
type rewriteSet struct {
	rewrite     *rewrite.Rules // nil: no rewriting
	filter      rewrite.Filter
	aggregation *aggregator.Rules // nil: no aggregation
	mtimes      map[string]time.Time
}

// loadRewriteSet reads the rewrite, list and aggregation-rules files;
// invalid rewrite and list lines that carbon would skip are skipped and
// returned, a bad aggregation rule is an error.
func loadRewriteSet(cfg Config, cc carbonConfig) (*rewriteSet, []string, error) {
	rs := &rewriteSet{mtimes: map[string]time.Time{}}
	var lossy []string
	var err error
	if cfg.AggregationRules != "" {
		rs.mtimes[cfg.AggregationRules] = mtime(cfg.AggregationRules)
		if rs.aggregation, err = aggregator.ParseFile(cfg.AggregationRules); err != nil {
			return nil, nil, err
		}
		rs.aggregation.ForwardAll = cc.ForwardAll
		if cc.MaxAggregationIntervals > 0 {
			rs.aggregation.MaxIntervals = int64(cc.MaxAggregationIntervals)
		}
	}
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
	if f.rw, f.lossy, err = loadRewriteSet(cfg, f.cc); err != nil {
		return f, err
	}
	f.rules = f.rw.aggregation
	for _, l := range f.lossy {
		log.Warn("rewrite rules or white/blacklist: skipped invalid lines", "err", l)
	}
	return f, nil
}

// chainConfig is the per-point chain these files configure.
func (f carbonFiles) chainConfig() pipeline.Config {
	return pipeline.Config{
		Rules:         pipeline.Rules{Filter: f.rw.filter, Rewrite: f.rw.rewrite, Aggregation: f.rules},
		MaxNameLength: f.cc.MaxNameLength,
	}
}

// reload re-reads the rewrite, list and aggregation-rules files and hands
// the chain the new rule set (what loops aggregated under the old rules is
// emitted by them); on error the old ones stay.
func (c *carbonComponent) reload() error {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	rs, lossy, err := loadRewriteSet(c.s.cfg, c.cc)
	if err != nil {
		// Seen: the watcher says it once, not every 2 s until the next change.
		if old := c.watched.Load(); old != nil {
			seen := *old
			seen.mtimes = map[string]time.Time{}
			for p := range old.mtimes {
				seen.mtimes[p] = mtime(p)
			}
			c.watched.Store(&seen)
		}
		return fmt.Errorf("rewrite rules, white/blacklist or aggregation rules: %w", err)
	}
	for _, l := range lossy {
		c.s.log.Warn("rewrite rules or white/blacklist: skipped invalid lines", "err", l)
	}
	c.watched.Store(rs)
	chain := c.s.chain
	chain.SetRules(&pipeline.Rules{Filter: rs.filter, Rewrite: rs.rewrite, Aggregation: rs.aggregation})
	return nil
}

// watchFiles re-reads the rewrite, list and aggregation-rules files within
// 10 s of a change,
// as carbon re-reads its rule files.
func (c *carbonComponent) watchFiles(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !c.watched.Load().changed() {
				continue
			}
			if err := c.reload(); err != nil {
				c.s.log.Error("re-reading changed files; keeping the old ones", "err", err)
			} else {
				c.s.log.Info("re-read changed rewrite rules, white/blacklists and aggregation rules")
			}
		}
	}
}

func newCarbonComponent(s *server) *carbonComponent {
	c := &carbonComponent{s: s, cc: s.carbon.cc}
	c.watched.Store(s.carbon.rw)
	c.pickle = &pickle.Handler{MaxFrame: int(c.cc.PickleMaxFrame), Logger: s.log}
	c.proto = &protobuf.Handler{MaxFrame: int(c.cc.PickleMaxFrame), Logger: s.log}
	c.link = &carbonlink.Handler{Cache: bufferedPoints{s}, Metadata: aggregationMethods{s}}
	c.merger = pipeline.NewMerger(s.chain, func() ingest.SinkFlusher { return s.cache.NewProducer() }, loopsOf{s}, s.log)
	c.self = &pipeline.SelfMetrics{
		Prefix: c.cc.MetricPrefix, Interval: c.cc.MetricInterval.Duration,
		Cache: s.cache, Names: s.index.Len, Chain: s.chain, Merger: c.merger, Link: c.link,
		Connections:    func() int64 { return s.ingest.Connections.Load() },
		DroppedCreates: s.limits.lim.RefusedCreates,
		UDPDropped:     func() uint64 { return s.ingest.UDPShedLines.Load() },
	}
	return c
}

// loopsOf runs functions on the server's event loops; the ingest server
// exists only once every component is built.
type loopsOf struct{ s *server }

func (l loopsOf) OnLoops(ctx context.Context, fn func(*ingest.Loop)) error {
	return l.s.ingest.OnLoops(ctx, fn)
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
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.merger.Run(ctx)
	}()
	if len(c.watched.Load().mtimes) > 0 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.watchFiles(ctx, 2*time.Second)
		}()
	}
	if c.self.Interval > 0 {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.self.Run(ctx)
		}()
	}
	return nil
}

func (c *carbonComponent) stop(context.Context) error {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	c.merger.FlushAll()
	return nil
}

func (c *carbonComponent) metrics(p *promWriter, drops map[string]uint64) {
	for _, r := range pickle.Reasons() {
		drops[r.String()] = c.pickle.Rejected(r)
	}
	drops["protobuf_malformed"] = c.proto.Malformed()
	drops["protobuf_frame_too_large"] = c.proto.TooLarge()
	drops["protobuf_bad_point"] = c.proto.BadPoints()
	counts := c.s.chain.Counts()
	drops["unsafe_name"] = counts.UnsafeNames
	drops["bad_tags"] = counts.BadTags
	drops["blacklist"] = counts.BlacklistMatches
	drops["whitelist"] = counts.WhitelistRejects
	aggSent := c.merger.Sent()
	p.counter("plumbago_pickle_frames_total", "Carbon pickle frames decoded.", c.pickle.Frames())
	p.counter("plumbago_protobuf_frames_total", "Carbon protobuf frames decoded.", c.proto.Frames())
	p.counter("plumbago_carbonlink_queries_total", "Carbonlink cache queries.", c.link.Stats.Queries.Load(), "type", "single")
	p.counter("plumbago_carbonlink_queries_total", "Carbonlink cache queries.", c.link.Stats.BulkQueries.Load(), "type", "bulk")
	p.counter("plumbago_aggregate_points_total", "Points emitted by carbon-aggregator rules.", aggSent)
	p.gauge("plumbago_tagged_series", "Tagged series in the tag index.", float64(c.s.index.TaggedLen()))
}
