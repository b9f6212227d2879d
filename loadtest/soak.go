package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// SoakConfig is the soak scenario: Plumbago run as a child process for
// Duration under mixed carbon, statsd and query load, stopped every Cycle
// (SIGTERM, or kill -9 every KillEvery-th stop) and started again on the same
// data; every acknowledged carbon point is checked after each restart.
type SoakConfig struct {
	// Binary is the plumbago binary to run (serve).
	Binary string
	// DataDir is the server's --data-dir; it is created when missing.
	DataDir string
	// Backend is "pebble" or "whisper".
	Backend string
	// Duration is the whole soak; Cycle the time between stops.
	Duration, Cycle time.Duration
	// KillEvery makes every KillEvery-th stop a kill -9 (the others are
	// SIGTERM); 0 never kills.
	KillEvery int
	// SyncInterval is the server's --sync-interval: the most a kill -9 may
	// lose.
	SyncInterval time.Duration
	// Metrics is the number of carbon series, each sent one point a second.
	Metrics int
	// StatsdKeys is the number of statsd keys (counters and timers) sent
	// every 100 ms over UDP.
	StatsdKeys int
	// QueryRate is render requests per second while the server is up.
	QueryRate float64
	// Interval is the sampling period of RSS, descriptors and goroutines.
	Interval time.Duration
	// Log receives progress lines (nil: none).
	Log io.Writer
	// ServerLog receives the server's output (nil: discarded).
	ServerLog io.Writer
}

// SoakSample is one observation of the server process.
type SoakSample struct {
	T          float64 // seconds since the soak started
	Phase      int     // 0-based server run
	RSSBytes   int64
	FDs        int
	Goroutines float64 // -1 when /metrics did not answer
}

// SoakPhase is one run of the server, from its start to its stop.
type SoakPhase struct {
	Start, End float64 // seconds since the soak started
	Stop       string  // "SIGTERM", "kill -9" or "end" (SIGTERM at the end)
	// Ticks is the number of carbon rounds (Metrics points each) sent;
	// Acked those the server counted (plumbago_carbon_lines_total) before
	// the stop.
	Ticks, Acked int
	// LostAllowed counts points lost by a kill -9 that had been acknowledged
	// less than SyncInterval before it (the promise allows it), in
	// LostRounds rounds (a round may be lost in part).
	LostAllowed, LostRounds int
	// Queries and QueryErrors count renders while the server was up.
	Queries, QueryErrors int
	MaxRSSBytes          int64
	MaxFDs               int
	MaxGoroutines        float64
}

// SoakReport is the outcome of a soak.
type SoakReport struct {
	Backend      string
	Duration     float64
	SyncInterval float64
	Metrics      int
	Phases       []SoakPhase
	Samples      []SoakSample
	// PointsChecked is the number of acknowledged points looked up after the
	// last restart (every point of every acknowledged round not lost as the
	// rule allows); Violations lists acknowledged points that are missing
	// against the rule (empty when the promise held).
	PointsChecked int
	Violations    []string
}

// soakTick is one carbon round: Metrics points at timestamp TS with value
// Value, acknowledged at Acked (zero until the server counted it).
type soakTick struct {
	ts    int64
	value float64
	phase int
	acked time.Time
	lost  bool // lost by a kill -9 as the rule allows; no longer checked
}

type soakServer struct {
	cmd                  *exec.Cmd
	http, carbon, statsd string
	exited               chan struct{}
}

// Soak runs the soak scenario and returns its report. The error is non-nil
// when the server could not be run or an acknowledged point was lost against
// the rule (the report is returned too).
func Soak(ctx context.Context, cfg SoakConfig) (*SoakReport, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &soak{cfg: cfg, killedAt: map[int]time.Time{}, client: httpClient(), rep: &SoakReport{Backend: cfg.Backend, SyncInterval: cfg.SyncInterval.Seconds(), Metrics: cfg.Metrics}}
	if err := s.prepare(); err != nil {
		return nil, err
	}
	s.start = time.Now()
	err := s.run(ctx)
	s.rep.Duration = time.Since(s.start).Seconds()
	if err == nil && len(s.rep.Violations) > 0 {
		err = fmt.Errorf("soak: %d acknowledged points lost against the rule, first: %s", len(s.rep.Violations), s.rep.Violations[0])
	}
	return s.rep, err
}

func (c *SoakConfig) defaults() error {
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("soak: finding the plumbago binary: %w", err)
		}
		c.Binary = exe
	}
	if c.DataDir == "" {
		return errors.New("soak: a data directory is needed")
	}
	if c.Backend == "" {
		c.Backend = "pebble"
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Minute
	}
	if c.Cycle <= 0 {
		c.Cycle = max(c.Duration/6, 10*time.Second)
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = time.Second
	}
	if c.Metrics <= 0 {
		c.Metrics = 200
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.ServerLog == nil {
		c.ServerLog = io.Discard
	}
	return nil
}

type soak struct {
	cfg   SoakConfig
	rep   *SoakReport
	start time.Time

	schemas                 string
	httpA, carbonA, statsdA string
	mu                      sync.Mutex
	ticks                   []soakTick
	phase                   int
	queries, queryErrs      int
	killedAt                map[int]time.Time // phase -> when kill -9 was sent
	checked                 int
	client                  *http.Client // one for every request, so the soak holds few connections
}

// prepare writes a 1 s schema (each round is its own point) and picks ports.
func (s *soak) prepare() error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	s.schemas = filepath.Join(s.cfg.DataDir, "soak-schemas.conf")
	keep := int64((s.cfg.Duration + time.Hour).Seconds())
	if err := os.WriteFile(s.schemas, []byte(fmt.Sprintf("[all]\npattern = .*\nretentions = 1s:%ds\n", keep)), 0o644); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	return s.pickPorts()
}

// pickPorts picks the server's loopback ports. The carbon and statsd ports
// serve TCP and UDP, so each is one the kernel just had free in both.
func (s *soak) pickPorts() error {
	var err error
	if s.httpA, err = freeAddr(); err != nil {
		return err
	}
	if s.carbonA, err = freeAddr(); err != nil {
		return err
	}
	s.statsdA, err = freeAddr()
	return err
}

// freeAddr returns a loopback address whose port the kernel just had free
// for both TCP and UDP.
func freeAddr() (string, error) {
	var last error
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("soak: picking a port: %w", err)
		}
		addr := l.Addr().String()
		c, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			c.Close()
			return addr, nil
		}
		last = err
	}
	return "", fmt.Errorf("soak: picking a port free for TCP and UDP: %w", last)
}

// run alternates server runs under load with stops, and checks the points
// after each restart and at the end.
func (s *soak) run(ctx context.Context) error {
	checkFrom := 0
	for stops := 1; ; stops++ {
		srv, err := s.startServer(ctx)
		if err != nil {
			return err
		}
		// The previous run's rounds (and, at the first start, none).
		if err := s.check(srv, checkFrom); err != nil {
			srv.kill()
			return err
		}
		s.mu.Lock()
		checkFrom = len(s.ticks)
		s.mu.Unlock()
		left := s.cfg.Duration - time.Since(s.start)
		last := left <= s.cfg.Cycle
		stop := "SIGTERM"
		if last {
			stop = "end"
		} else if s.cfg.KillEvery > 0 && stops%s.cfg.KillEvery == 0 {
			stop = "kill -9"
		}
		ph := SoakPhase{Start: time.Since(s.start).Seconds(), Stop: stop}
		s.rep.Phases = append(s.rep.Phases, ph)
		s.load(ctx, srv, max(min(left, s.cfg.Cycle), time.Second), &ph)
		var killedAt time.Time
		if stop == "kill -9" {
			killedAt = time.Now()
			srv.kill()
		} else if err := srv.term(); err != nil {
			return err
		}
		s.client.CloseIdleConnections()
		ph.End = time.Since(s.start).Seconds()
		s.finishPhase(&ph, killedAt)
		ph.LostAllowed, ph.LostRounds = s.rep.Phases[s.phase].LostAllowed, s.rep.Phases[s.phase].LostRounds
		s.rep.Phases[s.phase] = ph
		fmt.Fprintf(s.cfg.Log, "soak: run %d ended by %s at %.0fs: %d rounds sent, %d acknowledged; max RSS %s, fds %d, goroutines %.0f; %d renders (%d failed)\n",
			s.phase, stop, ph.End, ph.Ticks, ph.Acked, humanBytes(ph.MaxRSSBytes), ph.MaxFDs, ph.MaxGoroutines, ph.Queries, ph.QueryErrors)
		s.phase++
		if last || ctx.Err() != nil {
			break
		}
	}
	// A last start reads every acknowledged round back.
	srv, err := s.startServer(ctx)
	if err != nil {
		return err
	}
	if err := s.check(srv, 0); err != nil {
		srv.kill()
		return err
	}
	return srv.term()
}

// startServer starts the server and waits for /healthz. Between runs its
// ports are free for anyone: a start that finds one taken (another process
// took it meanwhile) picks new ports and tries again, up to 5 times.
func (s *soak) startServer(ctx context.Context) (*soakServer, error) {
	for attempt := 1; ; attempt++ {
		srv, bindLost, err := s.tryStart(ctx)
		if !bindLost || attempt == 5 {
			return srv, err
		}
		fmt.Fprintf(s.cfg.Log, "soak: a port was taken meanwhile (%v); picking new ports\n", err)
		if err := s.pickPorts(); err != nil {
			return nil, err
		}
	}
}

// tryStart makes one start; bindLost says it failed on a port in use.
func (s *soak) tryStart(ctx context.Context) (srv *soakServer, bindLost bool, err error) {
	args := []string{"serve", "--backend", s.cfg.Backend, "--data-dir", s.cfg.DataDir, "--schemas", s.schemas,
		"--http-addr", s.httpA, "--carbon-addr", s.carbonA, "--statsd-addr", s.statsdA,
		"--pickle-addr", "", "--statsd-admin-addr", "", "--carbonlink-addr", "",
		"--sync-interval", s.cfg.SyncInterval.String(), "--statsd-flush-interval", "1s", "--flush-interval", "200ms"}
	cmd := exec.Command(s.cfg.Binary, args...)
	var startLog tailWriter
	cmd.Stdout, cmd.Stderr = s.cfg.ServerLog, io.MultiWriter(s.cfg.ServerLog, &startLog)
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("soak: starting %s: %w", s.cfg.Binary, err)
	}
	srv = &soakServer{cmd: cmd, http: s.httpA, carbon: s.carbonA, statsd: s.statsdA, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(srv.exited) }()
	client := s.client
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-srv.exited:
			return nil, startLog.contains("address already in use"), fmt.Errorf("soak: server exited while starting (%v)", cmd.ProcessState)
		default:
		}
		if r, err := client.Get("http://" + srv.http + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return srv, false, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.kill()
	return nil, false, errors.New("soak: server did not become healthy within 2 minutes")
}

// tailWriter keeps the last 4 KiB written to it (a starting server's log).
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - 4096; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) contains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.buf, []byte(s))
}

func (srv *soakServer) kill() {
	srv.cmd.Process.Kill()
	<-srv.exited
}

func (srv *soakServer) term() error {
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("soak: stopping the server: %w", err)
	}
	select {
	case <-srv.exited:
	case <-time.After(2 * time.Minute):
		srv.kill()
		return errors.New("soak: server did not stop within 2 minutes of SIGTERM")
	}
	if st := srv.cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("soak: server exited with %v after SIGTERM", st)
	}
	return nil
}

// load drives carbon, statsd and query load for d, sampling the process and
// tracking which carbon rounds the server acknowledged.
func (s *soak) load(ctx context.Context, srv *soakServer, d time.Duration, ph *SoakPhase) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); s.carbonLoad(ctx, srv, ph) }()
	go func() { defer wg.Done(); s.statsdLoad(ctx, srv) }()
	go func() { defer wg.Done(); s.queryLoad(ctx, srv) }()
	go func() { defer wg.Done(); s.observe(ctx, srv, ph) }()
	wg.Wait()
	// Rounds sent just before the stop: give the server a moment to count
	// them (only the count is waited for; nothing is flushed).
	s.pollAcks(srv, time.Now().Add(2*s.cfg.Interval))
}

// carbonLoad sends one round a second on one TCP connection: every series
// gets the round's value at the round's timestamp (the wall-clock second).
func (s *soak) carbonLoad(ctx context.Context, srv *soakServer, ph *SoakPhase) {
	c, err := net.Dial("tcp", srv.carbon)
	if err != nil {
		fmt.Fprintf(s.cfg.Log, "soak: carbon connection: %v\n", err)
		return
	}
	defer c.Close()
	w := bufio.NewWriterSize(c, 64<<10)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var line []byte
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			ts := now.Unix()
			s.mu.Lock()
			if n := len(s.ticks); n > 0 && s.ticks[n-1].ts >= ts {
				s.mu.Unlock()
				continue // one round per second, timestamps strictly rising
			}
			value := float64(len(s.ticks) + 1)
			s.mu.Unlock()
			for m := 0; m < s.cfg.Metrics; m++ {
				line = fmt.Appendf(line[:0], "soak.carbon.m%04d %g %d\n", m, value, ts)
				w.Write(line)
			}
			if err := w.Flush(); err != nil {
				return // the server went away; the round was not sent whole
			}
			s.mu.Lock()
			s.ticks = append(s.ticks, soakTick{ts: ts, value: value, phase: s.phase})
			s.mu.Unlock()
			ph.Ticks++
		}
	}
}

// statsdLoad sends counters and timers every 100 ms over UDP (load only:
// statsd's interval state is not durable across a kill, by design).
func (s *soak) statsdLoad(ctx context.Context, srv *soakServer) {
	c, err := net.Dial("udp", srv.statsd)
	if err != nil {
		return
	}
	defer c.Close()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var b []byte
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b = b[:0]
		for k := 0; k < s.cfg.StatsdKeys; k++ {
			typ := "c"
			if k%4 == 0 {
				typ = "ms"
			}
			b = fmt.Appendf(b, "soak.statsd.k%03d:%d|%s\n", k, (i+k)%100, typ)
			if len(b) > 1200 {
				c.Write(b)
				b = b[:0]
			}
		}
		if len(b) > 0 {
			c.Write(b)
		}
	}
}

// queryLoad renders the carbon series at QueryRate.
func (s *soak) queryLoad(ctx context.Context, srv *soakServer) {
	if s.cfg.QueryRate <= 0 {
		return
	}
	client := s.client
	t := time.NewTicker(time.Duration(float64(time.Second) / s.cfg.QueryRate))
	defer t.Stop()
	targets := []string{"soak.carbon.*", "sumSeries(soak.carbon.*)", "stats.soak.statsd.*", "stats.timers.soak.statsd.*.upper_90"}
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		u := fmt.Sprintf("http://%s/render?target=%s&from=-5min&format=json&maxDataPoints=300", srv.http, targets[i%len(targets)])
		_, err := get(ctx, client, u)
		s.mu.Lock()
		if ctx.Err() == nil {
			s.queries++
			if err != nil {
				s.queryErrs++
			}
		}
		s.mu.Unlock()
	}
}

// observe samples the server's RSS and descriptors (/proc) and goroutines
// (/metrics) every Interval, and polls the carbon line count often to time
// each round's acknowledgement.
func (s *soak) observe(ctx context.Context, srv *soakServer, ph *SoakPhase) {
	ackT := time.NewTicker(100 * time.Millisecond)
	defer ackT.Stop()
	next := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ackT.C:
		}
		s.pollAcks(srv, time.Time{})
		if time.Now().Before(next) {
			continue
		}
		next = next.Add(s.cfg.Interval)
		pid := srv.cmd.Process.Pid
		smp := SoakSample{T: time.Since(s.start).Seconds(), Phase: s.phase}
		smp.RSSBytes, _, _ = procRSS(pid)
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
			smp.FDs = len(ents)
		}
		smp.Goroutines = -1 // unknown: /metrics did not answer
		if body, err := get(ctx, s.client, "http://"+srv.http+"/metrics"); err == nil {
			if g, ok, _ := sumPromSamples(body, "plumbago_goroutines"); ok {
				smp.Goroutines = g
			}
		}
		s.rep.Samples = append(s.rep.Samples, smp)
		ph.MaxRSSBytes = max(ph.MaxRSSBytes, smp.RSSBytes)
		ph.MaxFDs = max(ph.MaxFDs, smp.FDs)
		ph.MaxGoroutines = max(ph.MaxGoroutines, smp.Goroutines)
	}
}

// pollAcks reads the server's carbon line count and marks the rounds it
// covers as acknowledged now; with a deadline it polls until every round
// sent is acknowledged or the deadline passes.
func (s *soak) pollAcks(srv *soakServer, until time.Time) {
	for {
		body, err := get(context.Background(), s.client, "http://"+srv.http+"/metrics")
		if err == nil {
			lines, _, _ := sumPromSamples(body, "plumbago_carbon_lines_total")
			now := time.Now()
			s.mu.Lock()
			// This server run's rounds, in order: round k of the run is in
			// once the run's count reaches (k+1)·Metrics lines.
			k := 0
			pending := false
			for i := range s.ticks {
				tk := &s.ticks[i]
				if tk.phase != s.phase {
					continue
				}
				k++
				if tk.acked.IsZero() {
					if lines >= float64(k*s.cfg.Metrics) {
						tk.acked = now
					} else {
						pending = true
					}
				}
			}
			s.mu.Unlock()
			if !pending {
				return
			}
		}
		if until.IsZero() || time.Now().After(until) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// finishPhase counts the phase's acknowledged rounds and queries.
func (s *soak) finishPhase(ph *SoakPhase, killedAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tk := range s.ticks {
		if tk.phase == s.phase && !tk.acked.IsZero() {
			ph.Acked++
		}
	}
	ph.Queries, ph.QueryErrors = s.queries, s.queryErrs
	s.queries, s.queryErrs = 0, 0
	if !killedAt.IsZero() {
		s.killedAt[s.phase] = killedAt
	}
}

// check reads back every acknowledged round from index from on and applies
// the rule: a round acknowledged before the run's SIGTERM, or more than
// SyncInterval before its kill -9, has all its points; a round acknowledged
// within SyncInterval of a kill -9 may be missing (counted once in
// LostAllowed, then no longer checked). Rounds are read in windows of an
// hour so a long soak's check stays bounded.
func (s *soak) check(srv *soakServer, from int) error {
	s.mu.Lock()
	ticks := slices.Clone(s.ticks[from:])
	s.mu.Unlock()
	client := s.client
	s.checked = 0
	for len(ticks) > 0 {
		win := ticks[:min(len(ticks), 3600)]
		ticks = ticks[len(win):]
		u := fmt.Sprintf("http://%s/render?noCache=1&target=soak.carbon.*&from=%d&until=%d&format=json",
			srv.http, win[0].ts-1, win[len(win)-1].ts)
		body, err := get(context.Background(), client, u)
		if err != nil {
			return fmt.Errorf("soak: reading points back: %w", err)
		}
		var series []renderSeries
		if err := json.Unmarshal(body, &series); err != nil {
			return fmt.Errorf("soak: reading points back: %w", err)
		}
		got := make(map[string]map[int64]float64, len(series))
		for _, sr := range series {
			m := make(map[int64]float64, len(sr.Datapoints))
			for _, dp := range sr.Datapoints {
				if dp[0] != nil && dp[1] != nil {
					m[int64(*dp[1])] = float64(*dp[0])
				}
			}
			got[sr.Target] = m
		}
		for _, tk := range win {
			if tk.acked.IsZero() || tk.lost {
				continue
			}
			s.checked += s.cfg.Metrics
			missing := 0
			var first string
			for m := 0; m < s.cfg.Metrics; m++ {
				name := fmt.Sprintf("soak.carbon.m%04d", m)
				if v, ok := got[name][tk.ts]; !ok || v != tk.value {
					if missing == 0 {
						first = fmt.Sprintf("%s at %d (want %g, got %v present %v)", name, tk.ts, tk.value, v, ok)
					}
					missing++
				}
			}
			if missing == 0 {
				continue
			}
			killed, wasKilled := s.killedAt[tk.phase]
			if lossAllowed(tk.acked, killed, wasKilled, s.cfg.SyncInterval) {
				s.markLost(tk.ts, missing)
				continue
			}
			how := "before its server's SIGTERM"
			if wasKilled {
				how = fmt.Sprintf("%.2fs before its server's kill -9 (sync interval %s)", killed.Sub(tk.acked).Seconds(), s.cfg.SyncInterval)
			}
			s.rep.Violations = append(s.rep.Violations, fmt.Sprintf("%d of %d points of the round at %d, acknowledged %s, are missing; first: %s",
				missing, s.cfg.Metrics, tk.ts, how, first))
		}
	}
	s.rep.PointsChecked = s.checked
	return nil
}

// lossAllowed is the durability promise: a kill -9 at killedAt may lose a
// point the server acknowledged less than sync before it; a SIGTERM may lose
// nothing acknowledged.
func lossAllowed(acked, killedAt time.Time, killed bool, sync time.Duration) bool {
	return killed && killedAt.Sub(acked) < sync
}

// markLost records that a kill -9 lost (part of) a young round, as allowed.
func (s *soak) markLost(ts int64, points int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.ticks {
		if s.ticks[i].ts == ts {
			s.ticks[i].lost = true
			s.rep.Phases[s.ticks[i].phase].LostAllowed += points
			s.rep.Phases[s.ticks[i].phase].LostRounds++
		}
	}
}

// SoakScenario is the name `plumbago loadtest --scenario` takes for Soak.
const SoakScenario = "soak"

const soakDescription = "runs plumbago serve itself for --duration under carbon, statsd and query load, restarting it every --cycle (SIGTERM, every --kill-every-th a kill -9), and checks every acknowledged point after each restart"

// soakMain implements `plumbago loadtest --scenario soak`.
func soakMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg SoakConfig
	fs.String("scenario", SoakScenario, soakDescription)
	fs.StringVar(&cfg.Binary, "server-binary", "", "plumbago binary to run (default: this one)")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "the server's data directory (default: a new temporary directory, removed at the end)")
	fs.StringVar(&cfg.Backend, "backend", "pebble", "pebble or whisper")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Minute, "whole soak (hours in real use)")
	fs.DurationVar(&cfg.Cycle, "cycle", 0, "server run time between stops (0 = duration/6, at least 10s)")
	fs.IntVar(&cfg.KillEvery, "kill-every", 2, "every n-th stop is a kill -9, the others SIGTERM (0 = never kill)")
	fs.DurationVar(&cfg.SyncInterval, "sync-interval", time.Second, "the server's --sync-interval: what a kill -9 may lose")
	fs.IntVar(&cfg.Metrics, "metrics", 200, "carbon series, one point each a second")
	fs.IntVar(&cfg.StatsdKeys, "statsd-keys", 100, "statsd keys (3/4 counters, 1/4 timers) every 100 ms over UDP")
	fs.Float64Var(&cfg.QueryRate, "query-rate", 2, "renders per second while the server is up")
	fs.DurationVar(&cfg.Interval, "interval", time.Second, "sampling period of RSS, descriptors and goroutines")
	jsonPath := fs.String("json", "", "write the report as JSON to this file")
	plotPath := fs.String("plot", "", "write the RSS, descriptors and goroutines timeline to this file (.png or .svg)")
	serverLog := fs.String("server-log", "", "append the server's output to this file")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected arguments %q", fs.Args())
	}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "plumbago-soak-")
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	if !*quiet {
		cfg.Log = stderr
	}
	if *serverLog != "" {
		f, err := os.OpenFile(*serverLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		defer f.Close()
		cfg.ServerLog = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Soak(ctx, cfg)
	if rep != nil {
		if werr := rep.WriteTable(stdout); werr != nil && err == nil {
			err = werr
		}
		if *jsonPath != "" {
			if werr := rep.WriteJSON(*jsonPath); werr != nil && err == nil {
				err = werr
			}
		}
		if *plotPath != "" {
			if werr := rep.WritePlot(*plotPath); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	return nil
}
