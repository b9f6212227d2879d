package main

import (
	"context"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/ingest"
)

// A component is an optional part of the server (statsd, pickle, carbonlink,
// the aggregator, ...). Each lives in its own file in this package and
// registers itself from init with registerComponent, so adding one never
// touches serve.go.
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

// componentFactory builds a component for a server, or returns nil when the
// configuration leaves it off.
type componentFactory func(s *server) (component, error)

var componentFactories []componentFactory

func registerComponent(f componentFactory) { componentFactories = append(componentFactories, f) }

// sinkWrapper lets a component transform the points of every event loop
// before they reach the write buffer (rewrite rules, tag normalisation,
// aggregation). Wrappers apply in registration order, the first registered
// outermost.
type sinkWrapper func(next ingest.SinkFlusher) ingest.SinkFlusher

func (s *server) wrapSink(w sinkWrapper) { s.sinkWrappers = append(s.sinkWrappers, w) }

// newLoopSink builds the sink of one event loop: the cache producer behind
// every registered wrapper.
func (s *server) newLoopSink() ingest.SinkFlusher {
	var sink ingest.SinkFlusher = s.cache.NewProducer()
	for i := len(s.sinkWrappers) - 1; i >= 0; i-- {
		sink = s.sinkWrappers[i](sink)
	}
	return sink
}

// httpHandler answers a request or reports false to pass it on. Components
// add theirs with s.handleHTTPWith; /healthz and /metrics come first.
type httpHandler func(ctx *fasthttp.RequestCtx) bool

func (s *server) handleHTTPWith(h httpHandler) { s.httpHandlers = append(s.httpHandlers, h) }
