package api

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/carbonapipb"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/tagged"
	"github.com/valyala/fasthttp"
)

// Content types of the carbonapi backend protocols.
const (
	contentTypeV2 = "application/x-protobuf"
	contentTypeV3 = "application/x-carbonapi-v3-pb"
)

// carbonapiVersion returns 2 or 3 for the carbonapi protobuf formats and
// 0 for anything else.
func carbonapiVersion(format string) int {
	switch format {
	case "protobuf", "protobuf3", "pb", "pb3", "carbonapi_v2_pb":
		return 2
	case "carbonapi_v3_pb":
		return 3
	}
	return 0
}

// serveCarbonapi answers the carbonapi / carbonzipper backend protocol
// (go-graphite/protocol carbonapi_v2_pb and carbonapi_v3_pb): /metrics/find
// and /render with format=protobuf|carbonapi_v2_pb|carbonapi_v3_pb,
// /metrics/expand with a v3 body (answered like find), and
// /_internal/capabilities/. carbonapi sends v3 requests as GET with a
// protobuf body and Accept: application/x-carbonapi-v3-pb. It reports whether it handled the request;
// every other request is left to the graphite-web compatible handlers.
//
// These are storage-level answers like go-carbon's: render targets are
// globs, each matching leaf is fetched raw (no functions, no
// consolidation), so carbonapi can merge replicas and apply functions.
func (a *API) serveCarbonapi(ctx *fasthttp.RequestCtx) (handled bool) {
	path := string(ctx.Path())
	var h func(*fasthttp.RequestCtx, int)
	switch path {
	case "/_internal/capabilities", "/_internal/capabilities/":
		h = a.capabilities
	case "/render", "/render/":
		h = a.carbonapiRender
	case "/metrics/find", "/metrics/find/", "/metrics/expand", "/metrics/expand/":
		h = a.carbonapiFind
	default:
		return false
	}
	v := 3
	if path[1] != '_' {
		format := ctx.QueryArgs().Peek("format")
		v = carbonapiVersion(string(format))
		if v == 0 && len(format) == 0 && string(ctx.Request.Header.Peek("Accept")) == contentTypeV3 {
			// carbonapi's v3 expand request carries no format parameter,
			// only the Accept header.
			v = 3
		}
		if v == 0 {
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("carbonapi panic", "path", path, "panic", r, "stack", string(debug.Stack()))
			ctx.ResetBody()
			ctx.Error(fmt.Sprintf("internal error: %v", r), fasthttp.StatusInternalServerError)
		}
	}()
	h(ctx, v)
	return true
}

func setProto(ctx *fasthttp.RequestCtx, v int, body []byte) {
	if v == 3 {
		ctx.SetContentType(contentTypeV3)
	} else {
		ctx.SetContentType(contentTypeV2)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(body)
}

// notFound is carbonapi's "no data" answer (it treats 404 as empty).
func notFound(ctx *fasthttp.RequestCtx) {
	ctx.Error("not found", fasthttp.StatusNotFound)
}

func (a *API) capabilities(ctx *fasthttp.RequestCtx, _ int) {
	host, _ := os.Hostname()
	c := carbonapipb.CapabilityResponse{
		SupportedProtocols: []string{"carbonapi_v3_pb", "carbonapi_v2_pb", "graphite-web-pickle", "graphite-web-msgpack"},
		Name:               host,
	}
	setProto(ctx, 3, carbonapipb.AppendCapabilityResponse(nil, &c))
}

// globMatches expands one glob into carbonapi matches; a node that is both
// a leaf and a branch is listed twice, once as each.
// It keeps at most limit nodes (the walk stops past it).
func (a *API) globMatches(q string, limit int) (carbonapipb.GlobResponse, error) {
	g := carbonapipb.GlobResponse{Name: q}
	if lim := a.ev.Limits().MaxFindQueryLen; len(q) > lim {
		return g, fmt.Errorf("query %.40q... longer than %d bytes (find-max-query-len)", q, lim)
	}
	nodes, err := query.FindAtMost(a.src, q, limit)
	if err != nil {
		return g, fmt.Errorf("finding %q: %w", q, err)
	}
	for _, n := range nodes {
		if n.Leaf {
			g.Matches = append(g.Matches, carbonapipb.GlobMatch{Path: n.Path, IsLeaf: true})
		}
		if n.Branch || !n.Leaf {
			g.Matches = append(g.Matches, carbonapipb.GlobMatch{Path: n.Path})
		}
	}
	return g, nil
}

func (a *API) carbonapiFind(ctx *fasthttp.RequestCtx, v int) {
	var queries []string
	if body := ctx.PostBody(); v == 3 && len(body) > 0 {
		r, err := carbonapipb.DecodeMultiGlobRequest(body)
		if err != nil {
			badRequest(ctx, "invalid MultiGlobRequest: "+err.Error())
			return
		}
		queries = r.Metrics
	} else {
		queries = readParams(ctx).List("query")
	}
	if len(queries) == 0 {
		badRequest(ctx, "Invalid parameters (Missing required parameter 'query')")
		return
	}
	limit := a.maxSeries()
	var out []carbonapipb.GlobResponse
	total := 0
	for _, q := range queries {
		g, err := a.globMatches(q, limit-total)
		if errors.Is(err, storage.ErrTooManyResults) {
			badRequest(ctx, "find matches more than "+strconv.Itoa(limit)+" nodes")
			return
		}
		if err != nil {
			badRequest(ctx, "Invalid parameters ("+err.Error()+")")
			return
		}
		if total += len(g.Matches); total > limit {
			badRequest(ctx, "find matches more than "+strconv.Itoa(limit)+" nodes")
			return
		}
		out = append(out, g)
	}
	if total == 0 {
		notFound(ctx)
		return
	}
	if v == 2 {
		// v2 has one query per request; extra queries are merged into it.
		g := out[0]
		for _, o := range out[1:] {
			g.Matches = append(g.Matches, o.Matches...)
		}
		setProto(ctx, 2, carbonapipb.AppendGlobResponse(nil, &g))
		return
	}
	setProto(ctx, 3, carbonapipb.AppendMultiGlobResponse(nil, out))
}

func (a *API) maxSeries() int {
	if a.opts.Limits.MaxSeries > 0 {
		return a.opts.Limits.MaxSeries
	}
	return 10000
}

// errTooManySeries reports a fetch over the series limit.
var errTooManySeries = errors.New("too many series")

// globLeaves returns the leaves glob names, at most *budget of them (the
// series limit of the request). A tagged name (name;tag=value) is its
// carbon-normalised form, looked up as is, as the render path does.
func (a *API) globLeaves(glob string, budget *int) ([]string, error) {
	if query.IsTaggedPattern(glob) {
		norm, err := tagged.Normalize(nil, []byte(glob))
		if err != nil {
			return nil, nil
		}
		if *budget--; *budget < 0 {
			return nil, fmt.Errorf("fetching %q: %w", glob, errTooManySeries)
		}
		return []string{string(norm)}, nil
	}
	g, err := a.globMatches(glob, a.ev.Limits().MaxFindResults)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range g.Matches {
		if !m.IsLeaf {
			continue
		}
		if *budget--; *budget < 0 {
			return nil, fmt.Errorf("fetching %q: %w", glob, errTooManySeries)
		}
		out = append(out, m.Path)
	}
	return out, nil
}

// fetchLeaves fetches names over (from, until]; series found by a tagged
// glob are named by the glob as written.
func (a *API) fetchLeaves(glob string, names []string, from, until, now int64) ([]*storage.Series, error) {
	var out []*storage.Series
	for _, name := range names {
		s, err := a.src.Fetch(name, from, until, now)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && s == nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fetching %q: %w", name, err)
		}
		if s.Name == "" || query.IsTaggedPattern(glob) {
			s.Name = name
			if query.IsTaggedPattern(glob) {
				s.Name = glob
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// carbonapiRequests reads a carbonapi render request: a protobuf
// MultiFetchRequest body (v3) or graphite's target/from/until parameters.
// It returns the fetches, the request's now, and the 400 message if any.
func (a *API) carbonapiRequests(ctx *fasthttp.RequestCtx, v int) ([]carbonapipb.FetchRequest, int64, string) {
	now := a.opts.Now().Unix()
	if body := ctx.PostBody(); v == 3 && len(body) > 0 {
		reqs, err := carbonapipb.DecodeMultiFetchRequest(body)
		if err != nil {
			return nil, now, "invalid MultiFetchRequest: " + err.Error()
		}
		return reqs, now, ""
	}
	p := readParams(ctx)
	from, until, n, err := a.timeRange(p, time.UTC)
	if err != nil {
		return nil, now, "Invalid parameters (" + err.Error() + ")"
	}
	targets := p.List("target")
	if len(targets) == 0 {
		targets = p.List("target[]")
	}
	var reqs []carbonapipb.FetchRequest
	for _, t := range targets {
		reqs = append(reqs, carbonapipb.FetchRequest{Name: t, StartTime: from.Unix(), StopTime: until.Unix()})
	}
	return reqs, n.Unix(), ""
}

// fetchResponseV2 is s in carbonapi's v2 form: absent points flagged
// beside zeros.
func fetchResponseV2(s *storage.Series, stop int64) carbonapipb.FetchResponseV2 {
	f := carbonapipb.FetchResponseV2{Name: s.Name, StartTime: int32(s.Start), StopTime: int32(stop), StepTime: int32(s.Step),
		Values: make([]float64, len(s.Values)), IsAbsent: make([]bool, len(s.Values))}
	for i, x := range s.Values {
		if x != x {
			f.IsAbsent[i] = true
		} else {
			f.Values[i] = x
		}
	}
	return f
}

func (a *API) carbonapiRender(ctx *fasthttp.RequestCtx, v int) {
	reqs, now, msg := a.carbonapiRequests(ctx, v)
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	if len(reqs) == 0 {
		badRequest(ctx, "Invalid parameters (no target)")
		return
	}
	// Every glob is resolved and its points estimated from the series'
	// archives before anything is fetched; the estimate is refused past
	// the points limit and reserved in the query memory budget.
	budget := a.maxSeries()
	leaves := make([][]string, len(reqs))
	var estimate int64
	for i, r := range reqs {
		if r.StopTime <= r.StartTime {
			badRequest(ctx, "Invalid parameters (Invalid empty time range)")
			return
		}
		names, err := a.globLeaves(r.Name, &budget)
		if err != nil {
			badRequest(ctx, "Invalid parameters ("+err.Error()+")")
			return
		}
		leaves[i] = names
		estimate += a.ev.EstimatePoints(names, r.StartTime, r.StopTime, now)
	}
	release, err := a.ev.Reserve(ctx, estimate)
	defer release()
	if err != nil {
		a.fail(ctx, err)
		return
	}
	maxPoints := a.ev.Limits().MaxPoints
	points := 0
	var v2 []carbonapipb.FetchResponseV2
	var v3 []carbonapipb.FetchResponseV3
	for i, r := range reqs {
		list, err := a.fetchLeaves(r.Name, leaves[i], r.StartTime, r.StopTime, now)
		if err != nil {
			badRequest(ctx, "Invalid parameters ("+err.Error()+")")
			return
		}
		pathExpr := r.PathExpression
		if pathExpr == "" {
			pathExpr = r.Name
		}
		for _, s := range list {
			if points += len(s.Values); points > maxPoints {
				badRequest(ctx, "Invalid parameters (render would return more than "+strconv.Itoa(maxPoints)+" points (render-max-points))")
				return
			}
			stop := s.Start + int64(len(s.Values))*s.Step
			if v == 2 {
				v2 = append(v2, fetchResponseV2(s, stop))
				continue
			}
			v3 = append(v3, carbonapipb.FetchResponseV3{Name: s.Name, PathExpression: pathExpr, ConsolidationFunc: "average",
				StartTime: s.Start, StopTime: stop, StepTime: s.Step, Values: s.Values,
				RequestStartTime: r.StartTime, RequestStopTime: r.StopTime})
		}
	}
	if len(v2)+len(v3) == 0 {
		notFound(ctx)
		return
	}
	if v == 2 {
		setProto(ctx, 2, carbonapipb.AppendMultiFetchV2(nil, v2))
		return
	}
	setProto(ctx, 3, carbonapipb.AppendMultiFetchV3(nil, v3))
}
