package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/query/api"
	"github.com/plumbago/plumbago/query/events"
)

// The Graphite HTTP API (render, find, tags, events and Grafana's endpoints)
// over the write buffer, which reads the backend and overlays buffered
// points. seriesByTag and /tags use the carbon component's tag index:
// carbon.go's init registers that component before this file's does (init
// functions run in file-name order), so s.tagIndex() is set when this one is
// built. Events (Grafana annotations) persist under <data-dir>/events.
func init() { registerComponent(newQueryComponent) }

type queryComponent struct {
	api    *api.API
	events *events.Store
}

func newQueryComponent(s *server) (component, error) {
	st, err := events.Open(events.Options{Dir: filepath.Join(s.cfg.DataDir, "events")})
	if err != nil {
		return nil, fmt.Errorf("opening events store: %w", err)
	}
	// /version must report a graphite-web version (api's default, 1.1.x):
	// Grafana turns on tags and /functions from it, not from Plumbago's own.
	opts := api.Options{Logger: s.log, Events: st}
	if s.cfg.TimeZone != "" && s.cfg.TimeZone != "UTC" {
		loc, err := time.LoadLocation(s.cfg.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("--time-zone: %w", err)
		}
		opts.TimeZone = loc
	}
	if s.cfg.RenderCache < 0 {
		opts.CacheBytes = -1
	} else {
		opts.CacheBytes = int64(s.cfg.RenderCache)
	}
	if idx := s.tagIndex(); idx != nil {
		opts.Tags = idx
	}
	a := api.New(s.cache, opts)
	s.handleHTTPWith(a.Handle)
	return &queryComponent{api: a, events: st}, nil
}

func (*queryComponent) listeners() []ingest.Listener { return nil }
func (*queryComponent) start(context.Context) error  { return nil }
func (q *queryComponent) stop(context.Context) error { return q.events.Close() }

func (q *queryComponent) metrics(p *promWriter, _ map[string]uint64) {
	cs := q.api.CacheStats()
	p.counter("plumbago_render_cache_hits_total", "Render responses served from the render cache.", cs.Hits)
	p.counter("plumbago_render_cache_misses_total", "Cacheable render requests that were rendered (expired and coalesced included).", cs.Misses)
	p.counter("plumbago_render_cache_evictions_total", "Render cache entries evicted to stay within --render-cache.", cs.Evictions)
	p.counter("plumbago_render_cache_bypassed_total", "Render requests with noCache or cacheTimeout=0.", cs.Bypassed)
	p.gauge("plumbago_render_cache_bytes", "Bytes held by the render cache.", float64(cs.Bytes))
	p.gauge("plumbago_events", "Events (annotations) stored.", float64(q.events.Len()))
	p.counter("plumbago_events_dropped_total", "Events dropped to stay within the store's bounds.", q.events.Dropped())
}
