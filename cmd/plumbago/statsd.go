package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/pipeline"
	"github.com/plumbago/plumbago/ingest/statsd"
)

// statsdComponent is statsd on --statsd-addr (UDP and TCP) and its admin
// console on --statsd-admin-addr, in the one gnet engine. Each event loop
// aggregates its own traffic; pipeline.StatsdFlush swaps the loops' state
// every --statsd-flush-interval and writes the flushed series through the
// carbon chain into the write buffer.
type statsdComponent struct {
	s       *server
	cfg     statsd.Config
	handler *statsd.Handler
	flusher *statsd.Flusher
	admin   *statsd.Admin
	port    int
	rcvbuf  int

	flush *pipeline.StatsdFlush // nil until start
}

// loadStatsdConfig reads the [statsd] table over etsy's defaults and builds
// the flusher, which validates it. serve and check-config share it.
func loadStatsdConfig(c Config) (statsd.Config, *statsd.Flusher, error) {
	cfg := statsd.DefaultConfig()
	if c.classicStatsd != nil {
		cfg = *c.classicStatsd // config.js under the [statsd] table
	}
	if c.meta.IsDefined("statsd") {
		if err := c.meta.PrimitiveDecode(c.Statsd, &cfg); err != nil {
			return cfg, nil, fmt.Errorf("reading [statsd] config: %w", err)
		}
	}
	cfg.FlushInterval = c.StatsdFlushInterval.Duration
	f, err := statsd.NewFlusher(cfg, time.Now())
	return cfg, f, err
}

func newStatsdComponent(s *server) (*statsdComponent, error) {
	if s.cfg.StatsdAddr == "" && s.cfg.StatsdAdminAddr == "" {
		return nil, nil
	}
	cfg, _, err := loadStatsdConfig(s.cfg)
	if err != nil {
		return nil, err
	}
	// The timer sample budget is a share of --memory-budget unless [statsd]
	// sets timerSampleBudget; the loops split it.
	if cfg.TimerSampleBudget == 0 {
		cfg.TimerSampleBudget = s.plan.StatsdTimerSamples
	}
	cfg.EventLoops = s.plan.EventLoops
	f, err := statsd.NewFlusher(cfg, time.Now())
	if err != nil {
		return nil, err
	}
	c := &statsdComponent{s: s, cfg: cfg, handler: statsd.NewHandler(cfg), flusher: f}
	// The console's live view asks every loop; AdminHandler uses it only off
	// the event loops (see its doc), else it shows the last flush's state.
	c.admin = statsd.NewAdmin(f, func(fn func(*statsd.Loop)) { c.handler.LoopRunner(c.s.ingest)(fn) })
	if s.cfg.StatsdAddr != "" {
		_, p, err := net.SplitHostPort(s.cfg.StatsdAddr)
		if err == nil {
			c.port, _ = strconv.Atoi(p)
		}
	}
	return c, nil
}

func (c *statsdComponent) listeners() []ingest.Listener {
	var ls []ingest.Listener
	if a := c.s.cfg.StatsdAddr; a != "" {
		ls = append(ls,
			ingest.Listener{Name: "statsd", Network: "udp", Addr: a, Handler: c.handler},
			ingest.Listener{Name: "statsd", Network: "tcp", Addr: a, Handler: c.handler})
	}
	if a := c.s.cfg.StatsdAdminAddr; a != "" {
		ls = append(ls, ingest.Listener{Name: "statsd-admin", Network: "tcp", Addr: a, Handler: &statsd.AdminHandler{Admin: c.admin}})
	}
	return ls
}

func (c *statsdComponent) start(context.Context) error {
	if n, err := statsd.ProbeRecvBuffer(c.s.plan.SocketRecvBuffer); err == nil {
		c.rcvbuf = n
		c.s.log.Info("statsd UDP receive buffer", "asked", c.s.plan.SocketRecvBuffer, "granted", n)
	}
	c.flush = pipeline.NewStatsdFlush(c.handler, c.flusher, c.cfg.FlushInterval, c.s.ingest, c.s.newLoopSink(), c.s.log)
	c.flush.Start()
	return nil
}

// stop runs after the engine stopped: flush what the loops still hold.
func (c *statsdComponent) stop(context.Context) error {
	if c.flush != nil {
		c.flush.Stop()
	}
	return nil
}

func (c *statsdComponent) metrics(p *promWriter, drops map[string]uint64) {
	st := c.flusher.Totals()
	p.counter("plumbago_statsd_packets_total", "statsd packets (datagrams, or TCP chunks) handled, as of the last flush.", uint64(st.Packets))
	p.counter("plumbago_statsd_metrics_total", "statsd lines handled, as of the last flush.", uint64(st.Metrics))
	p.counter("plumbago_statsd_bad_lines_total", "statsd lines rejected, as of the last flush.", uint64(st.BadLines))
	p.counter("plumbago_statsd_flushes_total", "statsd flushes.", st.Flushes)
	drops["statsd_bad_line"] = uint64(st.BadLines)
	drops["statsd_key_limit"] = uint64(st.Dropped)
	p.counter("plumbago_statsd_timer_samples_dropped_total", "statsd timer samples not kept in a timer's reservoir (timerSampleCap, timerSampleBudget): their count, sum, mean, upper and lower stay exact, percentiles and median are estimated.", uint64(st.TimerSamplesDropped))
	p.gauge("plumbago_statsd_timer_samples_retained", "statsd timer samples the last flush merged (bounded by timerSampleBudget).", float64(st.TimerSamplesRetained))
	if c.port > 0 {
		if d, ok := statsd.UDPDrops(c.port); ok {
			p.counter("plumbago_statsd_udp_drops_total", "statsd datagrams dropped by the kernel (socket receive buffer full).", d)
			drops["statsd_udp_kernel_drop"] = d
		}
	}
	if c.rcvbuf > 0 {
		p.gauge("plumbago_statsd_udp_rcvbuf_bytes", "SO_RCVBUF the kernel grants a statsd UDP socket.", float64(c.rcvbuf))
	}
}
