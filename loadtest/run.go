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

	// ServerPID, when set, is the target's process: its CPU time and RSS
	// are reported. ServerDataDir, when set, is its data directory: the
	// growth of its disk usage is reported per point.
	ServerPID     int
	ServerDataDir string
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
	return nil
}

// replayed reports whether the payload holds one round that is sent again
// and again, rather than every step.
func (c *Config) replayed() bool { return c.Realtime || c.Proto.statsd() }

// Run builds the payload, sends it, and measures the target.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("configuring load test: %w", err)
	}
	rep := &Report{Scenario: cfg.Scenario, Protocol: cfg.Proto, Target: cfg.Addr, Connections: cfg.Conns,
		Metrics: cfg.Shape.Metrics, PointsPerMetric: cfg.Points}
	step := int64(cfg.Step / time.Second)
	if step < 1 {
		step = 1
	}

	// Build the payload before the clock starts.
	buildStart := time.Now()
	spec := buildSpec{Proto: cfg.Proto, Shape: cfg.Shape, Mix: cfg.Mix, Conns: cfg.Conns, Steps: cfg.Points,
		Step: step, ChunkPoints: cfg.ChunkPoints, ChunkBytes: cfg.ChunkBytes, PerDatagram: cfg.PerDatagram,
		Realtime: cfg.Realtime}
	if cfg.Proto == CarbonUDP {
		spec.ChunkBytes = cfg.DatagramBytes
	}
	if cfg.replayed() {
		spec.Steps = 1
	}
	// Back-filled steps end at the last whole step before now.
	now := time.Now().Unix()
	spec.BaseTS = now/step*step - int64(cfg.Points)*step
	if cfg.Realtime {
		spec.BaseTS = now / step * step
	}
	payloads := make([]*connPayload, cfg.Conns)
	var buildErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range payloads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pl, err := build(spec, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && buildErr == nil {
				buildErr = err
			}
			payloads[c] = pl
		}()
	}
	wg.Wait()
	if buildErr != nil {
		return nil, buildErr
	}
	for _, pl := range payloads {
		rep.PayloadBytes += int64(len(pl.buf))
	}
	rep.BuildSeconds = time.Since(buildStart).Seconds()

	// Per-connection point budgets (count mode).
	cycles := 1
	if cfg.replayed() {
		cycles = cfg.Points
	}

	// Dial before the clock starts.
	conns := make([]net.Conn, cfg.Conns)
	network := "tcp"
	if !cfg.Proto.stream() {
		network = "udp"
	}
	for i := range conns {
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, cfg.Addr)
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return nil, fmt.Errorf("connecting to %s %q: %w", network, cfg.Addr, err)
		}
		if u, ok := c.(*net.UDPConn); ok {
			_ = u.SetWriteBuffer(4 << 20)
		}
		conns[i] = c
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()

	// Counters, start values.
	started := time.Now()
	rep.Started = started
	var sinks []*sinkCounter
	defer func() {
		for _, s := range sinks {
			s.Close()
		}
	}()
	counter := func(spec string) (Counter, float64, error) {
		if spec == "" {
			return nil, 0, nil
		}
		c, err := ParseCounter(spec, started.Add(-time.Second))
		if err != nil {
			return nil, 0, err
		}
		if s, ok := c.(*sinkCounter); ok {
			sinks = append(sinks, s)
		}
		v, _, err := c.Read(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("reading start value of %s: %w", c, err)
		}
		return c, v, nil
	}
	committed, committed0, err := counter(cfg.Committed)
	if err != nil {
		return nil, err
	}
	received, received0, err := counter(cfg.Received)
	if err != nil {
		return nil, err
	}
	dropped, dropped0, err := counter(cfg.Dropped)
	if err != nil {
		return nil, err
	}
	if committed != nil {
		rep.CommittedSource = committed.String()
	}

	var serverCPU0, serverCPULast float64
	var disk0 int64
	if cfg.ServerPID > 0 {
		if serverCPU0, err = procCPUSeconds(cfg.ServerPID); err != nil {
			return nil, err
		}
		serverCPULast = serverCPU0
	}
	if cfg.ServerDataDir != "" {
		if disk0, err = diskUsage(cfg.ServerDataDir); err != nil {
			return nil, err
		}
	}

	var udpDrops0 int64 = -1
	if !cfg.Proto.stream() {
		if v, err := udpRcvbufErrors(); err == nil {
			udpDrops0 = v
		}
	}

	// Send.
	var sent, bytesSent, writes atomic.Int64
	var errMu sync.Mutex
	addErr := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if len(rep.Errors) < 20 {
			rep.Errors = append(rep.Errors, err.Error())
		}
	}
	probe := newProber(&cfg, step, spec.BaseTS)
	cpu0 := cpuSeconds()
	t0 := time.Now()
	deadline := time.Time{}
	if cfg.Duration > 0 {
		deadline = t0.Add(cfg.Duration)
	}
	sendCtx, cancelSend := context.WithCancel(ctx)
	defer cancelSend()
	var sendWG sync.WaitGroup
	perConnRate := cfg.Rate / float64(cfg.Conns)
	for ci := range conns {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			conn, pl := conns[ci], payloads[ci]
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
				ts := spec.BaseTS
				if cfg.Realtime {
					at := t0.Add(time.Duration(cycle) * cfg.Step)
					if d := time.Until(at); d > 0 {
						select {
						case <-time.After(d):
						case <-sendCtx.Done():
							return
						}
					}
					// Every connection stamps round r with the same second.
					ts = t0.Unix()/step*step + int64(cycle)*step
					pl.patchTimestamps(cfg.Proto, ts)
				}
				for k := 0; k < len(pl.chunks); {
					if sendCtx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
						return
					}
					if perConnRate > 0 {
						due := t0.Add(time.Duration(float64(mine) / perConnRate * float64(time.Second)))
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
						bytesSent.Add(int64(w)) // what the failed write got out
						err = werr
					} else {
						n = 1
					}
					var pts, bytes int64
					for j := range batch[:n] {
						ch := &batch[j]
						bytes += int64(ch.end - ch.off)
						pts += int64(ch.points)
						if probe != nil {
							probe.offer(ch, ts, cycle)
						}
					}
					mine += pts
					sent.Add(pts)
					bytesSent.Add(bytes)
					writes.Add(int64(n))
					k += n
					if err != nil {
						if cfg.Proto.stream() {
							addErr(fmt.Errorf("connection %d: %w", ci, err))
							return
						}
						addErr(fmt.Errorf("socket %d: %w", ci, err))
						k++ // the datagram that failed
					}
				}
				if !cfg.replayed() && cfg.Duration == 0 {
					return
				}
			}
		}()
	}
	sendDone := make(chan struct{})
	var t1 time.Time
	go func() {
		sendWG.Wait()
		t1 = time.Now()
		close(sendDone)
	}()

	// Query load and visibility probes run alongside.
	bgCtx, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	var bgWG sync.WaitGroup
	ql := newQueryLoad(&cfg)
	if ql != nil {
		bgWG.Add(1)
		go func() { defer bgWG.Done(); ql.run(bgCtx) }()
	}
	if probe != nil {
		bgWG.Add(1)
		go func() { defer bgWG.Done(); probe.run(bgCtx) }()
	}

	// On a terminal the progress line is redrawn in place.
	tty := isTerminal(cfg.Progress)
	if tty {
		defer io.WriteString(cfg.Progress, "\n")
	}

	// Progress loop: until sending is done and commits have caught up.
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	var lastCommitted float64
	lastChange := time.Now()
	var lastSample Sample
	lastCPU, lastT := cpu0, t0
	var doneAt time.Time
	sending := true
	var committedNow float64
	readCommitted := func() {
		if committed == nil {
			return
		}
		v, _, err := committed.Read(ctx)
		if err != nil {
			addErr(err)
			return
		}
		committedNow = v - committed0
		// Movement below 0.01% of the points sent (a server's own
		// self-metrics) does not hold the settle timer open.
		if committedNow-lastCommitted >= math.Max(1, 1e-4*float64(sent.Load())) {
			lastCommitted, lastChange = committedNow, time.Now()
		}
		if !sending && doneAt.IsZero() && committedNow >= float64(sent.Load()) {
			doneAt = time.Now()
			// Timestamped sources (whisper, render) say when the count
			// crossed the target, to a second; polled ones when we saw it.
			if cr, ok := committed.(crosser); ok {
				if when, ok := cr.crossing(committed0 + float64(sent.Load())); ok && when.Before(doneAt) {
					doneAt = when
				}
			}
			if doneAt.Before(t0) {
				doneAt = t0
			}
		}
	}
	_, isRender := committed.(*renderCounter)
	pollEvery := 1
	if isRender {
		pollEvery = 10 // once a second
	}
	polls := 0
loop:
	for {
		select {
		case <-ctx.Done():
			cancelSend()
			addErr(ctx.Err())
			break loop
		case <-sendDone:
			sendDone = nil // closed: stop selecting it
			sending = false
			lastChange = time.Now()
			readCommitted()
			if committed == nil || !doneAt.IsZero() {
				break loop
			}
		case <-poll.C:
			polls++
			if !sending && polls%pollEvery == 0 {
				readCommitted()
				if !doneAt.IsZero() || time.Since(t1) > cfg.Wait || time.Since(lastChange) > cfg.Settle {
					break loop
				}
			}
		case now := <-tick.C:
			if sending {
				readCommitted()
			}
			s := Sample{T: now.Sub(t0).Seconds(), Sent: sent.Load(), Committed: committedNow,
				VisibilityMS: math.NaN(), QueryP99MS: math.NaN()}
			dt := now.Sub(lastT).Seconds()
			s.SendRate = float64(s.Sent-lastSample.Sent) / dt
			s.CommitRate = (s.Committed - lastSample.Committed) / dt
			cpu := cpuSeconds()
			s.CPUPercent = 100 * (cpu - lastCPU) / dt
			if cfg.ServerPID > 0 {
				if sc, err := procCPUSeconds(cfg.ServerPID); err == nil {
					s.ServerCPU = 100 * (sc - serverCPULast) / dt
					serverCPULast = sc
				}
			}
			if probe != nil {
				s.VisibilityMS = probe.latest()
			}
			if ql != nil {
				s.QueryP99MS = ql.intervalP99()
			}
			rep.Timeline = append(rep.Timeline, s)
			lastSample, lastCPU, lastT = s, cpu, now
			if cfg.Progress != nil {
				printProgress(cfg.Progress, s, committed != nil, tty)
			}
		}
	}
	if probe != nil {
		probe.drain(10 * time.Second)
	}
	cancelBG()
	bgWG.Wait()
	end := time.Now()
	if sendDone != nil { // interrupted before sending finished
		<-sendDone
	}

	rep.PointsSent, rep.BytesSent, rep.Writes = sent.Load(), bytesSent.Load(), writes.Load()
	rep.SendSeconds = t1.Sub(t0).Seconds()
	if rep.SendSeconds > 0 {
		rep.SendRate = float64(rep.PointsSent) / rep.SendSeconds
	}
	cpu1 := cpuSeconds()
	rep.LoaderCPUSeconds = cpu1 - cpu0
	if d := end.Sub(t0).Seconds(); d > 0 {
		rep.LoaderCPUPercent = 100 * rep.LoaderCPUSeconds / d
	}
	if committed != nil {
		readCommitted()
		rep.Committed = committedNow
		rep.AllCommitted = !doneAt.IsZero() || committedNow >= float64(rep.PointsSent)
		if doneAt.IsZero() {
			doneAt = lastChange
		}
		rep.CommitSeconds = doneAt.Sub(t0).Seconds()
		if rep.CommitSeconds > 0 {
			rep.CommitRate = math.Min(float64(rep.PointsSent), rep.Committed) / rep.CommitSeconds
		}
		rep.Lost = math.Max(0, float64(rep.PointsSent)-rep.Committed)
		if rep.PointsSent > 0 {
			rep.LossPercent = 100 * rep.Lost / float64(rep.PointsSent)
		}
	}
	if cfg.ServerPID > 0 {
		if sc, err := procCPUSeconds(cfg.ServerPID); err == nil {
			rep.ServerCPUSeconds = sc - serverCPU0
			rep.ServerCPUPercent = 100 * rep.ServerCPUSeconds / end.Sub(t0).Seconds()
		} else {
			addErr(err)
		}
		if rss, peak, err := procRSS(cfg.ServerPID); err == nil {
			rep.ServerRSSBytes, rep.ServerPeakRSS = rss, peak
		} else {
			addErr(err)
		}
	}
	if cfg.ServerDataDir != "" {
		if d, err := diskUsage(cfg.ServerDataDir); err == nil {
			rep.DiskBytes = d - disk0
			if rep.PointsSent > 0 {
				rep.DiskBytesPerPoint = float64(rep.DiskBytes) / float64(rep.PointsSent)
			}
		} else {
			addErr(err)
		}
	}
	if udpDrops0 >= 0 {
		if v, err := udpRcvbufErrors(); err == nil {
			rep.KernelUDPDrops = v - udpDrops0
		}
	}
	if cfg.VerifyWhisperDir != "" {
		dir := filepath.Join(cfg.VerifyWhisperDir, filepath.FromSlash(strings.ReplaceAll(cfg.Shape.Prefix, ".", "/")))
		if f, n, err := countWhisperPoints(dir); err == nil {
			rep.StoredFiles, rep.StoredPoints = f, n
		} else {
			addErr(err)
		}
	}
	// A timestamped counter (whisper, render) may be written late by the
	// server; redraw the timeline's committed curve by its own timestamps.
	if cr, ok := committed.(crosser); ok {
		prev := 0.0
		for i := range rep.Timeline {
			s := &rep.Timeline[i]
			s.Committed = math.Max(0, cr.cumulative(t0.Add(time.Duration(s.T*float64(time.Second))))-committed0)
			dt := s.T
			if i > 0 {
				dt = s.T - rep.Timeline[i-1].T
			}
			if dt > 0 {
				s.CommitRate = (s.Committed - prev) / dt
			}
			prev = s.Committed
		}
	}
	if received != nil {
		if v, _, err := received.Read(ctx); err == nil {
			rep.Received = v - received0
		} else {
			addErr(err)
		}
	}
	if dropped != nil {
		if v, _, err := dropped.Read(ctx); err == nil {
			rep.Dropped = v - dropped0
		} else {
			addErr(err)
		}
	}
	if probe != nil {
		rep.Visibility = probe.summary()
	}
	if ql != nil {
		rep.Queries = ql.summary()
		if d := end.Sub(t0).Seconds(); d > 0 {
			rep.QueryRate = float64(rep.Queries.Count) / d
		}
	}
	return rep, nil
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
