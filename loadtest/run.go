package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is one load test run.
type Config struct {
	Scenario string
	Proto    Protocol
	Addr     string // host:port of the target's listener
	Conns    int    // TCP connections or UDP sockets
	// Rate is the target points per second over all connections; 0 = as
	// fast as the target accepts.
	Rate  float64
	Shape Shape
	// Points is the points per metric (steps). With Duration 0 the run sends
	// exactly Shape.Metrics × Points points.
	Points int
	// Duration, when set, replays the payload until it elapses instead.
	Duration time.Duration
	// Realtime stamps each round with the wall clock (one round per Step);
	// otherwise timestamps are back-filled: Points steps ending now.
	Realtime bool
	Step     time.Duration

	Mix           StatsdMix
	PerDatagram   int // statsd lines per datagram
	DatagramBytes int // max carbon-udp datagram size
	ChunkPoints   int // max points per stream write (pickle: per frame)
	ChunkBytes    int // max bytes per stream write

	// Committed counts points the server has stored (compared with points
	// sent); Received and Dropped are reported alongside. See ParseCounter.
	Committed, Received, Dropped string

	// RenderURL is the target's /render endpoint, for visibility probes and
	// query load.
	RenderURL       string
	VisibilityEvery time.Duration // 0 = no visibility probes
	QueryRate       float64       // render requests per second, 0 = none
	QueryTargets    []string      // default: derived from the shape
	QueryFrom       string        // e.g. "-15min"

	Wait     time.Duration // max wait for commits after the last byte
	Settle   time.Duration // stop waiting when the count has not moved this long
	Interval time.Duration // progress and timeline period
	// Poll is how often the committed counter is read once sending is
	// over (a render counter: at most once a second). Each read of a
	// prom: counter is a scrape the server pays for, and it counts in
	// the server's CPU: a statsd run whose count moves only at a flush
	// gains nothing from reading it ten times a second.
	Poll time.Duration

	// ServerPID, when set, is the target's process: its CPU time and RSS
	// are reported. ServerDataDir, when set, is its data directory: the
	// growth of its disk usage is reported per point.
	ServerPID     int
	ServerDataDir string
	// StoreSettle is how long to wait, once every point is committed,
	// before the data directory's disk use is measured, so a store that
	// flushes and compacts when idle (pebble: --pebble-idle-flush, 30 s)
	// is measured settled. 0 measures at once.
	StoreSettle time.Duration
	// VerifyWhisperDir, when set, is the target's whisper root: at the end
	// the points stored in the files under the scenario's prefix are
	// counted, an exact check of loss for whisper-based targets.
	VerifyWhisperDir string

	Progress io.Writer // live progress lines; nil = quiet
}

// Sample is one point of the run's timeline.
type Sample struct {
	T          float64 `json:"t"` // seconds since the first byte
	Sent       int64   `json:"sent"`
	Committed  float64 `json:"committed"`
	SendRate   float64 `json:"send_rate"`
	CommitRate float64 `json:"commit_rate"`
	// VisibilityMS is the latest visibility latency measured in the period
	// (NaN = none); QueryP99MS the p99 of render requests completed in it.
	VisibilityMS float64 `json:"visibility_ms"`
	QueryP99MS   float64 `json:"query_p99_ms"`
	CPUPercent   float64 `json:"loader_cpu_percent"`
	ServerCPU    float64 `json:"server_cpu_percent"`
}

// Latency summarises a set of latencies in milliseconds.
type Latency struct {
	Count  int     `json:"count"`
	Errors int     `json:"errors"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// Report is the result of a run.
type Report struct {
	Scenario        string    `json:"scenario"`
	Protocol        Protocol  `json:"protocol"`
	Target          string    `json:"target"`
	Connections     int       `json:"connections"`
	Metrics         int       `json:"metrics"`
	PointsPerMetric int       `json:"points_per_metric"`
	Started         time.Time `json:"started"`

	PayloadBytes int64   `json:"payload_bytes"`
	BuildSeconds float64 `json:"build_seconds"`

	PointsSent  int64   `json:"points_sent"`
	BytesSent   int64   `json:"bytes_sent"`
	Writes      int64   `json:"writes"`
	SendSeconds float64 `json:"send_seconds"`
	SendRate    float64 `json:"send_rate"`

	CommittedSource string  `json:"committed_source,omitempty"`
	Committed       float64 `json:"committed"`
	AllCommitted    bool    `json:"all_committed"`
	// CommitSeconds is from the first byte sent until the committed count
	// reached the points sent (or stopped moving); CommitRate is the
	// end-to-end figure, points sent / CommitSeconds.
	CommitSeconds float64 `json:"commit_seconds"`
	CommitRate    float64 `json:"commit_rate"`
	Lost          float64 `json:"lost"`
	LossPercent   float64 `json:"loss_percent"`
	Received      float64 `json:"received,omitempty"`
	Dropped       float64 `json:"dropped,omitempty"`

	Visibility Latency `json:"visibility"`
	Queries    Latency `json:"queries"`
	QueryRate  float64 `json:"query_rate"`

	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	ServerCPUPercent float64 `json:"server_cpu_percent,omitempty"` // of one core, first byte to the end
	ServerRSSBytes   int64   `json:"server_rss_bytes,omitempty"`
	ServerPeakRSS    int64   `json:"server_peak_rss_bytes,omitempty"`
	DiskBytes        int64   `json:"disk_bytes_added,omitempty"`
	// KernelUDPDrops is the growth of the kernel's UDP receive-buffer
	// overflow counter over the run (system-wide), for UDP protocols.
	KernelUDPDrops    int64   `json:"kernel_udp_drops,omitempty"`
	StoredFiles       int64   `json:"stored_files,omitempty"`  // --verify-whisper
	StoredPoints      int64   `json:"stored_points,omitempty"` // --verify-whisper
	DiskBytesPerPoint float64 `json:"disk_bytes_per_point,omitempty"`
	// With realistic data (Config.Shape.Data): the dataset, and the
	// entropy estimate of the points sent (realdata.Entropy), the limit
	// to hold DiskBytesPerPoint against.
	Data                 string  `json:"data,omitempty"`
	EntropyBytesPerPoint float64 `json:"entropy_bytes_per_point,omitempty"`
	StoreSettleSeconds   float64 `json:"store_settle_seconds,omitempty"`

	LoaderCPUSeconds float64  `json:"loader_cpu_seconds"`
	LoaderCPUPercent float64  `json:"loader_cpu_percent"` // of one core, over the run
	Timeline         []Sample `json:"timeline"`
	Errors           []string `json:"errors,omitempty"`
}

func (c *Config) defaults() error {
	if c.Conns <= 0 {
		c.Conns = 1
	}
	if c.Shape.Metrics <= 0 {
		return errors.New("metrics must be positive")
	}
	if c.Points <= 0 {
		c.Points = 1
	}
	if c.Step <= 0 {
		c.Step = time.Second
	}
	if c.Shape.Prefix == "" {
		c.Shape.Prefix = "loadtest"
	}
	if c.Shape.Fanout <= 0 {
		c.Shape.Fanout = 100
	}
	if c.Shape.Churn < 0 || c.Shape.Churn > 1 {
		return fmt.Errorf("churn %v is not within 0..1", c.Shape.Churn)
	}
	if c.PerDatagram <= 0 {
		c.PerDatagram = 1
	}
	if c.DatagramBytes <= 0 {
		c.DatagramBytes = 1432
	}
	if c.ChunkBytes <= 0 {
		c.ChunkBytes = 64 << 10
	}
	if c.ChunkPoints <= 0 {
		c.ChunkPoints = 1 << 30
		if c.Proto == Pickle {
			c.ChunkPoints = 500
		}
	}
	if c.Rate > 0 {
		// Small writes at low rates so pacing is smooth (~100 writes/s/conn).
		c.ChunkPoints = max(1, min(c.ChunkPoints, int(c.Rate/float64(c.Conns)/100)))
	}
	if c.Wait <= 0 {
		c.Wait = 10 * time.Minute
	}
	if c.Settle <= 0 {
		c.Settle = 15 * time.Second
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 100 * time.Millisecond
	}
	if c.QueryFrom == "" {
		c.QueryFrom = "-15min"
	}
	switch c.Proto {
	case CarbonTCP, CarbonUDP, Pickle, StatsdUDP, StatsdTCP:
	default:
		return fmt.Errorf("unknown protocol %q", c.Proto)
	}
	if c.Shape.Churn > 0 && (c.Realtime || c.Proto.statsd()) {
		return errors.New("churn needs back-filled carbon or pickle payloads (each step is baked in)")
	}
	if c.Realtime && c.Duration == 0 && c.Rate > 0 {
		return errors.New("realtime sends one round per step; set --duration or drop --rate")
	}
	if c.StoreSettle < 0 {
		return fmt.Errorf("store settle %v is negative", c.StoreSettle)
	}
	return c.checkData()
}

// replayed reports whether the payload holds one round that is sent again
// and again, rather than every step.
func (c *Config) replayed() bool { return c.Realtime || c.Proto.statsd() }

// Run builds the payload, sends it, and measures the target.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("configuring load test: %w", err)
	}
	r := &run{cfg: cfg, rep: &Report{Scenario: cfg.Scenario, Protocol: cfg.Proto, Target: cfg.Addr, Connections: cfg.Conns,
		Metrics: cfg.Shape.Metrics, PointsPerMetric: cfg.Points}}
	if err := r.buildPayloads(); err != nil {
		return nil, err
	}
	if err := r.dial(ctx); err != nil {
		return nil, err
	}
	defer r.closeConns()
	defer r.closeSinks()
	if err := r.readBaselines(ctx); err != nil {
		return nil, err
	}
	r.send(ctx)
	defer r.cancelSend()
	bgCtx, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	bgWG := r.startBackground(bgCtx)
	r.watch(ctx)
	if r.probe != nil {
		r.probe.drain(10 * time.Second)
	}
	cancelBG()
	bgWG.Wait()
	end := time.Now()
	if r.sendDone != nil { // interrupted before sending finished
		<-r.sendDone
	}
	r.finish(ctx, end)
	return r.rep, nil
}

// run is one Run's state, shared by its parts.
type run struct {
	cfg      Config
	rep      *Report
	step     int64
	spec     buildSpec
	payloads []*connPayload
	conns    []net.Conn

	started                         time.Time
	sinks                           []*sinkCounter
	committed, received, dropped    Counter
	committed0, received0, dropped0 float64
	serverCPU0, serverCPULast       float64
	disk0                           int64
	udpDrops0                       int64

	sent, bytesSent, writes atomic.Int64
	errMu                   sync.Mutex
	probe                   *prober
	ql                      *queryLoad
	cpu0                    float64
	t0, t1                  time.Time
	cancelSend              context.CancelFunc
	sendDone                chan struct{}

	// The progress loop's view of the committed count.
	sending       bool
	committedNow  float64
	lastCommitted float64
	lastChange    time.Time
	doneAt        time.Time
}

func (r *run) addErr(err error) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if len(r.rep.Errors) < 20 {
		r.rep.Errors = append(r.rep.Errors, err.Error())
	}
}

// buildPayloads builds every connection's payload before the clock starts.
func (r *run) buildPayloads() error {
	cfg := &r.cfg
	r.step = max(int64(cfg.Step/time.Second), 1)
	buildStart := time.Now()
	r.spec = buildSpec{Proto: cfg.Proto, Shape: cfg.Shape, Mix: cfg.Mix, Conns: cfg.Conns, Steps: cfg.Points,
		Step: r.step, ChunkPoints: cfg.ChunkPoints, ChunkBytes: cfg.ChunkBytes, PerDatagram: cfg.PerDatagram,
		Realtime: cfg.Realtime}
	if cfg.Proto == CarbonUDP {
		r.spec.ChunkBytes = cfg.DatagramBytes
	}
	if cfg.replayed() {
		r.spec.Steps = 1
	}
	if cfg.Shape.Data != "" {
		r.spec.Data = cfg.Shape.dataset()
		cfg.Shape.names = r.spec.Data
		r.spec.Shape.names = r.spec.Data
		r.rep.Data = cfg.Shape.Data
		r.rep.Metrics = cfg.Shape.Metrics
		r.rep.EntropyBytesPerPoint = dataEntropy(&cfg.Shape, cfg.Points).BytesPerPoint()
	}
	// Back-filled steps end at the last whole step before now.
	now := time.Now().Unix()
	r.spec.BaseTS = now/r.step*r.step - int64(cfg.Points)*r.step
	if cfg.Realtime {
		r.spec.BaseTS = now / r.step * r.step
	}
	r.payloads = make([]*connPayload, cfg.Conns)
	var buildErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range r.payloads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pl, err := build(r.spec, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && buildErr == nil {
				buildErr = err
			}
			r.payloads[c] = pl
		}()
	}
	wg.Wait()
	if buildErr != nil {
		return buildErr
	}
	for _, pl := range r.payloads {
		r.rep.PayloadBytes += int64(len(pl.buf))
	}
	r.rep.BuildSeconds = time.Since(buildStart).Seconds()
	return nil
}

// dial opens every connection before the clock starts.
func (r *run) dial(ctx context.Context) error {
	r.conns = make([]net.Conn, r.cfg.Conns)
	network := "tcp"
	if !r.cfg.Proto.stream() {
		network = "udp"
	}
	for i := range r.conns {
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, r.cfg.Addr)
		if err != nil {
			for _, c := range r.conns[:i] {
				c.Close()
			}
			r.conns = nil
			return fmt.Errorf("connecting to %s %q: %w", network, r.cfg.Addr, err)
		}
		if u, ok := c.(*net.UDPConn); ok {
			_ = u.SetWriteBuffer(4 << 20)
		}
		r.conns[i] = c
	}
	return nil
}

func (r *run) closeConns() {
	for _, c := range r.conns {
		c.Close()
	}
}

func (r *run) closeSinks() {
	for _, s := range r.sinks {
		s.Close()
	}
}

// counter opens a counter spec and reads its start value.
func (r *run) counter(ctx context.Context, spec string) (Counter, float64, error) {
	if spec == "" {
		return nil, 0, nil
	}
	c, err := ParseCounter(spec, r.started.Add(-time.Second))
	if err != nil {
		return nil, 0, err
	}
	if s, ok := c.(*sinkCounter); ok {
		r.sinks = append(r.sinks, s)
	}
	v, _, err := c.Read(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("reading start value of %s: %w", c, err)
	}
	return c, v, nil
}

// readBaselines reads the start values of the counters, the server's CPU
// time and disk use, and the kernel's UDP drop count.
func (r *run) readBaselines(ctx context.Context) error {
	cfg := &r.cfg
	r.started = time.Now()
	r.rep.Started = r.started
	var err error
	if r.committed, r.committed0, err = r.counter(ctx, cfg.Committed); err != nil {
		return err
	}
	if r.received, r.received0, err = r.counter(ctx, cfg.Received); err != nil {
		return err
	}
	if r.dropped, r.dropped0, err = r.counter(ctx, cfg.Dropped); err != nil {
		return err
	}
	if r.committed != nil {
		r.rep.CommittedSource = r.committed.String()
	}
	if cfg.ServerPID > 0 {
		if r.serverCPU0, err = procCPUSeconds(cfg.ServerPID); err != nil {
			return err
		}
		r.serverCPULast = r.serverCPU0
	}
	if cfg.ServerDataDir != "" {
		if r.disk0, err = diskUsage(cfg.ServerDataDir); err != nil {
			return err
		}
	}
	r.udpDrops0 = -1
	if !cfg.Proto.stream() {
		if v, err := udpRcvbufErrors(); err == nil {
			r.udpDrops0 = v
		}
	}
	return nil
}

// send starts the clock and one sender per connection; sendDone closes
// when they all finished (t1).
func (r *run) send(ctx context.Context) {
	r.probe = newProber(&r.cfg, r.step, r.spec.BaseTS)
	r.cpu0 = cpuSeconds()
	r.t0 = time.Now()
	var sendCtx context.Context
	sendCtx, r.cancelSend = context.WithCancel(ctx)
	var sendWG sync.WaitGroup
	for ci := range r.conns {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			r.sendConn(sendCtx, ci)
		}()
	}
	r.sendDone = make(chan struct{})
	go func() {
		sendWG.Wait()
		r.t1 = time.Now()
		close(r.sendDone)
	}()
}

// sendConn replays connection ci's payload: once (back-fill), per round
// (realtime, statsd) or until the duration is spent, paced by the rate.
func (r *run) sendConn(ctx context.Context, ci int) {
	cfg := &r.cfg
	conn, pl := r.conns[ci], r.payloads[ci]
	cycles := 1
	if cfg.replayed() {
		cycles = cfg.Points
	}
	deadline := time.Time{}
	if cfg.Duration > 0 {
		deadline = r.t0.Add(cfg.Duration)
	}
	perConnRate := cfg.Rate / float64(cfg.Conns)
	var mine int64
	// UDP goes out in sendmmsg batches (Linux), at most about a
	// millisecond's worth of datagrams each when paced.
	var bs *batchSender
	batchLen := 1
	if !cfg.Proto.stream() && len(pl.chunks) > 0 {
		bs = newBatchSender(conn)
	}
	if bs != nil {
		batchLen = datagramBatch
		if perConnRate > 0 {
			perChunk := float64(pl.points) / float64(len(pl.chunks))
			batchLen = max(1, min(datagramBatch, int(perConnRate/1000/perChunk)))
		}
	}
	for cycle := 0; cfg.Duration > 0 || cycle < cycles; cycle++ {
		ts := r.spec.BaseTS
		if cfg.Realtime {
			at := r.t0.Add(time.Duration(cycle) * cfg.Step)
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			}
			// Every connection stamps round r with the same second.
			ts = r.t0.Unix()/r.step*r.step + int64(cycle)*r.step
			pl.patchTimestamps(cfg.Proto, ts)
		}
		for k := 0; k < len(pl.chunks); {
			if ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
				return
			}
			if perConnRate > 0 {
				due := r.t0.Add(time.Duration(float64(mine) / perConnRate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
			}
			// One chunk per write, or a batch of datagrams per
			// sendmmsg; n chunks went out before err.
			batch := pl.chunks[k:min(k+batchLen, len(pl.chunks))]
			var n int
			var err error
			if bs != nil {
				n, err = bs.send(pl.buf, batch)
			} else if w, werr := conn.Write(pl.buf[batch[0].off:batch[0].end]); werr != nil {
				r.bytesSent.Add(int64(w)) // what the failed write got out
				err = werr
			} else {
				n = 1
			}
			mine += r.account(batch[:n], ts, cycle)
			k += n
			if err != nil {
				if cfg.Proto.stream() {
					r.addErr(fmt.Errorf("connection %d: %w", ci, err))
					return
				}
				r.addErr(fmt.Errorf("socket %d: %w", ci, err))
				k++ // the datagram that failed
			}
		}
		if !cfg.replayed() && cfg.Duration == 0 {
			return
		}
	}
}

// account counts chunks that went out and offers them to the prober; it
// returns their points.
func (r *run) account(chunks []chunk, ts int64, cycle int) int64 {
	var pts, bytes int64
	for j := range chunks {
		ch := &chunks[j]
		bytes += int64(ch.end - ch.off)
		pts += int64(ch.points)
		if r.probe != nil {
			r.probe.offer(ch, ts, cycle)
		}
	}
	r.sent.Add(pts)
	r.bytesSent.Add(bytes)
	r.writes.Add(int64(len(chunks)))
	return pts
}

// startBackground runs the query load and the visibility prober alongside.
func (r *run) startBackground(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	r.ql = newQueryLoad(&r.cfg)
	if r.ql != nil {
		wg.Add(1)
		go func() { defer wg.Done(); r.ql.run(ctx) }()
	}
	if r.probe != nil {
		wg.Add(1)
		go func() { defer wg.Done(); r.probe.run(ctx) }()
	}
	return &wg
}

// readCommitted reads the committed counter and, once sending is over and
// the count reached what was sent, records when (doneAt).
func (r *run) readCommitted(ctx context.Context) {
	if r.committed == nil {
		return
	}
	v, _, err := r.committed.Read(ctx)
	if err != nil {
		r.addErr(err)
		return
	}
	r.committedNow = v - r.committed0
	// Movement below 0.01% of the points sent (a server's own
	// self-metrics) does not hold the settle timer open.
	if r.committedNow-r.lastCommitted >= math.Max(1, 1e-4*float64(r.sent.Load())) {
		r.lastCommitted, r.lastChange = r.committedNow, time.Now()
	}
	if !r.sending && r.doneAt.IsZero() && r.committedNow >= float64(r.sent.Load()) {
		r.doneAt = time.Now()
		// Timestamped sources (whisper, render) say when the count
		// crossed the target, to a second; polled ones when we saw it.
		if cr, ok := r.committed.(crosser); ok {
			if when, ok := cr.crossing(r.committed0 + float64(r.sent.Load())); ok && when.Before(r.doneAt) {
				r.doneAt = when
			}
		}
		if r.doneAt.Before(r.t0) {
			r.doneAt = r.t0
		}
	}
}

// watch is the progress loop: a timeline sample every interval, until
// sending is done and the committed count caught up (or settled, or the
// wait ran out).
func (r *run) watch(ctx context.Context) {
	cfg := &r.cfg
	// On a terminal the progress line is redrawn in place.
	tty := isTerminal(cfg.Progress)
	if tty {
		defer io.WriteString(cfg.Progress, "\n")
	}
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	poll := time.NewTicker(cfg.Poll)
	defer poll.Stop()
	r.lastChange = time.Now()
	r.sending = true
	var lastSample Sample
	lastCPU, lastT := r.cpu0, r.t0
	_, isRender := r.committed.(*renderCounter)
	pollEvery := 1
	if isRender {
		pollEvery = max(1, int(time.Second/cfg.Poll)) // about once a second
	}
	polls := 0
	for {
		select {
		case <-ctx.Done():
			r.cancelSend()
			r.addErr(ctx.Err())
			return
		case <-r.sendDone:
			r.sendDone = nil // closed: stop selecting it
			r.sending = false
			r.lastChange = time.Now()
			r.readCommitted(ctx)
			if r.committed == nil || !r.doneAt.IsZero() {
				return
			}
		case <-poll.C:
			polls++
			if !r.sending && polls%pollEvery == 0 {
				r.readCommitted(ctx)
				if !r.doneAt.IsZero() || time.Since(r.t1) > cfg.Wait || time.Since(r.lastChange) > cfg.Settle {
					return
				}
			}
		case now := <-tick.C:
			if r.sending {
				r.readCommitted(ctx)
			}
			s, cpu := r.sample(now, lastSample, lastCPU, lastT)
			r.rep.Timeline = append(r.rep.Timeline, s)
			lastSample, lastCPU, lastT = s, cpu, now
			if cfg.Progress != nil {
				printProgress(cfg.Progress, s, r.committed != nil, tty)
			}
		}
	}
}

// sample is the timeline's point at now, rates against the previous one;
// cpu is the loader's CPU time it read.
func (r *run) sample(now time.Time, last Sample, lastCPU float64, lastT time.Time) (s Sample, cpu float64) {
	s = Sample{T: now.Sub(r.t0).Seconds(), Sent: r.sent.Load(), Committed: r.committedNow,
		VisibilityMS: math.NaN(), QueryP99MS: math.NaN()}
	dt := now.Sub(lastT).Seconds()
	s.SendRate = float64(s.Sent-last.Sent) / dt
	s.CommitRate = (s.Committed - last.Committed) / dt
	cpu = cpuSeconds()
	s.CPUPercent = 100 * (cpu - lastCPU) / dt
	if r.cfg.ServerPID > 0 {
		if sc, err := procCPUSeconds(r.cfg.ServerPID); err == nil {
			s.ServerCPU = 100 * (sc - r.serverCPULast) / dt
			r.serverCPULast = sc
		}
	}
	if r.probe != nil {
		s.VisibilityMS = r.probe.latest()
	}
	if r.ql != nil {
		s.QueryP99MS = r.ql.intervalP99()
	}
	return s, cpu
}

// finish fills the report's totals once the run is over.
func (r *run) finish(ctx context.Context, end time.Time) {
	rep := r.rep
	rep.PointsSent, rep.BytesSent, rep.Writes = r.sent.Load(), r.bytesSent.Load(), r.writes.Load()
	rep.SendSeconds = r.t1.Sub(r.t0).Seconds()
	if rep.SendSeconds > 0 {
		rep.SendRate = float64(rep.PointsSent) / rep.SendSeconds
	}
	rep.LoaderCPUSeconds = cpuSeconds() - r.cpu0
	if d := end.Sub(r.t0).Seconds(); d > 0 {
		rep.LoaderCPUPercent = 100 * rep.LoaderCPUSeconds / d
	}
	r.finishCommitted(ctx)
	r.finishServer(end)
	if r.cfg.VerifyWhisperDir != "" {
		dir := filepath.Join(r.cfg.VerifyWhisperDir, filepath.FromSlash(strings.ReplaceAll(r.cfg.Shape.Prefix, ".", "/")))
		if f, n, err := countWhisperPoints(dir); err == nil {
			rep.StoredFiles, rep.StoredPoints = f, n
		} else {
			r.addErr(err)
		}
	}
	r.redrawCommitted()
	if r.received != nil {
		if v, _, err := r.received.Read(ctx); err == nil {
			rep.Received = v - r.received0
		} else {
			r.addErr(err)
		}
	}
	if r.dropped != nil {
		if v, _, err := r.dropped.Read(ctx); err == nil {
			rep.Dropped = v - r.dropped0
		} else {
			r.addErr(err)
		}
	}
	if r.probe != nil {
		rep.Visibility = r.probe.summary()
	}
	if r.ql != nil {
		rep.Queries = r.ql.summary()
		if d := end.Sub(r.t0).Seconds(); d > 0 {
			rep.QueryRate = float64(rep.Queries.Count) / d
		}
	}
}

// finishCommitted reports the committed count, when it caught up and what
// was lost.
func (r *run) finishCommitted(ctx context.Context) {
	if r.committed == nil {
		return
	}
	rep := r.rep
	r.readCommitted(ctx)
	rep.Committed = r.committedNow
	rep.AllCommitted = !r.doneAt.IsZero() || r.committedNow >= float64(rep.PointsSent)
	if r.doneAt.IsZero() {
		r.doneAt = r.lastChange
	}
	rep.CommitSeconds = r.doneAt.Sub(r.t0).Seconds()
	if rep.CommitSeconds > 0 {
		rep.CommitRate = math.Min(float64(rep.PointsSent), rep.Committed) / rep.CommitSeconds
	}
	rep.Lost = math.Max(0, float64(rep.PointsSent)-rep.Committed)
	if rep.PointsSent > 0 {
		rep.LossPercent = 100 * rep.Lost / float64(rep.PointsSent)
	}
}

// finishServer reports the server's CPU, memory and disk use and the
// kernel's UDP drops over the run.
func (r *run) finishServer(end time.Time) {
	rep, cfg := r.rep, &r.cfg
	if cfg.ServerPID > 0 {
		if sc, err := procCPUSeconds(cfg.ServerPID); err == nil {
			rep.ServerCPUSeconds = sc - r.serverCPU0
			rep.ServerCPUPercent = 100 * rep.ServerCPUSeconds / end.Sub(r.t0).Seconds()
		} else {
			r.addErr(err)
		}
		if rss, peak, err := procRSS(cfg.ServerPID); err == nil {
			rep.ServerRSSBytes, rep.ServerPeakRSS = rss, peak
		} else {
			r.addErr(err)
		}
	}
	if cfg.ServerDataDir != "" {
		if cfg.StoreSettle > 0 {
			// A measurement policy, not synchronisation: the store's own
			// idle flush and compactions run meanwhile.
			time.Sleep(cfg.StoreSettle)
			rep.StoreSettleSeconds = cfg.StoreSettle.Seconds()
		}
		if d, err := diskUsage(cfg.ServerDataDir); err == nil {
			rep.DiskBytes = d - r.disk0
			if rep.PointsSent > 0 {
				rep.DiskBytesPerPoint = float64(rep.DiskBytes) / float64(rep.PointsSent)
			}
		} else {
			r.addErr(err)
		}
	}
	if r.udpDrops0 >= 0 {
		if v, err := udpRcvbufErrors(); err == nil {
			rep.KernelUDPDrops = v - r.udpDrops0
		}
	}
}

// redrawCommitted redraws the timeline's committed curve from a
// timestamped counter's own timestamps (whisper, render), since the server
// may write the counter late.
func (r *run) redrawCommitted() {
	cr, ok := r.committed.(crosser)
	if !ok {
		return
	}
	prev := 0.0
	for i := range r.rep.Timeline {
		s := &r.rep.Timeline[i]
		s.Committed = math.Max(0, cr.cumulative(r.t0.Add(time.Duration(s.T*float64(time.Second))))-r.committed0)
		dt := s.T
		if i > 0 {
			dt = s.T - r.rep.Timeline[i-1].T
		}
		if dt > 0 {
			s.CommitRate = (s.Committed - prev) / dt
		}
		prev = s.Committed
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func printProgress(w io.Writer, s Sample, haveCommitted, tty bool) {
	line := fmt.Sprintf("%6.1fs  sent %11d  %9.0f/s", s.T, s.Sent, s.SendRate)
	if haveCommitted {
		line += fmt.Sprintf("  committed %11.0f  %9.0f/s  behind %9.0f", s.Committed, s.CommitRate, float64(s.Sent)-s.Committed)
	}
	if !math.IsNaN(s.VisibilityMS) {
		line += fmt.Sprintf("  visible %6.0fms", s.VisibilityMS)
	}
	if !math.IsNaN(s.QueryP99MS) {
		line += fmt.Sprintf("  query p99 %6.1fms", s.QueryP99MS)
	}
	line += fmt.Sprintf("  loader cpu %3.0f%%", s.CPUPercent)
	if s.ServerCPU != 0 {
		line += fmt.Sprintf("  server cpu %3.0f%%", s.ServerCPU)
	}
	if tty {
		line = "\r\x1b[K" + strings.TrimSuffix(line, "\n")
	} else {
		line += "\n"
	}
	io.WriteString(w, line)
}

// latencies collects durations and summarises them.
type latencies struct {
	mu       sync.Mutex
	all      []float64 // ms
	interval []float64
	errors   int
}

func (l *latencies) add(ms float64) {
	l.mu.Lock()
	l.all = append(l.all, ms)
	l.interval = append(l.interval, ms)
	l.mu.Unlock()
}

func (l *latencies) fail() {
	l.mu.Lock()
	l.errors++
	l.mu.Unlock()
}

func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func (l *latencies) intervalP99() float64 {
	l.mu.Lock()
	iv := l.interval
	l.interval = nil
	l.mu.Unlock()
	sort.Float64s(iv)
	return percentile(iv, 0.99)
}

func (l *latencies) summary() Latency {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := append([]float64(nil), l.all...)
	sort.Float64s(s)
	out := Latency{Count: len(s), Errors: l.errors}
	if len(s) > 0 {
		out.P50MS, out.P90MS, out.P99MS, out.MaxMS = percentile(s, .5), percentile(s, .9), percentile(s, .99), s[len(s)-1]
	}
	return out
}

// queryLoad sends Grafana-style render requests at a rate.
type queryLoad struct {
	latencies
	cfg     *Config
	client  *http.Client
	targets []string
}

func newQueryLoad(cfg *Config) *queryLoad {
	if cfg.QueryRate <= 0 || cfg.RenderURL == "" {
		return nil
	}
	q := &queryLoad{cfg: cfg, client: httpClient(), targets: cfg.QueryTargets}
	if len(q.targets) == 0 {
		q.targets = DefaultQueryTargets(cfg.Shape)
	}
	return q
}

// DefaultQueryTargets are Grafana-like targets over the shape's names: one
// series, a 10-series glob, a 100-series sum, and an aliasByNode.
func DefaultQueryTargets(s Shape) []string {
	n := string(s.name(nil, min(42, s.Metrics-1)))
	g1, g2 := n[:len(n)-1]+"*", n[:len(n)-2]+"*"
	return []string{n, g1, "sumSeries(" + g2 + ")", "aliasByNode(" + g1 + ", -1)"}
}

func (q *queryLoad) run(ctx context.Context) {
	workers := max(1, min(32, int(math.Ceil(q.cfg.QueryRate))))
	jobs := make(chan string, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				v := url.Values{"target": {t}, "from": {q.cfg.QueryFrom}, "until": {"now"},
					"format": {"json"}, "maxDataPoints": {"1000"},
					// Measure rendering, not the render cache.
					"noCache": {"1"}}
				start := time.Now()
				if _, err := get(ctx, q.client, q.cfg.RenderURL+"?"+v.Encode()); err != nil {
					if ctx.Err() == nil {
						q.fail()
					}
					continue
				}
				q.add(float64(time.Since(start).Microseconds()) / 1000)
			}
		}()
	}
	every := time.Duration(float64(time.Second) / q.cfg.QueryRate)
	t := time.NewTicker(every)
	defer func() { t.Stop(); close(jobs); wg.Wait() }()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			select {
			case jobs <- q.targets[i%len(q.targets)]:
			default: // all workers busy: the target is saturated; skip
				q.fail()
			}
		}
	}
}

// prober measures visibility latency: the time from writing a sampled
// point until /render returns it.
type prober struct {
	latencies
	cfg    *Config
	client *http.Client
	step   int64
	want   atomic.Bool
	busy   atomic.Bool // a sample is being polled for
	sample chan probeSample
	last   atomic.Uint64 // math.Float64bits of the latest latency, NaN if none
}

type probeSample struct {
	name   string
	ts     int64
	value  float64
	sentAt time.Time
}

func newProber(cfg *Config, step, _ int64) *prober {
	if cfg.VisibilityEvery <= 0 || cfg.RenderURL == "" || cfg.Proto.statsd() {
		return nil
	}
	p := &prober{cfg: cfg, client: httpClient(), step: step, sample: make(chan probeSample, 1)}
	p.last.Store(math.Float64bits(math.NaN()))
	p.want.Store(true)
	return p
}

// offer is called by senders after each write; it is a single atomic load
// unless the prober asked for a sample.
func (p *prober) offer(ch *chunk, ts int64, _ int) {
	if !p.want.Load() || !p.want.CompareAndSwap(true, false) {
		return
	}
	i, st := int(ch.lastMetric), int(ch.lastStep)
	if !p.cfg.Realtime {
		ts += int64(st) * p.step
	}
	name := string(p.cfg.Shape.name(nil, p.cfg.Shape.seriesID(i, st)))
	p.sample <- probeSample{name: name, ts: ts, value: float64(value(i, st)), sentAt: time.Now()}
}

// drain stops new samples and waits (up to limit) for the one in flight,
// so a run that ends quickly still reports the visibility of what it sent.
func (p *prober) drain(limit time.Duration) {
	p.want.Store(false)
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if !p.busy.Load() && len(p.sample) == 0 {
			return
		}
	}
}

func (p *prober) latest() float64 { return math.Float64frombits(p.last.Load()) }

func (p *prober) run(ctx context.Context) {
	for {
		var s probeSample
		select {
		case <-ctx.Done():
			return
		case s = <-p.sample:
		}
		p.busy.Store(true)
		found := false
		for time.Since(s.sentAt) < 60*time.Second && ctx.Err() == nil {
			series, err := render(ctx, p.client, p.cfg.RenderURL, s.name, s.ts-60, s.ts+60)
			if err == nil && hasPoint(series, s.ts, s.value) {
				found = true
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if found {
			ms := float64(time.Since(s.sentAt).Microseconds()) / 1000
			p.add(ms)
			p.last.Store(math.Float64bits(ms))
		} else if ctx.Err() == nil {
			p.fail()
		}
		p.busy.Store(false)
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.cfg.VisibilityEvery):
		}
		p.want.Store(true)
	}
}

func hasPoint(series []renderSeries, ts int64, v float64) bool {
	for _, s := range series {
		for _, dp := range s.Datapoints {
			if dp[0] != nil && dp[1] != nil && int64(*dp[1]) == ts && float64(*dp[0]) == v {
				return true
			}
		}
	}
	return false
}
