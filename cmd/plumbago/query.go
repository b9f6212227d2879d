package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/api"
	"github.com/plumbago/plumbago/query/events"
	"github.com/plumbago/plumbago/storage/schema"
)

// queryComponent is the Graphite HTTP API (render, find, tags, events and
// Grafana's endpoints) over the write buffer, which reads the backend and
// overlays buffered points. seriesByTag and /tags use the name index's tag
// index, which every tagged name the write buffer or the backend sees feeds.
// Events (Grafana annotations) persist under <data-dir>/events.
type queryComponent struct {
	api    *api.API
	events *events.Store
}

func newQueryComponent(s *server) (*queryComponent, error) {
	st, err := events.Open(events.Options{Dir: filepath.Join(s.cfg.DataDir, "events"), ReadOnly: s.cfg.readOnly()})
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
	opts.Tags = tagDB(s) // registrations persist (tagreg.go)
	opts.Limits = query.Limits{
		MaxSeries: s.cfg.RenderMaxSeries, MaxPoints: s.cfg.RenderMaxPoints, Timeout: s.cfg.RenderTimeout.Duration,
		MaxTargets: s.cfg.RenderMaxTargets, MaxCallsPerReq: s.cfg.RenderMaxCalls,
		MemoryBudget: s.plan.QueryMemoryBytes, QueueWait: s.cfg.QueryQueueWait.Duration,
		MaxFindResults: s.cfg.FindMaxResults, MaxIndexResults: s.cfg.IndexMaxResults,
		MaxTagResults: s.cfg.TagsMaxResults, MaxEvents: s.cfg.EventsMaxResults,
		MaxTargetLen: s.cfg.RenderMaxTargetLen, MaxCallDepth: s.cfg.RenderMaxCallDepth,
		MaxGeneratedPoints: s.cfg.RenderMaxGeneratedPoints, MaxFindQueryLen: s.cfg.FindMaxQueryLen,
		MaxTagParams: s.cfg.TagsMaxParams,
	}
	opts.Archives = archivesFunc(s.rules)
	a := api.New(s.cache, opts)
	s.handleHTTPWith(a.Handle)
	s.copyOnCheckpoint(func(dest string) error { return st.SaveTo(filepath.Join(dest, "events")) })
	s.onSeriesChanged(a.PurgeCache)
	return &queryComponent{api: a, events: st}, nil
}

func (*queryComponent) listeners() []ingest.Listener { return nil }
func (*queryComponent) start(context.Context) error  { return nil }
func (q *queryComponent) stop(context.Context) error { return q.events.Close() }

func (q *queryComponent) metrics(p *promWriter, _ map[string]uint64) {
	bs := q.api.BudgetStats()
	p.gauge("plumbago_query_memory_budget_bytes", "The query memory budget (--query-memory-budget).", float64(bs.Capacity))
	p.gauge("plumbago_query_memory_reserved_bytes", "Bytes of the query memory budget held by renders now.", float64(bs.Used))
	p.gauge("plumbago_query_queue_waiting", "Renders waiting for the query memory budget now.", float64(bs.Waiting))
	p.counter("plumbago_query_budget_waited_total", "Renders that had to wait for the query memory budget.", bs.Waited)
	p.counter("plumbago_query_budget_refused_total", "Reservations of the query memory budget refused (503, or 400 for one larger than the budget).", bs.Refused)
	cs := q.api.CacheStats()
	p.counter("plumbago_render_cache_hits_total", "Render responses served from the render cache.", cs.Hits)
	p.counter("plumbago_render_cache_misses_total", "Cacheable render requests that were rendered (expired and coalesced included).", cs.Misses)
	p.counter("plumbago_render_cache_evictions_total", "Render cache entries evicted to stay within --render-cache.", cs.Evictions)
	p.counter("plumbago_render_cache_bypassed_total", "Render requests with noCache or cacheTimeout=0.", cs.Bypassed)
	p.gauge("plumbago_render_cache_bytes", "Bytes held by the render cache.", float64(cs.Bytes))
	p.gauge("plumbago_events", "Events (annotations) stored.", float64(q.events.Len()))
	p.counter("plumbago_events_dropped_total", "Events dropped to stay within the store's bounds.", q.events.Dropped())
}

// archivesFunc gives the render estimate each name's archives from the
// storage schemas (the archives a new series gets; a whisper file created
// under other schemas is corrected as it is fetched).
func archivesFunc(rules *schema.Rules) func(name string) []query.Archive {
	return func(name string) []query.Archive {
		s, _, err := rules.Match(name)
		if err != nil {
			return nil
		}
		out := make([]query.Archive, len(s.Retentions))
		for i, r := range s.Retentions {
			out[i] = query.Archive{Step: r.SecondsPerPoint, Retention: r.MaxRetention()}
		}
		return out
	}
}
