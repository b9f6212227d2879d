package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/plumbago/plumbago/ingest/statsd"
	"github.com/plumbago/plumbago/tuning"
)

// Config is everything `plumbago serve` can be told, by flag or by the TOML
// file given with --config (flags win). TOML keys are the flag names.
type Config struct {
	DataDir    string `toml:"data-dir"`
	Backend    string `toml:"backend"`
	WhisperDir string `toml:"whisper-dir"`
	// WhisperWatch follows files other tools change under the whisper
	// tree (inotify); WhisperRescanInterval rescans it as a fallback.
	WhisperWatch          bool     `toml:"whisper-watch"`
	WhisperRescanInterval Duration `toml:"whisper-rescan-interval"`
	// The clickhouse backend (clickhousecfg.go, docs/clickhouse.md).
	ClickHouseURL          string   `toml:"clickhouse-url"`
	ClickHouseDatabase     string   `toml:"clickhouse-database"`
	ClickHousePointsTable  string   `toml:"clickhouse-points-table"`
	ClickHouseIndexTable   string   `toml:"clickhouse-index-table"`
	ClickHouseTaggedTable  string   `toml:"clickhouse-tagged-table"`
	ClickHouseUser         string   `toml:"clickhouse-user"`
	ClickHousePassword     string   `toml:"clickhouse-password"`
	ClickHouseTLSCA        string   `toml:"clickhouse-tls-ca"`
	ClickHouseTLSCert      string   `toml:"clickhouse-tls-cert"`
	ClickHouseTLSKey       string   `toml:"clickhouse-tls-key"`
	ClickHouseTLSInsecure  bool     `toml:"clickhouse-tls-insecure-skip-verify"`
	ClickHouseTimeout      Duration `toml:"clickhouse-timeout"`
	ClickHouseIndexRefresh Duration `toml:"clickhouse-index-refresh"`
	ClickHouseCreateTables bool     `toml:"clickhouse-create-tables"`
	ClickHousePushdown     bool     `toml:"clickhouse-pushdown"`
	ClickHouseInsertQuorum int      `toml:"clickhouse-insert-quorum"`
	CarbonAddr             string   `toml:"carbon-addr"`
	PickleAddr             string   `toml:"pickle-addr"`
	ProtobufAddr           string   `toml:"protobuf-addr"`
	StatsdAddr             string   `toml:"statsd-addr"`
	StatsdAdminAddr        string   `toml:"statsd-admin-addr"`
	CarbonlinkAddr         string   `toml:"carbonlink-addr"`
	HTTPAddr               string   `toml:"http-addr"`
	PprofAddr              string   `toml:"pprof-addr"`
	HTTPAuthFile           string   `toml:"http-auth-file"`
	// HTTPAuthFailuresPerMinute bounds each client's failed logins.
	HTTPAuthFailuresPerMinute int `toml:"http-auth-failures-per-minute"`
	// HTTPAllowedOrigins is graphite-api's allowed_origins, comma-separated.
	HTTPAllowedOrigins string `toml:"http-allowed-origins"`
	// Roles of the --http-auth-file users (access.go): comma-separated
	// user lists, and the role of users in none of them.
	HTTPAdminUsers  string `toml:"http-admin-users"`
	HTTPWriteUsers  string `toml:"http-write-users"`
	HTTPReadUsers   string `toml:"http-read-users"`
	HTTPDefaultRole string `toml:"http-default-role"`
	// TLS of the HTTP API (httptls.go): PEM files, re-read on SIGHUP.
	HTTPTLSCert string `toml:"http-tls-cert"`
	HTTPTLSKey  string `toml:"http-tls-key"`
	// ReadOnly serves the data dir without changing it: no ingest
	// listener, the store opened read-only, write endpoints 403.
	ReadOnly bool `toml:"read-only"`
	// ResizeOnStart re-shapes, before serving, every series (either
	// backend) whose stored layout differs from the schemas and aggregation (resize.go).
	ResizeOnStart       bool     `toml:"resize-on-start"`
	RenderCache         ByteSize `toml:"render-cache"`
	Schemas             string   `toml:"schemas"`
	Aggregation         string   `toml:"aggregation"`
	AggregationRules    string   `toml:"aggregation-rules"`
	RewriteRules        string   `toml:"rewrite-rules"`
	StatsdFlushInterval Duration `toml:"statsd-flush-interval"`
	SyncInterval        Duration `toml:"sync-interval"`
	FlushInterval       Duration `toml:"flush-interval"`
	// Sizes; zero means derived from the machine by package tuning.
	MemoryBudget     ByteSize `toml:"memory-budget"`
	EventLoops       int      `toml:"event-loops"`
	StorageShards    int      `toml:"storage-shards"`
	QueueChunks      int      `toml:"queue-chunks"`
	WriteBuffer      ByteSize `toml:"write-buffer"`
	SocketRecvBuffer ByteSize `toml:"socket-recv-buffer"`
	GoMemLimit       ByteSize `toml:"gomemlimit"`
	PebbleCache      ByteSize `toml:"pebble-cache"`
	PebbleMemtable   ByteSize `toml:"pebble-memtable"`
	PebbleIdleFlush  Duration `toml:"pebble-idle-flush"`
	MinFreeDisk      ByteSize `toml:"min-free-disk-space"`
	LogLevel         string   `toml:"log-level"`
	// Connection limits (0 = derived from RLIMIT_NOFILE, -1 = none) and
	// idle timeouts (0 = none); see docs/operations.md.
	MaxIngestConns    int      `toml:"max-ingest-conns"`
	MaxHTTPConns      int      `toml:"max-http-conns"`
	IngestIdleTimeout Duration `toml:"ingest-idle-timeout"`
	HTTPIdleTimeout   Duration `toml:"http-idle-timeout"`
	HTTPReadTimeout   Duration `toml:"http-read-timeout"`

	// The classic stack's own files, read as they are (classic.go).
	CarbonConfig      string `toml:"carbon-config"`
	CarbonInstance    string `toml:"carbon-instance"`
	StatsdConfig      string `toml:"statsd-config"`
	GraphiteAPIConfig string `toml:"graphite-api-config"`
	// CarbonUDPAddr is the carbon plaintext UDP address: "" = the same as
	// CarbonAddr, "off" = none (carbon's ENABLE_UDP_LISTENER = False).
	CarbonUDPAddr string `toml:"carbon-udp-addr"`
	// TimeZone is the zone of render requests without tz= (graphite-api's
	// time_zone, graphite-web's TIME_ZONE).
	TimeZone string `toml:"time-zone"`

	// Query limits (docs/operations.md, "Limits and failure modes").
	RenderMaxTargets  int      `toml:"render-max-targets"`
	RenderMaxSeries   int      `toml:"render-max-series"`
	RenderMaxPoints   int      `toml:"render-max-points"`
	RenderMaxCalls    int      `toml:"render-max-calls"`
	RenderTimeout     Duration `toml:"render-timeout"`
	QueryMemoryBudget ByteSize `toml:"query-memory-budget"`
	QueryQueueWait    Duration `toml:"query-queue-wait"`
	FindMaxResults    int      `toml:"find-max-results"`
	IndexMaxResults   int      `toml:"index-max-results"`
	TagsMaxResults    int      `toml:"tags-max-results"`
	EventsMaxResults  int      `toml:"events-max-results"`
	// Bounds on one request's input (docs/operations.md, "Queries").
	RenderMaxTargetLen       int `toml:"render-max-target-len"`
	RenderMaxCallDepth       int `toml:"render-max-call-depth"`
	RenderMaxGeneratedPoints int `toml:"render-max-generated-points"`
	FindMaxQueryLen          int `toml:"find-max-query-len"`
	TagsMaxParams            int `toml:"tags-max-params"`

	// Series limits and quotas (docs/operations.md, "Limits and quotas").
	MaxSeries             int64    `toml:"max-series"`
	MaxCreatesPerMinute   int      `toml:"max-creates-per-minute"`
	MaxCreatesWindow      Duration `toml:"max-creates-window"`
	MaxDeferredPoints     int      `toml:"max-deferred-points"`
	MaxUpdatesPerSecond   int      `toml:"max-updates-per-second"`
	QuotaFile             string   `toml:"quota-file"`
	QuotaThroughputWindow Duration `toml:"quota-throughput-window"`
	QuotaReloadInterval   Duration `toml:"quota-reload-interval"`

	// Statsd holds the statsd server's options (etsy statsd's names).
	Statsd toml.Primitive `toml:"statsd"`
	// Carbon holds the carbon ingest options (cmd/plumbago/carbon.go).
	Carbon toml.Primitive `toml:"carbon"`
	meta   toml.MetaData

	// What the classic files set, applied under the TOML tables.
	classicCarbon []func(*carbonConfig)
	classicStatsd *statsd.Config
	classicNotes  []classicNote
}

// Duration is a time.Duration that reads "10s" from TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("parsing duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// ByteSize is a size in bytes that reads "512MiB" from flags and TOML.
type ByteSize int64

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(t []byte) error { return b.Set(string(t)) }

// Set implements flag.Value.
func (b *ByteSize) Set(s string) error {
	if s == "-1" || s == "off" {
		*b = -1 // turns a cache off where the flag says so
		return nil
	}
	v, err := tuning.ParseBytes(s)
	if err != nil {
		return fmt.Errorf("parsing size %q: %w", s, err)
	}
	*b = ByteSize(v)
	return nil
}

// String implements flag.Value.
func (b *ByteSize) String() string {
	if b == nil || *b == 0 {
		return "0"
	}
	if *b < 0 {
		return "-1"
	}
	return tuning.FormatBytes(int64(*b))
}

// readOnly reports whether the node changes no stored data: --read-only,
// or every ingest listener off (a node serving a checkpoint or a copy).
func (c *Config) readOnly() bool {
	return c.ReadOnly || (c.CarbonAddr == "" && carbonUDPAddr(*c) == "" && c.PickleAddr == "" && c.ProtobufAddr == "" && c.StatsdAddr == "")
}

// overrides returns the sizes fixed by the operator, for tuning.Derive.
func (c *Config) overrides() tuning.Overrides {
	return tuning.Overrides{
		Backend:             c.Backend,
		MemoryBudget:        int64(c.MemoryBudget),
		EventLoops:          c.EventLoops,
		StorageShards:       c.StorageShards,
		QueueChunks:         c.QueueChunks,
		WriteBufferBytes:    int(c.WriteBuffer),
		GoMemLimit:          int64(c.GoMemLimit),
		SocketRecvBuffer:    int(c.SocketRecvBuffer),
		PebbleCacheBytes:    int64(c.PebbleCache),
		PebbleMemTableBytes: int64(c.PebbleMemtable),
		MaxIngestConns:      max(c.MaxIngestConns, 0),
		MaxHTTPConns:        max(c.MaxHTTPConns, 0),
		QueryMemoryBytes:    int64(c.QueryMemoryBudget),
		MinFreeDiskBytes:    max(int64(c.MinFreeDisk), 0),
	}
}

// DefaultConfig returns the documented defaults (design.md's flag table).
func DefaultConfig() Config {
	return Config{
		DataDir:                   "./data",
		Backend:                   "pebble",
		WhisperWatch:              true,
		WhisperRescanInterval:     Duration{5 * time.Minute},
		ClickHouseURL:             "http://127.0.0.1:8123/",
		ClickHouseDatabase:        "default",
		ClickHousePointsTable:     "graphite",
		ClickHouseIndexTable:      "graphite_index",
		ClickHouseTaggedTable:     "graphite_tagged",
		ClickHouseTimeout:         Duration{time.Minute},
		ClickHouseIndexRefresh:    Duration{time.Minute},
		CarbonAddr:                ":2003",
		PickleAddr:                ":2004",
		StatsdAddr:                ":8125",
		StatsdAdminAddr:           ":8126",
		CarbonlinkAddr:            "127.0.0.1:7002",
		HTTPAddr:                  ":8080",
		HTTPAuthFailuresPerMinute: 30,
		HTTPDefaultRole:           "write",
		StatsdFlushInterval:       Duration{10 * time.Second},
		SyncInterval:              Duration{time.Second},
		FlushInterval:             Duration{time.Second},
		PebbleIdleFlush:           Duration{30 * time.Second},
		LogLevel:                  "info",
		TimeZone:                  "UTC",
		IngestIdleTimeout:         Duration{10 * time.Minute},
		HTTPIdleTimeout:           Duration{2 * time.Minute},
		HTTPReadTimeout:           Duration{30 * time.Second},
		RenderMaxTargets:          100,
		RenderMaxSeries:           100_000,
		RenderMaxCalls:            10_000,
		RenderTimeout:             Duration{30 * time.Second},
		QueryQueueWait:            Duration{10 * time.Second},
		FindMaxResults:            100_000,
		IndexMaxResults:           5_000_000,
		TagsMaxResults:            100_000,
		EventsMaxResults:          10_000,
		MaxCreatesWindow:          Duration{time.Minute},
		QuotaThroughputWindow:     Duration{time.Minute},
		QuotaReloadInterval:       Duration{5 * time.Second},
		RenderMaxTargetLen:        64 << 10,
		RenderMaxCallDepth:        64,
		RenderMaxGeneratedPoints:  5_000_000,
		FindMaxQueryLen:           4096,
		TagsMaxParams:             10_000,
	}
}

// flagSet binds every Config field to a flag of the same name.
func flagSet(name string, c *Config) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	configPath := fs.String("config", "", "TOML config file; its keys are these flags' names (flags win)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "root of all stored data (pebble under pebble/, whisper under whisper/)")
	fs.StringVar(&c.Backend, "backend", c.Backend, "storage backend: pebble, whisper or clickhouse")
	fs.StringVar(&c.WhisperDir, "whisper-dir", c.WhisperDir, "whisper tree to use in place (default <data-dir>/whisper)")
	fs.BoolVar(&c.WhisperWatch, "whisper-watch", c.WhisperWatch, "whisper backend: follow files other tools create, remove or move under the tree (inotify), so find sees them within a second")
	fs.DurationVar(&c.WhisperRescanInterval.Duration, "whisper-rescan-interval", c.WhisperRescanInterval.Duration, "whisper backend: rescan the whole tree this often, the fallback for what inotify misses (0 = never)")
	clickhouseFlags(fs, c)
	fs.StringVar(&c.CarbonAddr, "carbon-addr", c.CarbonAddr, "carbon plaintext address, TCP and UDP (empty = off)")
	fs.StringVar(&c.PickleAddr, "pickle-addr", c.PickleAddr, "carbon pickle address, TCP (empty = off)")
	fs.StringVar(&c.ProtobufAddr, "protobuf-addr", c.ProtobufAddr, "carbon protobuf address, TCP (empty = off)")
	fs.StringVar(&c.StatsdAddr, "statsd-addr", c.StatsdAddr, "statsd address, UDP and TCP (empty = off)")
	fs.StringVar(&c.StatsdAdminAddr, "statsd-admin-addr", c.StatsdAdminAddr, "statsd admin console address, TCP (empty = off)")
	fs.StringVar(&c.CarbonlinkAddr, "carbonlink-addr", c.CarbonlinkAddr, "carbonlink cache-query address, TCP (empty = off)")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "Graphite API for Grafana, /metrics and /healthz")
	fs.StringVar(&c.PprofAddr, "pprof-addr", c.PprofAddr, "serve Go profiles (/debug/pprof/: heap, CPU, goroutines) on this address, e.g. 127.0.0.1:6060; keep it on loopback (empty = off)")
	fs.Var(&c.RenderCache, "render-cache", "memory bound of the render-result cache honouring cacheTimeout/noCache (0 = 64MiB; -1 = off)")
	fs.StringVar(&c.HTTPAuthFile, "http-auth-file", c.HTTPAuthFile, "htpasswd file enabling basic auth on the HTTP API (every format nginx reads: bcrypt, apr1, $1$/$5$/$6$, DES crypt, {SHA}, {SSHA}, {PLAIN})")
	fs.StringVar(&c.HTTPAllowedOrigins, "http-allowed-origins", c.HTTPAllowedOrigins, "comma-separated host[:port] origins (or *) allowed cross-origin requests with credentials, as graphite-api's allowed_origins")
	fs.StringVar(&c.HTTPAdminUsers, "http-admin-users", c.HTTPAdminUsers, "comma-separated --http-auth-file users with the admin role (/admin/*: checkpoint, delete, rename, resize, limits; from any address)")
	fs.StringVar(&c.HTTPWriteUsers, "http-write-users", c.HTTPWriteUsers, "comma-separated --http-auth-file users with the write role (tag and delete tagged series, store events)")
	fs.StringVar(&c.HTTPReadUsers, "http-read-users", c.HTTPReadUsers, "comma-separated --http-auth-file users with the read role (queries only)")
	fs.StringVar(&c.HTTPDefaultRole, "http-default-role", c.HTTPDefaultRole, "role of --http-auth-file users in no role list: read, write or admin")
	fs.StringVar(&c.HTTPTLSCert, "http-tls-cert", c.HTTPTLSCert, "PEM certificate (chain) serving the HTTP API over TLS (https) with --http-tls-key; re-read on SIGHUP")
	fs.StringVar(&c.HTTPTLSKey, "http-tls-key", c.HTTPTLSKey, "PEM private key of --http-tls-cert")
	fs.BoolVar(&c.ResizeOnStart, "resize-on-start", c.ResizeOnStart, "before serving, re-shape every series (whisper file or pebble series) whose archives, aggregation method or xFilesFactor differ from --schemas/--aggregation, as plumbago resize (whisper-resize) does")
	fs.BoolVar(&c.ReadOnly, "read-only", c.ReadOnly, "serve the data dir (a checkpoint or a copied volume) without changing it: every ingest listener off, the store opened read-only, write and admin endpoints answer 403")
	fs.IntVar(&c.HTTPAuthFailuresPerMinute, "http-auth-failures-per-minute", c.HTTPAuthFailuresPerMinute, "failed logins a client may make a minute before it is answered 429 (0 = no limit)")
	fs.IntVar(&c.RenderMaxTargets, "render-max-targets", c.RenderMaxTargets, "targets per render request")
	fs.IntVar(&c.RenderMaxSeries, "render-max-series", c.RenderMaxSeries, "series one render request may fetch")
	fs.IntVar(&c.RenderMaxPoints, "render-max-points", c.RenderMaxPoints, "points one render request may fetch or generate, estimated before fetching (0 = 20000000, or query-memory-budget/64 if less)")
	fs.IntVar(&c.RenderMaxCalls, "render-max-calls", c.RenderMaxCalls, "function calls one render request may evaluate")
	fs.DurationVar(&c.RenderTimeout.Duration, "render-timeout", c.RenderTimeout.Duration, "evaluation time of one render request; past it 503")
	tuningFlags(fs, c)
	fs.DurationVar(&c.QueryQueueWait.Duration, "query-queue-wait", c.QueryQueueWait.Duration, "how long a render waits for the query memory budget before 503; also how long a request waits at start-up for a pebble store's series names to load")
	fs.IntVar(&c.FindMaxResults, "find-max-results", c.FindMaxResults, "nodes one /metrics/find or /metrics/expand may answer; past it 400")
	fs.IntVar(&c.IndexMaxResults, "index-max-results", c.IndexMaxResults, "metric names /metrics/index.json may answer; past it 400")
	fs.IntVar(&c.TagsMaxResults, "tags-max-results", c.TagsMaxResults, "results of one /tags answer or seriesByTag; past it 400")
	fs.IntVar(&c.EventsMaxResults, "events-max-results", c.EventsMaxResults, "events one /events answer may list; past it 400")
	fs.Int64Var(&c.MaxSeries, "max-series", c.MaxSeries, "series in all (stored and new); a new series past it is rejected and its points dropped and counted (0 = a quarter of --memory-budget at 1 KiB a series, at least 10000; -1 = no cap)")
	fs.IntVar(&c.MaxCreatesPerMinute, "max-creates-per-minute", c.MaxCreatesPerMinute, "new series per --max-creates-window, as carbon's MAX_CREATES_PER_MINUTE; past it a new series waits in the write buffer with its points (0 = no limit)")
	fs.DurationVar(&c.MaxCreatesWindow.Duration, "max-creates-window", c.MaxCreatesWindow.Duration, "the window --max-creates-per-minute counts over (carbon: a minute)")
	fs.IntVar(&c.MaxDeferredPoints, "max-deferred-points", c.MaxDeferredPoints, "points of series waiting for --max-creates-per-minute; past it their points are dropped and counted (0 = a quarter of the write buffer's points)")
	fs.IntVar(&c.MaxUpdatesPerSecond, "max-updates-per-second", c.MaxUpdatesPerSecond, "whisper file updates per second, as carbon's MAX_UPDATES_PER_SECOND; points wait in the write buffer meanwhile (0 = no limit; no effect with pebble)")
	fs.StringVar(&c.QuotaFile, "quota-file", c.QuotaFile, "per-namespace quotas in go-carbon's storage-quotas.conf syntax (metrics, data-points, logical-size, physical-size, throughput); reloaded on SIGHUP and on change")
	fs.DurationVar(&c.QuotaThroughputWindow.Duration, "quota-throughput-window", c.QuotaThroughputWindow.Duration, "the window a quota's throughput counts points over (go-carbon's quota-usage-report-frequency)")
	fs.DurationVar(&c.QuotaReloadInterval.Duration, "quota-reload-interval", c.QuotaReloadInterval.Duration, "how often --quota-file is checked for a change (0 = only on SIGHUP)")
	fs.IntVar(&c.RenderMaxTargetLen, "render-max-target-len", c.RenderMaxTargetLen, "bytes of one render target; past it 400")
	fs.IntVar(&c.RenderMaxCallDepth, "render-max-call-depth", c.RenderMaxCallDepth, "nesting of function calls in one render target; past it 400")
	fs.IntVar(&c.RenderMaxGeneratedPoints, "render-max-generated-points", c.RenderMaxGeneratedPoints, "points one function may create for one series (generators, summarize, hitcount, smartSummarize, nPercentile, events); past it 400")
	fs.IntVar(&c.FindMaxQueryLen, "find-max-query-len", c.FindMaxQueryLen, "bytes of one /metrics/find, /metrics/expand or carbonapi find pattern; past it 400")
	fs.IntVar(&c.TagsMaxParams, "tags-max-params", c.TagsMaxParams, "expressions or paths of one /tags request; past it 400")
	fs.StringVar(&c.Schemas, "schemas", c.Schemas, "storage-schemas.conf (carbon syntax; default built in)")
	fs.StringVar(&c.Aggregation, "aggregation", c.Aggregation, "storage-aggregation.conf (carbon syntax; default built in)")
	fs.StringVar(&c.AggregationRules, "aggregation-rules", c.AggregationRules, "carbon-aggregator aggregation-rules.conf")
	fs.StringVar(&c.RewriteRules, "rewrite-rules", c.RewriteRules, "carbon rewrite-rules.conf")
	fs.DurationVar(&c.StatsdFlushInterval.Duration, "statsd-flush-interval", c.StatsdFlushInterval.Duration, "statsd flush period")
	fs.DurationVar(&c.SyncInterval.Duration, "sync-interval", c.SyncInterval.Duration, "the most a crash (kill -9, power loss) may lose of accepted data: the WAL fsync period")
	fs.DurationVar(&c.FlushInterval.Duration, "flush-interval", c.FlushInterval.Duration, "how often the write buffer hands points to the backend")
	fs.Var(&c.MinFreeDisk, "min-free-disk-space", "free-space reserve of the data volume: at or below it writes stop and wait (0 = derived: 64MiB, plus 2.5 pebble memtables with pebble)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.CarbonConfig, "carbon-config", c.CarbonConfig, "carbon.conf to read as carbon does ([cache], [aggregator]; its CONF_DIR files too); every key is honoured or reported at start")
	fs.StringVar(&c.CarbonInstance, "carbon-instance", c.CarbonInstance, "carbon.conf instance: its [cache:NAME] section overlays [cache]")
	fs.StringVar(&c.StatsdConfig, "statsd-config", c.StatsdConfig, "etsy statsd config.js, evaluated as statsd does; every key is honoured or reported at start")
	fs.StringVar(&c.GraphiteAPIConfig, "graphite-api-config", c.GraphiteAPIConfig, "graphite-api.yaml; every key is honoured or reported at start")
	fs.StringVar(&c.CarbonUDPAddr, "carbon-udp-addr", c.CarbonUDPAddr, "carbon plaintext UDP address (empty = same as --carbon-addr; off = none, as carbon's ENABLE_UDP_LISTENER = False)")
	fs.StringVar(&c.TimeZone, "time-zone", c.TimeZone, "time zone of render requests without tz= (graphite-api's time_zone)")
	fs.DurationVar(&c.IngestIdleTimeout.Duration, "ingest-idle-timeout", c.IngestIdleTimeout.Duration, "close an ingest TCP connection that sent nothing for this long (0 = never)")
	fs.DurationVar(&c.HTTPIdleTimeout.Duration, "http-idle-timeout", c.HTTPIdleTimeout.Duration, "close a keep-alive HTTP connection idle this long between requests")
	fs.DurationVar(&c.HTTPReadTimeout.Duration, "http-read-timeout", c.HTTPReadTimeout.Duration, "the most a client may take to send a request (slow clients are cut off)")
	return fs, configPath
}

// tuningFlags binds the sizes tuning derives (memory budget, event loops,
// shards, buffers, connection limits) to their override flags: serve and
// tune register this one set.
func tuningFlags(fs *flag.FlagSet, c *Config) {
	fs.Var(&c.MemoryBudget, "memory-budget", "memory Plumbago may use in all, e.g. 6GiB: GOMEMLIMIT is 85% of it and every derived size a share (0 = the machine's or cgroup's memory; see plumbago tune)")
	fs.IntVar(&c.EventLoops, "event-loops", c.EventLoops, "network event loops (0 = one per CPU; see plumbago tune)")
	fs.IntVar(&c.StorageShards, "storage-shards", c.StorageShards, "storage shards (0 = derived; see plumbago tune)")
	fs.IntVar(&c.QueueChunks, "queue-chunks", c.QueueChunks, "chunks per loop-to-shard queue (0 = derived)")
	fs.Var(&c.WriteBuffer, "write-buffer", "write buffer memory budget, e.g. 512MiB: the loop-to-shard queues' chunks plus, for every series holding points not yet written, its packed points and its struct and name; when it is full the carbon listeners stop reading their TCP connections until the backend catches up (UDP datagrams are dropped and counted once the buffer is full and the store takes no writes) (0 = derived)")
	fs.Var(&c.SocketRecvBuffer, "socket-recv-buffer", "UDP SO_RCVBUF asked for, e.g. 16MiB (0 = derived)")
	fs.Var(&c.GoMemLimit, "gomemlimit", "Go soft memory limit, e.g. 6GiB (0 = derived; the GOMEMLIMIT variable wins)")
	fs.Var(&c.PebbleCache, "pebble-cache", "pebble block cache size (0 = derived)")
	fs.Var(&c.PebbleMemtable, "pebble-memtable", "pebble memtable size (0 = derived)")
	fs.DurationVar(&c.PebbleIdleFlush.Duration, "pebble-idle-flush", c.PebbleIdleFlush.Duration, "after this long without a write, flush pebble's memtable so its WAL is released and level 0 drains (0 = never)")
	fs.IntVar(&c.MaxIngestConns, "max-ingest-conns", c.MaxIngestConns, "open ingest TCP connections, all listeners together; more are closed at once (0 = derived from RLIMIT_NOFILE, -1 = no limit)")
	fs.IntVar(&c.MaxHTTPConns, "max-http-conns", c.MaxHTTPConns, "open HTTP API connections; more are closed at once (0 = derived from RLIMIT_NOFILE, -1 = no limit)")
	fs.Var(&c.QueryMemoryBudget, "query-memory-budget", "memory concurrent renders may hold (estimated points x 64 bytes); past it a render waits query-queue-wait, then 503 (0 = derived; see plumbago tune)")
}

// loadConfig parses args: defaults, then the TOML file, then the flags set.
func loadConfig(name string, args []string) (Config, error) {
	c := DefaultConfig()
	fs, configPath := flagSet(name, &c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if *configPath != "" {
		fileCfg := DefaultConfig()
		md, err := toml.DecodeFile(*configPath, &fileCfg)
		if err != nil {
			return c, fmt.Errorf("reading config %q: %w", *configPath, err)
		}
		if err := unknownKeys(*configPath, md, &fileCfg); err != nil {
			return c, err
		}
		fileCfg.meta = md
		for _, k := range md.Keys() {
			if len(k) == 1 {
				explicit[k[0]] = true
			}
		}
		// Flags given on the command line win over the file.
		fs2, _ := flagSet(name, &fileCfg)
		fs.Visit(func(f *flag.Flag) { _ = fs2.Set(f.Name, f.Value.String()) })
		c = fileCfg
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	notes, err := applyClassic(&c, explicit)
	if err != nil {
		return c, err
	}
	c.classicNotes = notes
	return c, c.validate()
}

func (c *Config) validate() error {
	switch c.Backend {
	case "pebble", "whisper":
	case "clickhouse":
		if err := c.validateClickHouse(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--backend %q: must be pebble, whisper or clickhouse", c.Backend)
	}
	if c.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	if c.WhisperDir == "" {
		c.WhisperDir = filepath.Join(c.DataDir, "whisper")
	}
	if c.StatsdFlushInterval.Duration < time.Second {
		return fmt.Errorf("--statsd-flush-interval %v: must be at least 1s", c.StatsdFlushInterval.Duration)
	}
	if c.IngestIdleTimeout.Duration < 0 || c.HTTPIdleTimeout.Duration <= 0 || c.HTTPReadTimeout.Duration <= 0 {
		return errors.New("--ingest-idle-timeout must be >= 0, --http-idle-timeout and --http-read-timeout > 0")
	}
	if c.ReadOnly {
		// A read-only node takes no traffic: every ingest listener is off.
		c.CarbonAddr, c.CarbonUDPAddr, c.PickleAddr, c.ProtobufAddr, c.StatsdAddr, c.StatsdAdminAddr = "", "off", "", "", "", ""
	}
	if err := validateTLS(c); err != nil {
		return err
	}
	if c.FlushInterval.Duration <= 0 {
		return fmt.Errorf("--flush-interval %v: must be positive", c.FlushInterval.Duration)
	}
	if c.MaxCreatesPerMinute < 0 || c.MaxUpdatesPerSecond < 0 || c.MaxDeferredPoints < 0 || c.MaxSeries < -1 {
		return errors.New("--max-creates-per-minute, --max-updates-per-second and --max-deferred-points must be >= 0, --max-series >= -1")
	}
	if c.MaxCreatesWindow.Duration <= 0 || c.QuotaThroughputWindow.Duration <= 0 || c.QuotaReloadInterval.Duration < 0 {
		return errors.New("--max-creates-window and --quota-throughput-window must be positive, --quota-reload-interval >= 0")
	}
	for _, f := range []struct{ flag, path string }{
		{"schemas", c.Schemas}, {"aggregation", c.Aggregation}, {"aggregation-rules", c.AggregationRules},
		{"rewrite-rules", c.RewriteRules}, {"http-auth-file", c.HTTPAuthFile},
		{"http-tls-cert", c.HTTPTLSCert}, {"http-tls-key", c.HTTPTLSKey},
		{"carbon-config", c.CarbonConfig}, {"quota-file", c.QuotaFile}, {"statsd-config", c.StatsdConfig}, {"graphite-api-config", c.GraphiteAPIConfig},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("--%s: %w", f.flag, err)
		}
	}
	return nil
}
