package main

import (
	"context"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/ingest"
)

// A component is a part of the server with listeners, background work or
// HTTP endpoints (carbon's protocols beyond plaintext, statsd, the query
// API, the admin endpoints). Each lives in its own file in this package;
// startServer (serve.go) builds them, in a visible order, with
// buildComponents.
//
// Lifecycle, in order: newComponent (config is loaded; storage, cache and
// index exist) → listeners (added to the one gnet engine) → start (the
// engine runs) → ... → stop (the engine has stopped reading; the component
// flushes what it holds into s.cache) → the cache drains → storage closes.
type component interface {
	// listeners returns the ingest listeners this component serves.
	listeners() []ingest.Listener
	// start runs after the ingest engine started.
	start(ctx context.Context) error
	// stop runs after the engine stopped, before the write buffer drains.
	stop(ctx context.Context) error
	// metrics adds the component's counters to /metrics; drops collects
	// points it rejected, by reason.
	metrics(p *promWriter, drops map[string]uint64)
}

// buildComponents builds the server's components in start order (their HTTP
// handlers answer in this order too): the admin endpoints, carbon's
// protocols beyond plaintext with the aggregator and self-metrics, the
// query API, statsd (when --statsd-addr or --statsd-admin-addr is set).
func (s *server) buildComponents() error {
	s.components = append(s.components, newAdminComponent(s), newCarbonComponent(s))
	q, err := newQueryComponent(s)
	if err != nil {
		return err
	}
	s.components = append(s.components, q)
	st, err := newStatsdComponent(s)
	if err != nil {
		return err
	}
	if st != nil {
		s.components = append(s.components, st)
	}
	return nil
}

// newLoopSink builds the sink of one event loop: carbon's per-point chain
// (ingest/pipeline) in front of a write-buffer producer.
func (s *server) newLoopSink() ingest.SinkFlusher {
	return s.chain.Wrap(s.cache.NewProducer())
}

// httpHandler answers a request or reports false to pass it on. Components
// add theirs with s.handleHTTPWith; /healthz and /metrics come first.
type httpHandler func(ctx *fasthttp.RequestCtx) bool

func (s *server) handleHTTPWith(h httpHandler) { s.httpHandlers = append(s.httpHandlers, h) }

// checkpointCopier writes a component's own files (outside the backend)
// into a checkpoint's directory, so a node serving the checkpoint has them.
type checkpointCopier func(dest string) error

// copyOnCheckpoint adds f to what /admin/checkpoint writes after the backend.
func (s *server) copyOnCheckpoint(f checkpointCopier) {
	s.checkpointCopiers = append(s.checkpointCopiers, f)
}
