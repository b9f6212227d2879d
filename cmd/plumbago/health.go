package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/ingest/accept"
)

// Health and readiness.
//
//	GET /healthz  200 "ok" while every listener, the writer and storage work;
//	              503 naming each failing component otherwise (a supervisor
//	              restarts or pages on it).
//	GET /readyz   200 "ready" while the server takes traffic; 503 while it is
//	              starting, shutting down, or ingest is not working (a load
//	              balancer stops sending to it).
//
// Both answer without authentication.

// healthReporter is what a part of the server may implement to say it is
// not working (the storage backend, the write buffer).
type healthReporter interface {
	Health() error
}

// writerErrorWindow is how long the writer stays unhealthy after points
// were dropped because their series failed every write (data lost: a
// supervisor polling now and then must see it). A failing write-ahead log
// and points waiting for storage are reported while they last, by the
// write buffer's own Health: they end the moment the volume takes writes
// again, so /healthz turns 200 then and not a window later.
const writerErrorWindow = 30 * time.Second

// writerHealth watches the write buffer's dropped-points counter.
type writerHealth struct {
	mu       sync.Mutex
	errs     uint64
	lastErr  time.Time
	lastSeen uint64
}

func (s *server) writerHealth() error {
	st := s.cache.Stats()
	w := &s.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	if st.WriteErrors > w.errs {
		w.lastSeen = st.WriteErrors - w.errs
		w.errs, w.lastErr = st.WriteErrors, time.Now()
	}
	if !w.lastErr.IsZero() && time.Since(w.lastErr) < writerErrorWindow {
		return fmt.Errorf("%d points dropped within %v after their series failed every write (%d in total; see the log)",
			w.lastSeen, writerErrorWindow, st.WriteErrors)
	}
	return nil
}

// healthProblems lists what does not work, one "component: why" a line.
func (s *server) healthProblems() []string {
	var out []string
	add := func(component string, err error) {
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				out = append(out, component+": "+line)
			}
		}
	}
	add("ingest", s.ingest.Health())
	if s.httpAccept != nil {
		if err := s.httpAccept.Failing(); err != nil {
			add("http", fmt.Errorf("listener %s cannot accept: %w", s.httpAccept.Addr(), err))
		}
	}
	add("writer", s.writerHealth())
	if h, ok := any(s.cache).(healthReporter); ok {
		add("writer", h.Health())
	}
	if h, ok := s.store.(healthReporter); ok {
		add("storage", h.Health())
	}
	return out
}

func (s *server) serveHealthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	if p := s.healthProblems(); len(p) > 0 {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString("unhealthy\n" + strings.Join(p, "\n") + "\n")
		return
	}
	ctx.SetBodyString("ok\n")
}

func (s *server) serveReadyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	var why string
	switch {
	case s.stopping.Load():
		why = "shutting down"
	case !s.ready.Load():
		why = "starting"
	case s.namesLoading():
		why = "starting: storage is loading its series names"
	default:
		if err := s.ingest.Health(); err != nil {
			why = "ingest: " + strings.ReplaceAll(err.Error(), "\n", "\ningest: ")
		}
	}
	if why != "" {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString("not ready\n" + why + "\n")
		return
	}
	ctx.SetBodyString("ready\n")
}

// listenHTTP opens the API's listening socket behind an accept loop that
// survives descriptor exhaustion, with its connection limit and a spare
// descriptor so /healthz can still be asked while the process is out of
// them.
func (s *server) listenHTTP() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listening on --http-addr %q: %w", s.cfg.HTTPAddr, err)
	}
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		ln.Close()
		return nil, errors.New("--http-addr: not a TCP listener")
	}
	max := s.plan.MaxHTTPConns
	if s.cfg.MaxHTTPConns < 0 {
		max = 0
	}
	s.httpAccept = accept.New(tl, accept.Config{Name: "http", Limit: accept.NewLimit(max), Reserve: true, Logger: s.log})
	return s.httpAccept, nil
}

// ingestLimits returns the ingest connection limit and idle timeout.
func (s *server) ingestLimits() (int, time.Duration) {
	max := s.plan.MaxIngestConns
	if s.cfg.MaxIngestConns < 0 {
		max = 0
	}
	return max, s.cfg.IngestIdleTimeout.Duration
}

func (s *server) listenerMetrics(p *promWriter) {
	errHelp := "Failed accepts by listener and reason (emfile: process descriptor limit, enfile: system file table, nomem); the listener backs off and retries."
	rejHelp := "Connections closed at once because the connection limit was reached."
	idleHelp := "Connections closed after sending nothing for the idle timeout."
	for _, l := range s.ingest.ListenerStats() {
		for _, r := range accept.Reasons {
			p.counter("plumbago_accept_errors_total", errHelp, l.Errors[r], "listener", l.Name, "reason", r)
		}
		p.counter("plumbago_rejected_connections_total", rejHelp, l.Rejected, "listener", l.Name, "reason", "limit")
		p.counter("plumbago_idle_closed_connections_total", idleHelp, l.IdleClosed, "listener", l.Name)
	}
	if s.httpAccept != nil {
		st := s.httpAccept.Stats()
		for _, r := range accept.Reasons {
			p.counter("plumbago_accept_errors_total", errHelp, st.Errors[r], "listener", "http", "reason", r)
		}
		p.counter("plumbago_rejected_connections_total", rejHelp, st.Rejected, "listener", "http", "reason", "limit")
		p.gauge("plumbago_http_connections", "Open HTTP API connections.", float64(s.httpAccept.Limit().Open()))
		p.gauge("plumbago_connection_limit", "Connection limit (0: none).", float64(s.httpAccept.Limit().Max()), "listener", "http")
	}
	p.gauge("plumbago_connection_limit", "Connection limit (0: none).", float64(s.ingest.MaxConns()), "listener", "ingest")
	healthy := 1.0
	if len(s.healthProblems()) > 0 {
		healthy = 0
	}
	p.gauge("plumbago_healthy", "1 when /healthz answers ok, else 0.", healthy)
}
