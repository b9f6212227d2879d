package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/accept"
	"github.com/plumbago/plumbago/ingest/line"
	"github.com/plumbago/plumbago/ingest/pipeline"
	"github.com/plumbago/plumbago/ingest/selfmetrics"
	"github.com/plumbago/plumbago/internal/gcpace"
	"github.com/plumbago/plumbago/internal/memrelease"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/cache"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/tuning"
)

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// server is a running plumbago: every component, in start order.
type server struct {
	cfg    Config
	plan   tuning.Plan
	log    *slog.Logger
	rules  *schema.Rules
	index  *index.Index
	store  storage.Store
	cache  *cache.Cache
	line   *line.Handler
	ingest *ingest.Server
	http   *fasthttp.Server
	httpLn net.Listener
	start  time.Time

	httpAccept *accept.Listener
	writer     writerHealth
	limits     *seriesLimits
	memory     *memrelease.Releaser // gives a spike's memory back (internal/memrelease)
	pacer      *gcpace.Pacer        // caps the GC's headroom over a large live heap (internal/gcpace); nil with GOGC set
	stopWatch  context.CancelFunc
	ready      atomic.Bool // started; /readyz
	loadFailed chan error  // the store's background name load failed (namesload.go)
	stopping   atomic.Bool // shutting down; /readyz

	carbon        carbonFiles     // [carbon], rule files and lists
	chain         *pipeline.Chain // carbon's per-point chain, every loop's sink
	components    []component
	seriesChanged []func() // run after series were deleted or renamed (seriesadmin.go)
	httpHandlers  []httpHandler
	// checkpointCopiers write components' files into a checkpoint.
	checkpointCopiers []checkpointCopier
	httpStats         httpStats
	auth              *httpAuth // nil: no --http-auth-file
	access            *accessPolicy
	tls               *httpTLS    // nil: no --http-tls-cert
	cors              *corsPolicy // nil: no --http-allowed-origins

	schemaMu     sync.Mutex           // serialises schema reloads
	schemaMtimes map[string]time.Time // --schemas and --aggregation as last read
	watchStop    chan struct{}        // closed by shutdown
}

// schemaWatchEvery is how often the schema files' modification times are
// checked (carbon re-reads them every 60 s).
const schemaWatchEvery = 10 * time.Second

// reloadSchemas re-reads --schemas and --aggregation for series created
// from now on (existing series keep their archives, as in carbon). A file
// that fails to load keeps the old rules; the error says why.
func (s *server) reloadSchemas() error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	mt := map[string]time.Time{}
	for _, p := range []string{s.cfg.Schemas, s.cfg.Aggregation} {
		if p != "" {
			mt[p] = mtime(p)
		}
	}
	n, err := schema.Load(s.cfg.Schemas, s.cfg.Aggregation)
	if err != nil {
		return err
	}
	s.rules.Replace(n)
	s.schemaMtimes = mt
	return nil
}

// schemasChanged reports whether a schema file changed since it was read.
func (s *server) schemasChanged() bool {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	for p, t := range s.schemaMtimes {
		if !mtime(p).Equal(t) {
			return true
		}
	}
	return false
}

// watchSchemas re-reads the schema files within schemaWatchEvery of a
// change. A failed read is logged once per change.
func (s *server) watchSchemas() {
	t := time.NewTicker(schemaWatchEvery)
	defer t.Stop()
	for {
		select {
		case <-s.watchStop:
			return
		case <-t.C:
			if !s.schemasChanged() {
				continue
			}
			if err := s.reloadSchemas(); err != nil {
				s.log.Error("re-reading changed storage schemas or aggregation; keeping the old ones", "err", err)
				s.schemaMu.Lock()
				for p := range s.schemaMtimes {
					s.schemaMtimes[p] = mtime(p) // say it once, until the next change
				}
				s.schemaMu.Unlock()
			} else {
				s.log.Info("re-read changed storage schemas and aggregation (for new series)", "schemas", s.cfg.Schemas, "aggregation", s.cfg.Aggregation)
			}
		}
	}
}

// freeAfterForget returns the memory of the series the write buffer
// forgot to the OS when they were many (after a burst of new series): on an
// idle server no allocation would run a GC to free them.
func freeAfterForget(n int) {
	if n >= 10000 {
		debug.FreeOSMemory()
	}
}

// bytesPerBufferedPoint is what one buffered point costs in the write
// buffer: the point (16 B) plus its share of slice growth and series state.
const bytesPerBufferedPoint = 32

// bufferedBytes is the write buffer's bound for what the shards hold
// (storage/cache Options.MaxBufferedBytes): the budget (--write-buffer or
// derived) less the loop-to-shard queues' chunks, which are allocated on
// the first burst that fills them and kept. At least a quarter of the
// budget is left to the shards.
func bufferedBytes(p tuning.Plan) int64 {
	queues := int64(p.EventLoops) * int64(p.StorageShards) * int64(p.QueueChunks) * tuning.QueueChunkBytes
	return max(int64(p.WriteBufferBytes)-queues, int64(p.WriteBufferBytes)/4)
}

// walDir is where the write buffer logs points for backends without a log
// of their own: whisper, and clickhouse (a point is trimmed from the log
// once ClickHouse acknowledged its insert). Pebble's own WAL covers its
// writes.
func walDir(cfg Config) string {
	if (cfg.Backend == "whisper" || cfg.Backend == "clickhouse") && !cfg.readOnly() {
		return filepath.Join(cfg.DataDir, "wal")
	}
	return ""
}

// flushInterval is how often the write buffer hands points to the backend.
// For pebble, whose WAL is the only log, it is at most half the sync
// interval (pebble syncs every other half), so a crash loses at most
// --sync-interval. Whisper's points are covered by the write buffer's own WAL.
func flushInterval(cfg Config) time.Duration {
	if cfg.Backend == "pebble" {
		return min(cfg.FlushInterval.Duration, pebbleSyncInterval(cfg))
	}
	return cfg.FlushInterval.Duration
}

func pebbleSyncInterval(cfg Config) time.Duration {
	return max(cfg.SyncInterval.Duration/2, time.Millisecond)
}

// whisperOnly is n with the whisper backend, else 0.
func whisperOnly(cfg Config, n int) int {
	if cfg.Backend == "whisper" {
		return n
	}
	return 0
}

// stepFunc reports the step of the archive a fetch over (from, now] would
// use for name, by whisper's archive choice (schema.StepFor).
func stepFunc(rules *schema.Rules) func(name string, from, now int64) int64 {
	return func(name string, from, now int64) int64 {
		s, _, err := rules.Match(name)
		if err != nil {
			return 0
		}
		return schema.StepFor(s.Retentions, now-from)
	}
}

// startServer builds and starts the server, in this order: the machine's
// plan (tuning), the rule files, storage (backend, name index, write
// buffer with its WAL replayed), carbon's per-point chain, the components,
// the ingest engine with every listener, the components' background work,
// the HTTP API.
func startServer(cfg Config, log *slog.Logger) (*server, error) {
	var err error
	s := &server{cfg: cfg, log: log, start: time.Now(), loadFailed: make(chan error, 1)}
	if s.access, err = newAccessPolicy(cfg); err != nil {
		return nil, err
	}
	s.tune()
	if s.rules, err = schema.Load(cfg.Schemas, cfg.Aggregation); err != nil {
		return nil, err
	}
	s.schemaMtimes = map[string]time.Time{}
	for _, p := range []string{cfg.Schemas, cfg.Aggregation} {
		if p != "" {
			s.schemaMtimes[p] = mtime(p)
		}
	}
	if s.carbon, err = loadCarbonFiles(cfg, log); err != nil {
		return nil, err
	}
	if err := s.openStorage(); err != nil {
		return nil, err
	}
	s.chain = pipeline.NewChain(s.carbon.chainConfig())
	if err := s.buildComponents(); err != nil {
		s.closeStorage()
		return nil, err
	}
	if err := s.startIngest(); err != nil {
		s.closeStorage()
		return nil, err
	}
	for _, c := range s.components {
		if err := c.start(context.Background()); err != nil {
			s.ingest.Stop(context.Background())
			s.closeStorage()
			return nil, err
		}
	}
	if err := s.startHTTP(); err != nil {
		s.ingest.Stop(context.Background())
		s.closeStorage()
		return nil, err
	}
	for _, n := range cfg.classicNotes {
		log.Info("classic config", "file", n.Where, "key", n.Key, "value", n.Value, "effect", n.Effect, "detail", n.Detail)
	}
	if cfg.CarbonConfig == "" && cfg.CarbonUDPAddr == "" && cfg.CarbonAddr != "" {
		log.Info("carbon plaintext UDP is on with TCP (--carbon-udp-addr off turns it off; carbon's default is off, which --carbon-config follows)")
	}
	s.watchStop = make(chan struct{})
	go s.watchSchemas()
	s.watchNamesLoad()
	s.ready.Store(true)
	log.Info("plumbago started", "version", version, "backend", cfg.Backend, "data_dir", cfg.DataDir,
		"carbon", cfg.CarbonAddr, "http", s.httpLn.Addr().String(), "event_loops", s.plan.EventLoops, "shards", s.plan.StorageShards)
	return s, nil
}

// tune derives the sizes from the machine and the overrides
// (tuning.Derive) and applies the Go memory limit.
func (s *server) tune() {
	m, err := tuning.Detect()
	if err != nil {
		s.log.Warn("detecting the machine; using defaults", "err", err)
	}
	o := s.cfg.overrides()
	if v, err := tuning.StatVolume(s.cfg.DataDir); err == nil {
		o.VolumeBytes = v.TotalBytes // pebble's memtable stays a small share of the volume
	}
	s.plan = tuning.Derive(m, o)
	if os.Getenv("GOMEMLIMIT") == "" && s.plan.GoMemLimit > 0 {
		debug.SetMemoryLimit(s.plan.GoMemLimit)
	}
	// A GOGC from the environment is the operator's own pacing: keep it.
	if os.Getenv("GOGC") == "" {
		s.pacer = gcpace.Start(gcpace.Config{})
	}
	for _, r := range s.plan.Reasons {
		s.log.Debug("tuning", "choice", r)
	}
}

// openStorage opens the backend with the name index and the write buffer
// in front of it, and replays the write-ahead log a crash left.
func (s *server) openStorage() error {
	cfg, log := s.cfg, s.log
	if cfg.readOnly() {
		log.Info("read-only: no ingest listener; the store is opened read-only and write and admin endpoints answer 403",
			"read_only_flag", cfg.ReadOnly)
	} else if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	s.index = index.New()
	// The pebble store's idle flush asks it for a release (Nudge).
	s.memory = memrelease.New(memrelease.Config{Logger: log, Activity: s.httpStats.answered})
	var err error
	if s.store, err = openStore(cfg, s.plan, s.rules, s.index, s.memory.Nudge, log); err != nil {
		return fmt.Errorf("opening %s backend: %w", cfg.Backend, err)
	}
	if s.limits, err = newSeriesLimits(cfg, s.plan, s.rules, s.index, s.store, log); err != nil {
		s.store.Close()
		return err
	}
	s.cache, err = cache.New(s.store, s.index, cache.Options{
		Shards:            s.plan.StorageShards,
		LaneChunks:        s.plan.QueueChunks,
		FlushInterval:     flushInterval(cfg),
		MaxBufferedPoints: s.plan.WriteBufferBytes / bytesPerBufferedPoint,
		MaxBufferedBytes:  bufferedBytes(s.plan),
		Step:              stepFunc(s.rules),
		Logger:            log,
		WALDir:            walDir(cfg),
		SyncInterval:      cfg.SyncInterval.Duration,
		Limits:            s.limits.lim,
		MaxDeferredPoints: cfg.MaxDeferredPoints,
		// Pebble batches every write anyway, and its points wait in the
		// buffer without a log of their own: no update limit there.
		MaxUpdatesPerSecond: whisperOnly(cfg, cfg.MaxUpdatesPerSecond),
		OnIdleForget:        freeAfterForget,
	})
	if err != nil {
		s.store.Close()
		return err
	}
	if cfg.MaxUpdatesPerSecond > 0 && cfg.Backend != "whisper" {
		log.Info("--max-updates-per-second has no effect with pebble: its writes are batched, not one file update per series")
	}
	var watchCtx context.Context
	watchCtx, s.stopWatch = context.WithCancel(context.Background())
	go s.limits.watch(watchCtx, s.store, cfg.QuotaReloadInterval.Duration)
	go s.memory.Run(watchCtx)
	keepBuffered(s)
	if err := loadRegisteredTags(s); err != nil {
		s.cache.Close()
		s.store.Close()
		return err
	}
	if n, err := s.cache.Replay(); err != nil {
		log.Error("replaying the write-ahead log", "err", err, "points", n)
	} else if n > 0 {
		log.Info("replayed the write-ahead log left by a crash", "points", n)
	}
	return nil
}

// startIngest starts the one gnet engine with carbon's plaintext listeners
// and every component's; each event loop's sink is newLoopSink's.
func (s *server) startIngest() error {
	cfg := s.cfg
	s.line = &line.Handler{Logger: s.log}
	var listeners []ingest.Listener
	if cfg.CarbonAddr != "" {
		listeners = append(listeners, ingest.Listener{Name: "carbon", Network: "tcp", Addr: cfg.CarbonAddr, Handler: s.line})
	}
	if udp := carbonUDPAddr(cfg); udp != "" {
		listeners = append(listeners, ingest.Listener{Name: "carbon", Network: "udp", Addr: udp, Handler: s.line, Shed: true})
	}
	for _, c := range s.components {
		listeners = append(listeners, c.listeners()...)
	}
	maxConns, idle := s.ingestLimits()
	var err error
	s.ingest, err = ingest.NewServer(ingest.Config{
		EventLoops:       s.plan.EventLoops,
		SocketRecvBuffer: s.plan.SocketRecvBuffer,
		MaxConns:         maxConns,
		IdleTimeout:      idle,
		ShedUDP:          s.cache.Stalled,
		NewSink:          s.newLoopSink,
		Logger:           s.log,
	}, listeners)
	if err != nil {
		return err
	}
	return s.ingest.Start()
}

func (s *server) startHTTP() error {
	a, err := newHTTPAuth(s.cfg, s.log)
	if err != nil {
		return err
	}
	s.auth = a
	if a != nil {
		s.access.warnUnknownUsers(a.users.Load().Has, s.log)
	}
	s.cors = newCORS(s.cfg.HTTPAllowedOrigins)
	if s.tls, err = newHTTPTLS(s.cfg, s.log); err != nil {
		return err
	}
	ln, err := s.listenHTTP()
	if err != nil {
		return err
	}
	s.httpLn = ln
	if s.tls != nil {
		ln = s.tls.listener(ln)
	}
	s.http = &fasthttp.Server{
		Handler:            s.handleHTTP,
		Name:               "plumbago",
		ReadTimeout:        s.cfg.HTTPReadTimeout.Duration,
		WriteTimeout:       60 * time.Second,
		IdleTimeout:        s.cfg.HTTPIdleTimeout.Duration,
		MaxRequestBodySize: 8 << 20,
	}
	go func() {
		if err := s.http.Serve(ln); err != nil {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

func (s *server) handleHTTP(ctx *fasthttp.RequestCtx) {
	if origin := s.cors.origin(ctx); origin != "" {
		if ctx.IsOptions() {
			ctx.SetStatusCode(fasthttp.StatusNoContent)
			setCORSHeaders(ctx, origin)
			return
		}
		// After the handler: ctx.Error resets the headers.
		defer setCORSHeaders(ctx, origin)
	}
	// The one access guard (access.go): basic auth and roles guard every
	// endpoint but /healthz and /readyz, which load balancers and container
	// health checks call bare; admin endpoints are for admins or loopback.
	if need, changes := requiredAccess(string(ctx.Method()), string(ctx.Path())); !s.authorize(ctx, need, changes) {
		return
	}
	switch string(ctx.Path()) {
	case "/healthz":
		s.serveHealthz(ctx)
		return
	case "/readyz":
		s.serveReadyz(ctx)
		return
	case "/metrics":
		ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
		w := bufio.NewWriter(ctx)
		s.writeMetrics(w)
		w.Flush()
		return
	}
	if !s.holdUntilLoaded(ctx) {
		return
	}
	t0 := time.Now()
	class := classify(string(ctx.Path()))
	handled := false
	for _, h := range s.httpHandlers {
		if h(ctx) {
			handled = true
			break
		}
	}
	if !handled {
		ctx.Error("not found", fasthttp.StatusNotFound)
	}
	s.httpStats.observe(class, time.Since(t0), ctx.Response.StatusCode())
}

func (s *server) writeMetrics(bw *bufio.Writer) {
	p := newPromWriter(bw)
	st := s.cache.Stats()
	p.counter("plumbago_points_received_total", "Points accepted from every source.", st.Received)
	p.counter("plumbago_points_committed_total", "Points written to the storage backend (queryable from disk).", st.Committed)
	drops := map[string]uint64{"store_error": st.WriteErrors, "udp_storage_unavailable": s.ingest.UDPShedLines.Load()}
	for _, r := range line.Reasons() {
		drops[r.String()] = s.line.Rejected(r)
	}
	backendMetrics(p, s.store, drops)
	s.limits.metrics(p, drops)
	for _, c := range s.components {
		c.metrics(p, drops)
	}
	for _, k := range sortedKeys(drops) {
		p.counter("plumbago_points_dropped_total", "Points or lines rejected or lost, by reason.", drops[k], "reason", k)
	}
	p.counter("plumbago_carbon_lines_total", "Carbon plaintext lines seen.", s.line.Lines())
	p.gauge("plumbago_buffered_points", "Points accepted but not yet written to the backend.", float64(st.Buffered))
	p.gauge("plumbago_write_buffer_bytes", "Memory the write buffer holds for points not yet written (their slices, and the series holding them); past plumbago_write_buffer_limit_bytes ingest pauses.", float64(st.BufferedBytes))
	p.gauge("plumbago_write_buffer_limit_bytes", "Bound of plumbago_write_buffer_bytes: --write-buffer (or derived) less the loop-to-shard queues' chunks.", float64(bufferedBytes(s.plan)))
	p.gauge("plumbago_series", "Series held by the write buffer (a series is forgotten 2-3 minutes after its last point).", float64(st.Series))
	p.counter("plumbago_series_forgotten_total", "Series the write buffer forgot after 2 minutes without a point (a later point files them again).", st.IdleEvicted)
	p.counter("plumbago_store_writes_total", "Batches written to the backend.", st.WriteOps)
	p.gauge("plumbago_store_last_write_seconds", "Duration of the last batch write.", float64(st.LastWriteNanos)/1e9)
	p.counter("plumbago_backpressure_waits_total", "Times ingest paused because the write buffer was full.", st.BlockedWaits)
	p.counter("plumbago_wal_errors_total", "Write-ahead log appends, syncs or rotations that failed.", st.WALErrors)
	p.counter("plumbago_store_write_retries_total", "Series writes that failed and were kept to try again (with back-off).", st.WriteRetries)
	p.gauge("plumbago_store_waiting_series", "Series whose points wait for storage to take writes again (no space, read-only).", float64(st.Waiting))
	p.gauge("plumbago_deferred_series", "New series waiting for --max-creates-per-minute.", float64(st.Deferred))
	p.gauge("plumbago_deferred_points", "Points of series waiting for --max-creates-per-minute.", float64(st.DeferredPoints))
	p.counter("plumbago_store_updates_throttled_total", "Series writes put off by --max-updates-per-second.", st.Throttled)
	p.counter("plumbago_store_syncs_total", "Backend syncs made before write-ahead log segments were deleted (whisper).", st.StoreSyncs)
	p.gauge("plumbago_connections", "Open ingest TCP connections.", float64(s.ingest.Connections.Load()))
	udpHelp := "UDP datagrams read, by how: by gnet one per readiness event, or by the Linux UDP readers' recvmmsg."
	p.counter("plumbago_udp_datagrams_total", udpHelp, s.ingest.UDPDatagrams.Load(), "read", "event")
	p.counter("plumbago_udp_datagrams_total", udpHelp, s.ingest.UDPBatched.Load(), "read", "recvmmsg")
	p.counter("plumbago_udp_reader_sleeps_total", "Sleeps of the Linux UDP readers after a short batch (ingest/udppace), so the next read takes many datagrams at once.", s.ingest.UDPPaced.Load())
	s.httpStats.write(p)
	if s.auth != nil {
		s.auth.metrics(p)
	}
	s.access.metrics(p)
	s.listenerMetrics(p)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.gauge("plumbago_go_heap_bytes", "Go heap in use.", float64(ms.HeapInuse))
	p.gauge("plumbago_go_memory_limit_bytes", "Go's soft memory limit in force: the configured one, or below it what the GC pacer set after the last cycle (live heap + a quarter, at least 64 MiB, + the runtime's memory outside the heap).", float64(debug.SetMemoryLimit(-1)))
	if s.memory != nil {
		p.counter("plumbago_memory_releases_total", "Times memory was collected and returned to the OS: after a spike (no GC cycle for 5 s while the heap held over half again what the last cycle found live), or after pebble's idle flush once no request was answered for a 5 s check.", s.memory.Released())
	}
	p.gauge("plumbago_goroutines", "Goroutines.", float64(runtime.NumGoroutine()))
	if rss, ok := selfmetrics.ResidentBytes(); ok {
		p.gauge("plumbago_resident_memory_bytes", "Resident set size.", float64(rss))
	}
	p.gauge("plumbago_uptime_seconds", "Seconds since start.", time.Since(s.start).Seconds())
}

func (s *server) closeStorage() {
	s.stopPacer()
	if s.stopWatch != nil {
		s.stopWatch()
	}
	if err := s.cache.Close(); err != nil {
		s.log.Error("draining write buffer", "err", err)
	}
	if err := s.store.Close(); err != nil {
		s.log.Error("closing storage", "err", err)
	}
}

// stopPacer puts the configured memory limit back.
func (s *server) stopPacer() {
	if s.pacer != nil {
		s.pacer.Stop()
	}
}

// shutdown stops ingest, writes everything accepted, then closes storage and
// the HTTP API.
func (s *server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.watchStop != nil {
		close(s.watchStop)
	}
	var errs []error
	if s.storageRefuses() {
		// Storage takes no writes: event loops blocked on the full buffer
		// would hold the listeners' stop for its whole timeout.
		s.log.Warn("storage takes no writes: letting ingest stop without waiting for room in the write buffer")
		s.cache.LiftBackPressure()
	}
	if err := s.ingest.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	for i := len(s.components) - 1; i >= 0; i-- {
		if err := s.components[i].stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.stopWatch()
	s.stopPacer()
	if err := s.cache.Close(); err != nil {
		errs = append(errs, fmt.Errorf("draining write buffer: %w", err))
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing storage: %w", err))
	}
	if err := s.http.ShutdownWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping http: %w", err))
	}
	st := s.cache.Stats()
	s.log.Info("plumbago stopped", "received", st.Received, "committed", st.Committed)
	return errors.Join(errs...)
}

// storageRefuses reports whether the write buffer or the backend says
// storage takes no writes now (no space, read-only).
func (s *server) storageRefuses() bool {
	if s.cache.Health() != nil {
		return true
	}
	h, ok := s.store.(healthReporter)
	return ok && h.Health() != nil
}

// reload re-reads the file-based settings that can change under a running
// server (SIGHUP, systemctl reload); a file that fails to load keeps its
// old settings, and the log says why. No listener or connection is touched.
func (s *server) reload() {
	s.log.Info("SIGHUP: re-reading files")
	if s.auth != nil {
		if err := s.auth.reload(s.log); err != nil {
			s.log.Error("reload failed; keeping the old users", "file", s.cfg.HTTPAuthFile, "err", err)
		} else {
			s.log.Info("reloaded", "file", s.cfg.HTTPAuthFile)
		}
	}
	if s.cfg.QuotaFile != "" {
		if err := s.limits.reload(); err != nil {
			s.log.Error("reload failed; keeping the old quotas", "file", s.cfg.QuotaFile, "err", err)
		} else {
			s.log.Info("reloaded", "file", s.cfg.QuotaFile)
		}
	}
	if s.cfg.Schemas != "" || s.cfg.Aggregation != "" {
		if err := s.reloadSchemas(); err != nil {
			s.log.Error("reload failed; keeping the old storage schemas and aggregation", "err", err)
		} else {
			s.log.Info("reloaded storage schemas and aggregation (for new series)", "schemas", s.cfg.Schemas, "aggregation", s.cfg.Aggregation)
		}
	}
	if s.tls != nil {
		if c, err := s.tls.reload(); err != nil {
			s.log.Error("reload failed; keeping the old certificate", "err", err)
		} else {
			s.log.Info("reloaded", "file", s.cfg.HTTPTLSCert, "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	for _, c := range s.components {
		r, ok := c.(interface{ reload() error })
		if !ok {
			continue
		}
		if err := r.reload(); err != nil {
			s.log.Error("reload failed; keeping the old settings", "err", err)
		} else {
			s.log.Info("reloaded rewrite rules, white/blacklists and aggregation rules")
		}
	}
	s.log.Info("not reloaded (restart to change): addresses and sizes")
}

func serve(args []string) error {
	// Signals are caught from the start: /healthz answers before
	// startServer returns, and a SIGTERM in that window would otherwise
	// take Go's default action and kill the process without writing what
	// it accepted. One arriving during start-up is handled once the server
	// has started.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	cfg, err := loadConfig("serve", args)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		return err
	}
	if cfg.PprofAddr != "" {
		// Listening before the server starts: start-up can be profiled,
		// and the profiles answer by the time /readyz does.
		stop, err := startPprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	s, err := startServer(cfg, log)
	if err != nil {
		return err
	}
	var got os.Signal
	for got == nil || got == syscall.SIGHUP {
		if got != nil {
			s.reload()
		}
		select {
		case got = <-sig:
		case err := <-s.loadFailed:
			s.stopping.Store(true)
			s.log.Error("stopping: the storage backend's series names failed to load", "err", err)
			return errors.Join(err, s.shutdown())
		}
	}
	s.stopping.Store(true)
	s.log.Info("signal received, writing everything accepted before exit", "signal", got.String())
	return s.shutdown()
}

func checkConfig(args []string, stdout, _ io.Writer) error {
	cfg, err := loadConfig("check-config", args)
	if err != nil {
		return err
	}
	rules, err := schema.Load(cfg.Schemas, cfg.Aggregation)
	if err != nil {
		return err
	}
	// The same loaders serve uses, so what passes here starts there.
	log := slog.New(slog.NewTextHandler(stdout, nil))
	carbon, err := loadCarbonFiles(cfg, log)
	if err != nil {
		return err
	}
	if len(carbon.lossy) > 0 {
		// serve would skip these lines with a warning: their points would
		// not be rewritten or filtered, so check-config fails.
		return fmt.Errorf("invalid lines serve would skip:\n  %s", strings.Join(carbon.lossy, "\n  "))
	}
	if _, _, err := loadStatsdConfig(cfg); err != nil {
		return err
	}
	if cfg.HTTPAuthFile != "" {
		if _, err := loadHTTPAuthFile(cfg.HTTPAuthFile, log); err != nil {
			return err
		}
	}
	if _, _, err := readQuotaFile(cfg.QuotaFile, log); err != nil {
		return err
	}
	if cfg.HTTPTLSCert != "" {
		if _, err := loadKeyPair(cfg.HTTPTLSCert, cfg.HTTPTLSKey); err != nil {
			return err
		}
	}
	for _, n := range cfg.classicNotes {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprintf(stdout, "config ok: backend %s, data %s\n", cfg.Backend, filepath.Clean(cfg.DataDir))
	if carbon.rules != nil {
		fmt.Fprintf(stdout, "aggregation rules: %d\n", len(carbon.rules.Rules))
	}
	for _, sc := range rules.Schemas {
		fmt.Fprintf(stdout, "schema [%s] pattern %s retentions %v\n", sc.Name, sc.Pattern, sc.Retentions)
	}
	for _, a := range rules.Aggregations {
		fmt.Fprintf(stdout, "aggregation [%s] pattern %s method %s xFilesFactor %g\n", a.Name, a.Pattern, a.Method, a.XFilesFactor)
	}
	return nil
}

// carbonUDPAddr is where carbon plaintext is read over UDP, or "".
func carbonUDPAddr(cfg Config) string {
	switch cfg.CarbonUDPAddr {
	case "off":
		return ""
	case "":
		return cfg.CarbonAddr
	}
	return cfg.CarbonUDPAddr
}
