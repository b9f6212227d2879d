package loadtest

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Plumbago's /metrics counter names (design.md, "Interface contract").
const (
	MetricReceived  = "plumbago_points_received_total"
	MetricCommitted = "plumbago_points_committed_total"
	MetricDropped   = "plumbago_points_dropped_total"

	// StatsdReceivedTarget is the statsd servers' count of lines received
	// (etsy statsd's graphite backend naming, legacy namespace).
	StatsdReceivedTarget = "stats_counts.statsd.metrics_received"
)

// Scenario is a named workload: a Config with its defaults filled in.
type Scenario struct {
	Name, Description string
	Config            Config
}

// Scenarios are the workloads of design.md and docs/benchmarks.md.
var Scenarios = map[string]Scenario{
	"W1": {"W1", "100,000 new metrics x 100 points at 1 s steps, back-filled (now-100s..now), carbon plaintext over 4 TCP connections",
		Config{Proto: CarbonTCP, Addr: "127.0.0.1:2003", Conns: 4, Points: 100, Step: time.Second,
			Shape: Shape{Prefix: "loadtest.w1", Metrics: 100_000}}},
	"W1-pickle": {"W1-pickle", "W1 over the pickle protocol (500 points per frame, as carbon relays send)",
		Config{Proto: Pickle, Addr: "127.0.0.1:2004", Conns: 4, Points: 100, Step: time.Second, ChunkPoints: 500,
			Shape: Shape{Prefix: "loadtest.w1p", Metrics: 100_000}}},
	"statsd-1": {"statsd-1", "10,000 statsd keys (60% c, 20% ms, 15% g, 5% s) x 100 rounds, one metric per UDP datagram, 2 sockets",
		Config{Proto: StatsdUDP, Addr: "127.0.0.1:8125", Conns: 2, Points: 100, PerDatagram: 1,
			Shape: Shape{Prefix: "loadtest.sd1", Metrics: 10_000},
			Mix:   StatsdMix{Counter: 60, Timer: 20, Gauge: 15, Set: 5}}},
	"statsd-20": {"statsd-20", "as statsd-1 with 20 metrics per UDP datagram",
		Config{Proto: StatsdUDP, Addr: "127.0.0.1:8125", Conns: 2, Points: 100, PerDatagram: 20,
			Shape: Shape{Prefix: "loadtest.sd20", Metrics: 10_000},
			Mix:   StatsdMix{Counter: 60, Timer: 20, Gauge: 15, Set: 5}}},
	"mixed": {"mixed", "statsd with sample rates (@0.5 on c and ms) and 2 DogStatsD tags, 10 metrics per datagram",
		Config{Proto: StatsdUDP, Addr: "127.0.0.1:8125", Conns: 2, Points: 100, PerDatagram: 10,
			Shape: Shape{Prefix: "loadtest.mix", Metrics: 10_000},
			Mix:   StatsdMix{Counter: 40, Timer: 30, Gauge: 20, Set: 10, SampleRate: 0.5, Tags: 2}}},
	"churn": {"churn", "a new-series burst: 1,000,000 distinct names (10,000 metrics renamed at every one of 100 steps, one point each), carbon plaintext over 4 TCP connections; run it against --max-series to see RSS stay bounded and rejections counted (--dropped)",
		Config{Proto: CarbonTCP, Addr: "127.0.0.1:2003", Conns: 4, Points: 100, Step: time.Second,
			Shape: Shape{Prefix: "loadtest.churn", Metrics: 10_000, Churn: 1}}},
	"realistic": {"realistic", "realistic data (internal/realdata): a collectd tree of 1,000 hosts (38,000 series: gauges with decimals, counters with resets, sparse series) x 360 points at 10 s, back-filled, carbon plaintext over 4 TCP connections; with --server-data-dir the store's bytes per point, measured --store-settle after the last commit, beside the data's entropy (--data gauges for issue 19's noisy two-decimal gauges)",
		Config{Proto: CarbonTCP, Addr: "127.0.0.1:2003", Conns: 4, Points: 360, Step: 10 * time.Second, StoreSettle: 45 * time.Second,
			Shape: Shape{Prefix: "loadtest.real", Metrics: 38_000, Data: DataCollectd, Decimals: 2, Seed: 1}}},
	"query": {"query", "10,000 metrics in real time (one point each per second, 2 TCP connections) for 60 s with 20 Grafana-style renders/s and a visibility probe every second",
		Config{Proto: CarbonTCP, Addr: "127.0.0.1:2003", Conns: 2, Points: 60, Realtime: true, Step: time.Second,
			Shape:     Shape{Prefix: "loadtest.q", Metrics: 10_000, Tree: true, Fanout: 100},
			QueryRate: 20, VisibilityEvery: time.Second}},
}

// ScenarioNames returns the scenario names, sorted.
func ScenarioNames() []string {
	var n []string
	for k := range Scenarios {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Main implements `plumbago loadtest`.
func Main(args []string, stdout, stderr io.Writer) error {
	name := scenarioArg(args)
	if name == SoakScenario {
		return soakMain(args, stdout, stderr)
	}
	if name == QueryVsScenario {
		return queryVsMain(args, stdout, stderr)
	}
	sc, ok := Scenarios[name]
	if !ok {
		return fmt.Errorf("loadtest: unknown scenario %q (have %s, %s, %s)", name, strings.Join(ScenarioNames(), ", "), SoakScenario, QueryVsScenario)
	}
	cfg := sc.Config
	cfg.Scenario = sc.Name

	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { runUsage(fs, stderr) }
	rf := bindRunFlags(fs, &cfg, name)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected arguments %q", fs.Args())
	}
	if *rf.compare != "" {
		if err := compareMain(*rf.compare, *rf.plotPath, stdout); err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		return nil
	}
	if err := rf.apply(&cfg, stderr); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	if err := rep.WriteSummary(stdout); err != nil {
		return err
	}
	if *rf.jsonPath != "" {
		if err := rep.WriteJSON(*rf.jsonPath); err != nil {
			return err
		}
	}
	if *rf.plotPath != "" {
		if err := rep.WriteSVG(*rf.plotPath); err != nil {
			return err
		}
	}
	return nil
}

// runUsage prints the usage of a run: the scenarios, then the flags.
func runUsage(fs *flag.FlagSet, stderr io.Writer) {
	fmt.Fprintf(stderr, "usage: plumbago loadtest [--scenario NAME] [flags]\n\nscenarios:\n")
	for _, n := range ScenarioNames() {
		fmt.Fprintf(stderr, "  %-10s %s\n", n, Scenarios[n].Description)
	}
	fmt.Fprintf(stderr, "  %-10s %s (its own flags: --scenario soak -h)\n", SoakScenario, soakDescription)
	fmt.Fprintf(stderr, "  %-10s %s (its own flags: --scenario query-vs -h)\n", QueryVsScenario, queryVsDescription)
	fmt.Fprintf(stderr, "\nflags (defaults are the chosen scenario's):\n")
	fs.PrintDefaults()
}

// runFlags are the flags of a run that are not fields of Config, or
// that Config holds in another form.
type runFlags struct {
	proto, plumbago, carbonRender, carbonWhisper *string
	jsonPath, plotPath, compare                  *string
	quiet                                        *bool
	shape, mix                                   string
	targets                                      multiFlag
}

// bindRunFlags defines a run's flags on fs, their defaults the
// scenario's cfg; the flags that are Config fields write to cfg.
func bindRunFlags(fs *flag.FlagSet, cfg *Config, name string) *runFlags {
	rf := &runFlags{}
	fs.String("scenario", name, "named workload: "+strings.Join(ScenarioNames(), ", "))
	rf.proto = fs.String("protocol", string(cfg.Proto), "carbon-tcp, carbon-udp, pickle, statsd-udp or statsd-tcp")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "target listener host:port")
	fs.IntVar(&cfg.Conns, "connections", cfg.Conns, "TCP connections or UDP sockets")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "target points/s over all connections (0 = as fast as the target takes)")
	fs.IntVar(&cfg.Shape.Metrics, "metrics", cfg.Shape.Metrics, "distinct series (cardinality)")
	fs.IntVar(&cfg.Points, "points", cfg.Points, "points per series (rounds for statsd and realtime)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "send for this long, replaying the payload (overrides --points)")
	fs.BoolVar(&cfg.Realtime, "realtime", cfg.Realtime, "stamp each round with the wall clock, one round per --step (default: back-fill the --points steps ending now)")
	fs.DurationVar(&cfg.Step, "step", cfg.Step, "seconds between a series' points")
	fs.StringVar(&cfg.Shape.Prefix, "prefix", cfg.Shape.Prefix, "metric name prefix")
	rf.shape = "flat"
	if cfg.Shape.Tree {
		rf.shape = "tree"
	}
	fs.StringVar(&rf.shape, "shape", rf.shape, "flat (prefix.m000042) or tree (prefix.n00.m42, --fanout children per node)")
	fs.IntVar(&cfg.Shape.Fanout, "fanout", max(cfg.Shape.Fanout, 100), "children per tree node")
	fs.Float64Var(&cfg.Shape.Churn, "churn", cfg.Shape.Churn, "fraction of series renamed at every step (new series)")
	fs.StringVar(&cfg.Shape.Data, "data", cfg.Shape.Data, "realistic values and names: gauges (noisy, --decimals decimals) or collectd (a tree of 38 series a host; --metrics rounds up to whole hosts); empty = small integers")
	fs.IntVar(&cfg.Shape.Decimals, "decimals", cfg.Shape.Decimals, "decimals of --data gauges")
	fs.Uint64Var(&cfg.Shape.Seed, "seed", cfg.Shape.Seed, "seed of --data")
	fs.DurationVar(&cfg.StoreSettle, "store-settle", cfg.StoreSettle, "with --server-data-dir: wait this long after the last commit before measuring disk use (the store flushes and compacts when idle)")
	fs.IntVar(&cfg.PerDatagram, "per-datagram", cfg.PerDatagram, "statsd metrics per UDP datagram")
	fs.IntVar(&cfg.DatagramBytes, "datagram-bytes", 1432, "max carbon-udp datagram size")
	fs.IntVar(&cfg.ChunkPoints, "batch", cfg.ChunkPoints, "max points per stream write (pickle: per frame; 0 = 64 KiB writes, 500 per pickle frame)")
	rf.mix = fmt.Sprintf("c=%d,ms=%d,g=%d,s=%d", cfg.Mix.Counter, cfg.Mix.Timer, cfg.Mix.Gauge, cfg.Mix.Set)
	if cfg.Mix == (StatsdMix{}) {
		rf.mix = "c=60,ms=20,g=15,s=5"
	}
	fs.StringVar(&rf.mix, "mix", rf.mix, "statsd type weights")
	fs.Float64Var(&cfg.Mix.SampleRate, "sample-rate", cfg.Mix.SampleRate, "sample rate claimed on c and ms lines (|@r); 0 or 1 = none")
	fs.IntVar(&cfg.Mix.Tags, "tags", cfg.Mix.Tags, "DogStatsD tags per statsd line")
	rf.plumbago = fs.String("plumbago", "", "Plumbago HTTP base URL (http://127.0.0.1:8080): sets --committed, --received, --dropped and --render-url")
	rf.carbonRender = fs.String("carbon-render", "", "graphite-web /render URL of a carbon-cache: --committed sums carbon.agents.*.committedPoints")
	rf.carbonWhisper = fs.String("carbon-whisper", "", "whisper directory of a carbon-cache: --committed sums carbon.agents.*.committedPoints from its files")
	fs.StringVar(&cfg.Committed, "committed", "", "counter of points stored: prom:URL#name, render:URL#target, sink:ADDR#name or whisper:DIR#name")
	fs.StringVar(&cfg.Received, "received", "", "counter of points received (same syntax)")
	fs.StringVar(&cfg.Dropped, "dropped", "", "counter of points dropped (same syntax)")
	fs.StringVar(&cfg.RenderURL, "render-url", "", "target's /render URL for visibility probes and query load")
	fs.DurationVar(&cfg.VisibilityEvery, "visibility-every", cfg.VisibilityEvery, "probe visibility latency this often (0 = off)")
	fs.Float64Var(&cfg.QueryRate, "query-rate", cfg.QueryRate, "Grafana-style render requests per second alongside ingest")
	fs.Var(&rf.targets, "query-target", "render target for query load (repeatable; default: derived from the names)")
	fs.StringVar(&cfg.QueryFrom, "query-from", "-15min", "render 'from' for query load")
	fs.DurationVar(&cfg.Wait, "wait", 10*time.Minute, "max wait for the committed count after the last byte")
	fs.DurationVar(&cfg.Settle, "settle", 15*time.Second, "stop waiting when the committed count has not moved this long")
	fs.DurationVar(&cfg.Interval, "interval", time.Second, "progress and timeline period")
	fs.DurationVar(&cfg.Poll, "poll", 100*time.Millisecond, "read the committed counter this often once sending is over (each read of a prom: counter is a scrape the server's CPU pays for)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "target's process id: report its CPU time and RSS")
	fs.StringVar(&cfg.ServerDataDir, "server-data-dir", "", "target's data directory: report disk bytes added per point")
	fs.StringVar(&cfg.VerifyWhisperDir, "verify-whisper", "", "target's whisper root: at the end, count the points stored under the prefix")
	rf.jsonPath = fs.String("json", "", "write the report as JSON to this file")
	rf.plotPath = fs.String("plot", "", "write an SVG plot of throughput and latency to this file")
	rf.quiet = fs.Bool("quiet", false, "no live progress")
	rf.compare = fs.String("compare", "", "instead of a run: print a markdown table of these --json reports (comma-separated) and, with --plot (.svg or .png), plot them together")
	return rf
}

// apply completes cfg from the parsed flags: protocol, shape, statsd
// mix, query targets, counter sources and progress output.
func (rf *runFlags) apply(cfg *Config, stderr io.Writer) error {
	cfg.Proto = Protocol(*rf.proto)
	cfg.Shape.Tree = rf.shape == "tree"
	if rf.shape != "flat" && rf.shape != "tree" {
		return fmt.Errorf("loadtest: unknown shape %q (want flat or tree)", rf.shape)
	}
	var err error
	if cfg.Mix.Counter, cfg.Mix.Timer, cfg.Mix.Gauge, cfg.Mix.Set, err = parseMix(rf.mix); err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	cfg.QueryTargets = rf.targets
	cfg.counterSources(*rf.plumbago, *rf.carbonRender, *rf.carbonWhisper)
	if !*rf.quiet {
		cfg.Progress = stderr
	}
	if cfg.RenderURL == "" && (cfg.QueryRate > 0 || cfg.VisibilityEvery > 0) {
		fmt.Fprintln(stderr, "loadtest: no --render-url (or --plumbago): query load and visibility probes are off")
		cfg.QueryRate, cfg.VisibilityEvery = 0, 0
	}
	return nil
}

// scenarioArg is the --scenario the arguments name (W1 when none): it
// chooses the flag defaults, so it is read before the flags are parsed.
func scenarioArg(args []string) string {
	name := "W1"
	for i, a := range args {
		if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "scenario="); ok && strings.HasPrefix(a, "-") {
			name = v
		} else if (a == "--scenario" || a == "-scenario") && i+1 < len(args) {
			name = args[i+1]
		}
	}
	return name
}

// counterSources sets the counters and the render URL that --plumbago,
// --carbon-render and --carbon-whisper imply; ones set explicitly stay.
func (cfg *Config) counterSources(plumbago, carbonRender, carbonWhisper string) {
	if plumbago != "" {
		base := strings.TrimRight(plumbago, "/")
		if cfg.Committed == "" {
			cfg.Committed = "prom:" + base + "/metrics#" + MetricCommitted
			if cfg.Proto.statsd() {
				// statsd lines are aggregated: count what the server says it
				// received, from its own statsd self-counter.
				cfg.Committed = "render:" + base + "/render#" + StatsdReceivedTarget
			}
		}
		if cfg.Received == "" {
			cfg.Received = "prom:" + base + "/metrics#" + MetricReceived
		}
		if cfg.Dropped == "" {
			cfg.Dropped = "prom:" + base + "/metrics#" + MetricDropped
		}
		if cfg.RenderURL == "" {
			cfg.RenderURL = base + "/render"
		}
	}
	if carbonRender != "" {
		if cfg.Committed == "" {
			cfg.Committed = "render:" + carbonRender + "#sumSeries(carbon.agents.*.committedPoints)"
		}
		if cfg.RenderURL == "" {
			cfg.RenderURL = carbonRender
		}
	}
	if carbonWhisper != "" && cfg.Committed == "" {
		cfg.Committed = "whisper:" + carbonWhisper + "#carbon.agents.*.committedPoints"
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// parseMix parses "c=60,ms=20,g=15,s=5".
func parseMix(s string) (c, ms, g, set int, err error) {
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, perr := strconv.Atoi(v)
		if !ok || perr != nil || n < 0 {
			return 0, 0, 0, 0, fmt.Errorf("parsing mix %q: want c=N,ms=N,g=N,s=N", s)
		}
		switch k {
		case "c":
			c = n
		case "ms":
			ms = n
		case "g":
			g = n
		case "s":
			set = n
		default:
			return 0, 0, 0, 0, fmt.Errorf("parsing mix %q: unknown type %q", s, k)
		}
	}
	if c+ms+g+set == 0 {
		return 0, 0, 0, 0, fmt.Errorf("parsing mix %q: all weights are zero", s)
	}
	return c, ms, g, set, nil
}
