package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// QueryVsScenario is `plumbago loadtest --scenario query-vs`: the render
// path of two Graphite servers side by side (issue 18's table).
const QueryVsScenario = "query-vs"

const queryVsDescription = "loads app.hostH.cpuC.mM (--series x --points at --step, ending now) into two Graphite servers at once (--load) and times the same renders on both: sequential p50, then --clients concurrent clients' p50/p99/req/s; one markdown table"

// QueryServer is one side of a query-vs comparison.
type QueryServer struct {
	Name string
	// HTTP is the server's base URL (http://host:port); renders go to
	// HTTP+"/render".
	HTTP string
	// Carbon is its carbon plaintext TCP address (for --load).
	Carbon string
	// Counter is a /metrics counter that reaches the points sent once the
	// load is stored (plumbago_points_committed_total,
	// vm_rows_inserted_total); empty: not waited for.
	Counter string
	// FlushPath is requested (GET) once the load is stored, to make it
	// searchable (VictoriaMetrics' /internal/force_flush); empty: none.
	FlushPath string
}

// QueryCase is one timed render.
type QueryCase struct {
	Name string
	// Form is the request's parameters (target, from, maxDataPoints...).
	Form url.Values
	// Post sends Form as a POST body (Grafana's panel requests) instead of
	// a GET query string.
	Post bool
}

// QueryVsConfig is a query-vs run.
type QueryVsConfig struct {
	Servers []QueryServer
	// Series is the dataset's size: 100 cpuC.mM per host... see
	// queryVsName; a multiple of 1,000.
	Series int
	Points int
	Step   time.Duration
	Conns  int
	Load   bool
	// Label names the run in the table (e.g. "fresh", "settled").
	Label string
	// Warmup requests per query and server before timing; Seq timed
	// sequential requests; Clients concurrent clients for Duration.
	Warmup, Seq, Clients int
	Duration             time.Duration
	Queries              []QueryCase
}

// QueryStat is one query's figures on one server.
type QueryStat struct {
	Server, Query            string
	SeqP50, ConcP50, ConcP99 float64 // milliseconds
	ReqPerSec                float64
	Series                   int // series in the answer
	Bytes                    int // bytes of the answer
	Errors                   int
}

// queryVsName is series i of the dataset: 1,000 series a host, 10 cpus of
// 100 metrics each (app.host0.cpu0.m0 ... app.hostH.cpu9.m99).
func queryVsName(dst []byte, i int) []byte {
	dst = append(dst, "app.host"...)
	dst = strconv.AppendInt(dst, int64(i/1000), 10)
	dst = append(dst, ".cpu"...)
	dst = strconv.AppendInt(dst, int64(i/100%10), 10)
	dst = append(dst, ".m"...)
	return strconv.AppendInt(dst, int64(i%100), 10)
}

// queryVsValue is point j of series i: a deterministic random walk with
// one decimal, so both servers store exactly the same values.
func queryVsValue(i, j int) float64 {
	x := uint64(i)*0x9E3779B97F4A7C15 + uint64(j)*0xBF58476D1CE4E5B9
	x ^= x >> 31
	x *= 0x94D049BB133111EB
	x ^= x >> 29
	return float64(i%100) + float64(x%1000)/10
}

// DefaultQueryCases are issue 18's six queries and its Grafana panel
// request over the dataset (hosts 1 to 5 must exist: at least 6,000 series).
func DefaultQueryCases() []QueryCase {
	g := func(target string, kv ...string) url.Values {
		v := url.Values{"target": {target}, "from": {"-6h"}, "until": {"now"}, "format": {"json"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	return []QueryCase{
		{Name: "one series, 6 h", Form: g("app.host0.cpu0.m0")},
		{Name: "sumSeries(app.host1.*.*) mdp 800", Form: g("sumSeries(app.host1.*.*)", "maxDataPoints", "800")},
		{Name: "sumSeries(app.*.cpu1.m1)", Form: g("sumSeries(app.*.cpu1.m1)")},
		{Name: "aliasByNode(highestMax(app.host2.*.*,5),1,3)", Form: g("aliasByNode(highestMax(app.host2.*.*,5),1,3)")},
		{Name: "movingAverage(app.host3.cpu1.*,'5min')", Form: g("movingAverage(app.host3.cpu1.*,'5min')")},
		{Name: "summarize(app.host4.cpu2.*,'1h','sum')", Form: g("summarize(app.host4.cpu2.*,'1h','sum')")},
		{Name: "Grafana POST aliasSub(sumSeries(app.host5.*.*)) mdp 1000", Post: true,
			Form: g(`aliasSub(sumSeries(app.host5.*.*),'(^.*$)','\1 A')`, "maxDataPoints", "1000")},
	}
}

// queryVsMain implements `plumbago loadtest --scenario query-vs`.
func queryVsMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest query-vs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("scenario", QueryVsScenario, queryVsDescription)
	cfg := QueryVsConfig{}
	var servers, jsonPath string
	fs.StringVar(&servers, "servers", "", "the servers, comma-separated NAME=HTTP_URL[;carbon=HOST:PORT][;counter=METRIC][;flush=PATH], e.g. 'VictoriaMetrics=http://127.0.0.1:8428;carbon=127.0.0.1:2103;counter=vm_rows_inserted_total;flush=/internal/force_flush,Plumbago=http://127.0.0.1:8080;carbon=127.0.0.1:2003;counter=plumbago_points_committed_total'")
	fs.IntVar(&cfg.Series, "series", 100_000, "series of the dataset (a multiple of 1,000; at least 6,000 for every query)")
	fs.IntVar(&cfg.Points, "points", 2160, "points per series")
	fs.DurationVar(&cfg.Step, "step", 10*time.Second, "seconds between points")
	fs.IntVar(&cfg.Conns, "conns", 4, "carbon TCP connections per server for --load")
	fs.BoolVar(&cfg.Load, "load", false, "send the dataset to every server (at once) and wait until it is stored before timing")
	fs.StringVar(&cfg.Label, "label", "", "the run's name in the table (e.g. fresh, settled)")
	fs.IntVar(&cfg.Warmup, "warmup", 3, "untimed requests per query and server first")
	fs.IntVar(&cfg.Seq, "seq", 30, "timed sequential requests per query and server (0: none)")
	fs.IntVar(&cfg.Clients, "clients", 8, "concurrent clients of the concurrent phase (0: none)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "length of the concurrent phase per query and server")
	fs.StringVar(&jsonPath, "json", "", "also write the figures as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.Servers, err = parseQueryServers(servers); err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	cfg.Queries = DefaultQueryCases()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stats, err := RunQueryVs(ctx, cfg, stderr)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	if err := WriteQueryVsTable(stdout, cfg, stats); err != nil {
		return err
	}
	if jsonPath != "" {
		b, err := json.MarshalIndent(stats, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonPath, b, 0o644); err != nil {
			return fmt.Errorf("loadtest: writing %q: %w", jsonPath, err)
		}
	}
	return nil
}

func parseQueryServers(spec string) ([]QueryServer, error) {
	var out []QueryServer
	for _, s := range strings.Split(spec, ",") {
		if s == "" {
			continue
		}
		parts := strings.Split(s, ";")
		name, base, ok := strings.Cut(parts[0], "=")
		if !ok || name == "" || base == "" {
			return nil, fmt.Errorf("--servers: %q is not NAME=HTTP_URL", parts[0])
		}
		qs := QueryServer{Name: name, HTTP: strings.TrimRight(base, "/")}
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(p, "=")
			switch k {
			case "carbon":
				qs.Carbon = v
			case "counter":
				qs.Counter = v
			case "flush":
				qs.FlushPath = v
			default:
				return nil, fmt.Errorf("--servers: unknown key %q in %q", k, s)
			}
		}
		out = append(out, qs)
	}
	if len(out) == 0 {
		return nil, errors.New("--servers: no server given")
	}
	return out, nil
}

// RunQueryVs loads the dataset (cfg.Load) and times every query on every
// server, the servers alternating query by query so that both see the same
// machine load. Progress goes to log.
func RunQueryVs(ctx context.Context, cfg QueryVsConfig, log io.Writer) ([]QueryStat, error) {
	client := &http.Client{Timeout: 2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * max(cfg.Clients, 1), DisableCompression: true}}
	if cfg.Load {
		if err := loadQueryVs(ctx, cfg, client, log); err != nil {
			return nil, err
		}
	}
	rc, err := newRenderClient(cfg.Servers, cfg.Clients)
	if err != nil {
		return nil, err
	}
	var stats []QueryStat
	for _, q := range cfg.Queries {
		for _, srv := range cfg.Servers {
			st, err := timeQuery(ctx, cfg, rc, srv, q)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(log, "%s %s: seq p50 %.2f ms, %d clients p50 %.2f p99 %.2f ms %.1f req/s (%d series, %d bytes)\n",
				srv.Name, q.Name, st.SeqP50, cfg.Clients, st.ConcP50, st.ConcP99, st.ReqPerSec, st.Series, st.Bytes)
			stats = append(stats, st)
		}
	}
	return stats, nil
}

// loadQueryVs sends the dataset to every server at once, cfg.Conns
// connections each, series after series (each series' points oldest
// first), then waits for every server's counter and flushes.
func loadQueryVs(ctx context.Context, cfg QueryVsConfig, client *http.Client, log io.Writer) error {
	step := int64(cfg.Step / time.Second)
	if step <= 0 || cfg.Series <= 0 || cfg.Points <= 0 || cfg.Conns <= 0 {
		return errors.New("query-vs: --series, --points, --conns and --step must be positive")
	}
	end := time.Now().Unix() / step * step
	start := end - int64(cfg.Points-1)*step
	base := make([]float64, len(cfg.Servers))
	for i, srv := range cfg.Servers {
		if srv.Counter == "" {
			continue
		}
		v, err := readPromCounter(ctx, client, srv.HTTP+"/metrics", srv.Counter)
		if err != nil {
			return err
		}
		base[i] = v
	}
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Conns)
	per := (cfg.Series + cfg.Conns - 1) / cfg.Conns
	for c := 0; c < cfg.Conns; c++ {
		lo, hi := c*per, min((c+1)*per, cfg.Series)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sendQueryVsShare(ctx, cfg, lo, hi, start, step)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	sent := float64(cfg.Series) * float64(cfg.Points)
	fmt.Fprintf(log, "query-vs: sent %.0f points to %d servers in %.1f s\n", sent, len(cfg.Servers), time.Since(began).Seconds())
	deadline := time.Now().Add(30 * time.Minute)
	for i, srv := range cfg.Servers {
		for srv.Counter != "" {
			v, err := readPromCounter(ctx, client, srv.HTTP+"/metrics", srv.Counter)
			if err != nil {
				return err
			}
			if v-base[i] >= sent {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("query-vs: %s stored %.0f of %.0f points in 30 min", srv.Name, v-base[i], sent)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		if srv.FlushPath != "" {
			if _, err := get(ctx, client, srv.HTTP+srv.FlushPath); err != nil {
				return err
			}
		}
		fmt.Fprintf(log, "query-vs: %s has stored every point %.1f s after the first was sent\n", srv.Name, time.Since(began).Seconds())
	}
	return nil
}

func readPromCounter(ctx context.Context, client *http.Client, u, name string) (float64, error) {
	body, err := get(ctx, client, u)
	if err != nil {
		return 0, err
	}
	v, _, err := sumPromSamples(body, name)
	return v, err
}

// sendQueryVsShare sends series [lo, hi) to every server over one
// connection each.
func sendQueryVsShare(ctx context.Context, cfg QueryVsConfig, lo, hi int, start, step int64) error {
	var ws []*bufio.Writer
	for _, srv := range cfg.Servers {
		if srv.Carbon == "" {
			continue
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", srv.Carbon)
		if err != nil {
			return fmt.Errorf("query-vs: %s: %w", srv.Name, err)
		}
		defer conn.Close()
		ws = append(ws, bufio.NewWriterSize(conn, 256<<10))
	}
	var line, name []byte
	for i := lo; i < hi; i++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name = queryVsName(name[:0], i)
		for j := 0; j < cfg.Points; j++ {
			line = append(line[:0], name...)
			line = append(line, ' ')
			line = strconv.AppendFloat(line, queryVsValue(i, j), 'f', -1, 64)
			line = append(line, ' ')
			line = strconv.AppendInt(line, start+int64(j)*step, 10)
			line = append(line, '\n')
			for _, w := range ws {
				if _, err := w.Write(line); err != nil {
					return fmt.Errorf("query-vs: sending: %w", err)
				}
			}
		}
	}
	for _, w := range ws {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("query-vs: sending: %w", err)
		}
	}
	return nil
}

func timeQuery(ctx context.Context, cfg QueryVsConfig, rc *renderClient, srv QueryServer, q QueryCase) (QueryStat, error) {
	st := QueryStat{Server: srv.Name, Query: q.Name}
	call := rc.call(srv, q)
	for i := 0; i < cfg.Warmup; i++ {
		n, b, err := call.do()
		if err != nil {
			return st, err
		}
		st.Series, st.Bytes = n, b
	}
	seq := make([]float64, 0, cfg.Seq)
	for i := 0; i < cfg.Seq; i++ {
		t := time.Now()
		n, b, err := call.do()
		if err != nil {
			return st, err
		}
		seq = append(seq, float64(time.Since(t).Microseconds())/1000)
		st.Series, st.Bytes = n, b
	}
	sort.Float64s(seq)
	st.SeqP50 = percentile(seq, 0.5)
	if cfg.Clients <= 0 || cfg.Duration <= 0 {
		return st, nil
	}
	var mu sync.Mutex
	var conc []float64
	var wg sync.WaitGroup
	began := time.Now()
	stopAt := began.Add(cfg.Duration)
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			errs := 0
			call := rc.call(srv, q)
			for time.Now().Before(stopAt) && ctx.Err() == nil {
				t := time.Now()
				if _, _, err := call.do(); err != nil {
					errs++
					continue
				}
				mine = append(mine, float64(time.Since(t).Microseconds())/1000)
			}
			mu.Lock()
			conc = append(conc, mine...)
			st.Errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(began).Seconds()
	sort.Float64s(conc)
	st.ConcP50, st.ConcP99 = percentile(conc, 0.5), percentile(conc, 0.99)
	st.ReqPerSec = float64(len(conc)) / elapsed
	return st, ctx.Err()
}

// WriteQueryVsTable prints the figures as one markdown table: a row per
// query, the first server as the reference the others are compared to.
func WriteQueryVsTable(w io.Writer, cfg QueryVsConfig, stats []QueryStat) error {
	if len(cfg.Servers) == 0 {
		return nil
	}
	ref := cfg.Servers[0].Name
	by := map[[2]string]QueryStat{}
	for _, s := range stats {
		by[[2]string{s.Server, s.Query}] = s
	}
	hdr := "| run | query |"
	sep := "|---|---|"
	for i, srv := range cfg.Servers {
		hdr += fmt.Sprintf(" %s p50 | %s %dc p50 / p99 | %s %dc req/s |", srv.Name, srv.Name, cfg.Clients, srv.Name, cfg.Clients)
		sep += "---|---|---|"
		if i > 0 {
			hdr += fmt.Sprintf(" p50 / %s | req/s / %s |", ref, ref)
			sep += "---|---|"
		}
	}
	hdr += " series |"
	sep += "---|"
	if _, err := fmt.Fprintln(w, hdr+"\n"+sep); err != nil {
		return err
	}
	for _, q := range cfg.Queries {
		row := fmt.Sprintf("| %s | `%s` |", orDash(cfg.Label), q.Name)
		r := by[[2]string{ref, q.Name}]
		var series []string
		for i, srv := range cfg.Servers {
			s := by[[2]string{srv.Name, q.Name}]
			if s.ReqPerSec > 0 {
				row += fmt.Sprintf(" %s ms | %s / %s ms | %.1f |", fmtMs(s.SeqP50), fmtMs(s.ConcP50), fmtMs(s.ConcP99), s.ReqPerSec)
			} else {
				row += fmt.Sprintf(" %s ms | – | – |", fmtMs(s.SeqP50))
			}
			if i > 0 {
				row += fmt.Sprintf(" %s | %s |", ratio(s.SeqP50, r.SeqP50), ratio(s.ReqPerSec, r.ReqPerSec))
			}
			series = append(series, strconv.Itoa(s.Series))
			if s.Errors > 0 {
				series[len(series)-1] += fmt.Sprintf(" (%d errors)", s.Errors)
			}
		}
		row += " " + strings.Join(series, " / ") + " |"
		if _, err := fmt.Fprintln(w, row); err != nil {
			return err
		}
	}
	return nil
}

func fmtMs(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
