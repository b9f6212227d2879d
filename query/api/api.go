package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/budget"
	"github.com/plumbago/plumbago/query/events"
	"github.com/valyala/fasthttp"
)

// Options configure the API.
type Options struct {
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Limits bound each request (see query.Limits for defaults).
	Limits query.Limits
	// Logger receives request errors (default slog.Default()).
	Logger *slog.Logger
	// Tags resolves seriesByTag expressions (e.g. storage/tagged.TagIndex);
	// nil = seriesByTag returns no series.
	Tags query.TagFinder
	// CacheBytes bounds the /render response cache (default
	// DefaultCacheBytes, 64 MiB; negative disables the cache).
	CacheBytes int64
	// CacheTimeout is the cache lifetime in seconds of a /render response
	// whose request has no cacheTimeout (graphite-web's
	// DEFAULT_CACHE_DURATION; default 60; negative = not cached unless
	// the request asks).
	CacheTimeout int64
	// Events stores the events of /events/ and events() (e.g.
	// events.Open with a directory); nil = an in-memory store.
	Events *events.Store
	// TimeZone is the zone of a request without tz= (graphite-web's
	// TIME_ZONE, graphite-api's time_zone); nil = UTC.
	TimeZone *time.Location
	// Archives gives the archives (finest first) a fetch of a name reads,
	// so renders are estimated and refused before fetching (see
	// query.Evaluator.SetArchives); nil = counted as fetched.
	Archives func(name string) []query.Archive
	// Version is what /version reports (default 1.1.10, the graphite-web
	// version whose API this implements).
	Version string
}

// API is the Graphite HTTP API.
type API struct {
	src  query.Source
	ev   *query.Evaluator
	opts Options
	log  *slog.Logger

	events              *events.Store
	cache               *renderCache // nil = disabled
	defaultCacheTimeout int64
}

// New returns the API over src.
func New(src query.Source, opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Version == "" {
		opts.Version = "1.1.10"
	}
	ev := query.NewEvaluator(src, opts.Limits)
	if opts.Tags != nil {
		ev.SetTagFinder(opts.Tags)
	}
	if opts.Archives != nil {
		ev.SetArchives(opts.Archives)
	}
	a := &API{src: src, ev: ev, opts: opts, log: opts.Logger, events: opts.Events}
	if a.events == nil {
		a.events, _ = events.Open(events.Options{}) // in memory: cannot fail
	}
	ev.SetEventFinder(a.events)
	a.initCache()
	return a
}

// BudgetStats returns the query memory budget's counters.
func (a *API) BudgetStats() budget.Stats { return a.ev.BudgetStats() }

// Limits returns the effective request limits.
func (a *API) Limits() query.Limits { return a.ev.Limits() }

// Handle answers the request if its path belongs to the Graphite API and
// reports whether it did.
func (a *API) Handle(ctx *fasthttp.RequestCtx) (handled bool) {
	if a.serveCarbonapi(ctx) {
		return true
	}
	var h func(*fasthttp.RequestCtx)
	switch string(ctx.Path()) {
	case "/render", "/render/":
		h = a.renderCached
	case "/metrics/find", "/metrics/find/":
		h = a.find
	case "/metrics/expand", "/metrics/expand/":
		h = a.expand
	case "/metrics/index.json":
		h = a.index
	case "/functions", "/functions/":
		h = a.functions
	case "/version", "/version/":
		h = a.version
	case "/events/get_data", "/events/get_dat", "/events/get_data/":
		h = a.eventsGetData
	case "/events", "/events/":
		h = a.eventsRoot
	default:
		path := string(ctx.Path())
		switch {
		case strings.HasPrefix(path, "/functions/"):
			h = a.functions
		case isEventDetail(path):
			h = a.eventDetail
		case path == "/tags" || strings.HasPrefix(path, "/tags/"):
			return a.handleTags(ctx)
		default:
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("graphite api panic", "path", string(ctx.Path()), "panic", r, "stack", string(debug.Stack()))
			ctx.ResetBody()
			ctx.Error(fmt.Sprintf("internal error: %v", r), fasthttp.StatusInternalServerError)
		}
	}()
	h(ctx)
	return true
}

func (a *API) handleTags(ctx *fasthttp.RequestCtx) (handled bool) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("graphite api panic", "path", string(ctx.Path()), "panic", r, "stack", string(debug.Stack()))
			ctx.ResetBody()
			ctx.Error(fmt.Sprintf("internal error: %v", r), fasthttp.StatusInternalServerError)
			handled = true
		}
	}()
	return a.tags(ctx)
}

// fail writes err with graphite-web's status choice: 400 for invalid input
// and exceeded limits, 503 for timeouts, 500 otherwise.
func (a *API) fail(ctx *fasthttp.RequestCtx, err error) {
	var ie *query.InputError
	switch {
	case errors.As(err, &ie):
		ctx.Error("Invalid parameters ("+ie.Msg+")", fasthttp.StatusBadRequest)
	case errors.Is(err, query.ErrLimit):
		ctx.Error(err.Error(), fasthttp.StatusBadRequest)
	case errors.Is(err, query.ErrBusy):
		ctx.Error(err.Error(), fasthttp.StatusServiceUnavailable)
		ctx.Response.Header.Set("Retry-After", "1") // after Error, which resets the headers
	case errors.Is(err, context.DeadlineExceeded):
		ctx.Error("query timed out: "+err.Error(), fasthttp.StatusServiceUnavailable)
	default:
		a.log.Warn("graphite api error", "path", string(ctx.Path()), "err", err)
		ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
	}
}

func badRequest(ctx *fasthttp.RequestCtx, msg string) {
	ctx.Error(msg, fasthttp.StatusBadRequest)
}
