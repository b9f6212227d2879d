package api

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/attime"
	"github.com/valyala/fasthttp"
)

// renderRequest is a parsed /render request.
type renderRequest struct {
	targets       []string
	req           query.Request
	format        string
	jsonp         string
	hasJSONP      bool
	maxDataPoints int
	noNullPoints  bool
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// location returns the tz parameter's zone (unknown zones are ignored, as
// graphite-web ignores pytz.UnknownTimeZoneError); default def, or UTC.
func location(p *params, def *time.Location) *time.Location {
	if p.Has("tz") {
		if loc, err := time.LoadLocation(p.Get("tz")); err == nil && p.Get("tz") != "" {
			return loc
		}
	}
	if def != nil {
		return def
	}
	return time.UTC
}

// timeRange parses now/from/until like graphite-web's parseOptions.
func (a *API) timeRange(p *params, loc *time.Location) (from, until, now time.Time, err error) {
	return timeRangeAt(p, loc, a.opts.Now())
}

// timeRangeAt is timeRange with the wall clock reading wall.
func timeRangeAt(p *params, loc *time.Location, wall time.Time) (from, until, now time.Time, err error) {
	now = wall.In(loc)
	if p.Has("now") {
		if now, err = attime.Parse(p.Get("now"), now, loc); err != nil {
			return
		}
	}
	until = now
	if p.Has("until") {
		if until, err = attime.Parse(p.Get("until"), now, loc); err != nil {
			return
		}
	}
	if p.Has("from") {
		from, err = attime.Parse(p.Get("from"), now, loc)
	} else {
		from, err = attime.Parse("-1d", now, loc)
	}
	if err != nil {
		return
	}
	if until.Before(from) {
		from, until = until, from
	}
	return
}

func (a *API) parseRender(p *params) (*renderRequest, string) {
	r := &renderRequest{}
	r.targets = p.List("target")
	if len(r.targets) == 0 {
		r.targets = p.List("target[]")
	}
	if p.Has("pickle") {
		r.format = "pickle"
	}
	if p.Has("rawData") {
		r.format = "raw"
	}
	if p.Has("format") {
		r.format = p.Get("format")
		if p.Has("jsonp") {
			r.jsonp, r.hasJSONP = p.Get("jsonp"), true
		}
	}
	if mdp := p.Get("maxDataPoints"); isDigits(mdp) {
		n, err := strconv.Atoi(mdp)
		if err != nil {
			return nil, "Invalid parameters (maxDataPoints out of range)"
		}
		r.maxDataPoints = n
	}
	r.noNullPoints = p.Has("noNullPoints")
	loc := location(p, a.opts.TimeZone)
	from, until, now, err := a.timeRange(p, loc)
	if err != nil {
		return nil, "Invalid parameters (" + err.Error() + ")"
	}
	if from.Unix() == until.Unix() {
		return nil, "Invalid parameters (Invalid empty time range)"
	}
	r.req = query.Request{From: from.Unix(), Until: until.Unix(), Now: now.Unix(), Loc: loc}
	// template[name]=value parameters (the last value of each name wins).
	for _, kv := range p.kv {
		if name, ok := strings.CutPrefix(kv[0], "template["); ok && strings.HasSuffix(name, "]") {
			name = name[:len(name)-1]
			found := false
			for i := range r.req.Template {
				if r.req.Template[i][0] == name {
					r.req.Template[i][1] = kv[1]
					found = true
				}
			}
			if !found {
				r.req.Template = append(r.req.Template, [2]string{name, kv[1]})
			}
		}
	}
	if p.Has("xFilesFactor") {
		x, err := strconv.ParseFloat(p.Get("xFilesFactor"), 64)
		if err != nil {
			return nil, "Invalid parameters (invalid xFilesFactor " + strconv.Quote(p.Get("xFilesFactor")) + ")"
		}
		r.req.XFilesFactor = x
	}
	return r, ""
}

// render answers /render. stream lets a large json answer be sent from
// its encoded parts (a body stream) instead of one body buffer; the
// response cache, which keeps the body, renders with stream false.
func (a *API) render(ctx *fasthttp.RequestCtx, stream bool) {
	p := readParams(ctx)
	r, msg := a.parseRender(p)
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	if isGraphFormat(r.format) {
		a.renderGraph(ctx, p, r)
		return
	}
	switch r.format {
	case "json", "csv", "raw", "pickle", "msgpack":
	case "dygraph", "rickshaw":
	default:
		badRequest(ctx, "Invalid parameters (format "+strconv.Quote(r.format)+" is not supported; use png, svg, pdf, json, csv, raw, pickle, msgpack, dygraph or rickshaw)")
		return
	}
	// The request's share of the query memory budget is held until its
	// response is encoded.
	// Every format below encodes its answer before release: the fetched
	// values' buffers go back to their pool then.
	req := r.req
	req.RecycleValues = true
	list, release, err := a.ev.EvalReserved(ctx, req, r.targets)
	defer release()
	if err != nil {
		a.fail(ctx, err)
		return
	}
	var body []byte
	switch r.format {
	case "csv":
		ctx.SetContentType("text/csv")
		body = query.AppendCSV(nil, list, r.req.Loc)
	case "raw":
		ctx.SetContentType("text/plain")
		body = query.AppendRaw(nil, list)
	case "pickle":
		ctx.SetContentType("application/pickle")
		body = appendPickle(nil, seriesInfo(list, r.req.XFilesFactor))
	case "msgpack":
		ctx.SetContentType("application/x-msgpack")
		body = appendMsgpack(nil, seriesInfo(list, r.req.XFilesFactor))
	case "dygraph", "rickshaw":
		if body, err = appendChartFormat(r, list, p.Get("pretty") != ""); err != nil {
			badRequest(ctx, "Invalid parameters ("+err.Error()+")")
			return
		}
		ctx.SetContentType(chartContentType(r))
	default:
		a.writeJSON(ctx, p, r, list, stream)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.SetBodyRaw(body) // body is not touched after this: no copy
}

// writeJSON answers list as json (format=json, the default), pretty or
// JSONP as asked; stream as for render.
func (a *API) writeJSON(ctx *fasthttp.RequestCtx, p *params, r *renderRequest, list []*query.Series, stream bool) {
	var body []byte
	query.ApplyMaxDataPoints(list, r.maxDataPoints)
	if p.Get("pretty") != "" {
		var b []byte
		if r.hasJSONP {
			ctx.SetContentType("text/javascript")
			b = append(append(b, r.jsonp...), '(')
		} else {
			ctx.SetContentType("application/json")
		}
		b = appendJSON(b, prettySeries(list, r.noNullPoints), true, 0)
		if r.hasJSONP {
			b = append(b, ')')
		}
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetBody(b)
		return
	}
	// Into the response's pooled body buffer (fasthttp reuses it for
	// later responses): no allocation once it has grown to the size
	// of the answers asked for. Only answers up to pooledBodyMax: a
	// keep-alive connection holds its response buffer while it is
	// open, so a pooled buffer grown by one large answer stayed pinned
	// (178 MB after twelve 10-day renders in TestMemoryReturnsAfterSpike);
	// a larger answer gets a buffer of its own, freed once it is sent.
	hint := jsonSizeHint(list) + len(r.jsonp) + 2
	pooled := hint <= pooledBodyMax
	if !pooled && stream {
		// A large answer is sent from the buffers its runs were
		// encoded into (query.JSONParts, closed by fasthttp once
		// written): no buffer of the whole answer is allocated,
		// zeroed and copied into first.
		var prefix, suffix []byte
		if r.hasJSONP {
			ctx.SetContentType("text/javascript")
			prefix, suffix = append([]byte(r.jsonp), '('), []byte(")")
		} else {
			ctx.SetContentType("application/json")
		}
		parts := query.EncodeJSONParts(prefix, list, r.noNullPoints, suffix)
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.Response.SetBodyStream(parts, parts.Len())
		return
	}
	if pooled {
		body = ctx.Response.SwapBody(nil)[:0]
	}
	if cap(body) < hint {
		body = make([]byte, 0, hint)
	}
	if r.hasJSONP {
		ctx.SetContentType("text/javascript")
		body = append(body, r.jsonp...)
		body = append(body, '(')
		body = query.AppendJSON(body, list, r.noNullPoints)
		body = append(body, ')')
	} else {
		ctx.SetContentType("application/json")
		body = query.AppendJSON(body, list, r.noNullPoints)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	if pooled && cap(body) <= 2*pooledBodyMax {
		ctx.Response.SwapBody(body) // back into the response, which owns it
	} else {
		ctx.Response.SetBodyRaw(body) // not touched after this: no copy
	}
}

// pooledBodyMax is the largest json answer written into the response's
// pooled body buffer (see render).
const pooledBodyMax = 1 << 20

// jsonSizeHint is about the bytes of list's json (36 a point: "[12345.678901234567,
// 1700000000], "), so the body is written into one allocation instead of a
// doubling one; at most 256 MiB ahead of the writing.
func jsonSizeHint(list []*query.Series) int {
	n := 2
	for _, s := range list {
		vpp := max(s.ValuesPerPoint, 1)
		n += 64 + 2*len(s.Name) + 36*((len(s.Values)+vpp-1)/vpp)
		for _, t := range s.Tags {
			n += 8 + 2*(len(t.Key)+len(t.Value))
		}
		if n > 256<<20 {
			return 256 << 20
		}
	}
	return n
}

// seriesInfo is graphite-web's TimeSeries.getInfo() for every series (the
// pickle and msgpack render formats, read by CLUSTER_SERVERS peers).
func seriesInfo(list []*query.Series, xff float64) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = obj{
			{"name", s.Name},
			{"start", s.Start},
			{"end", s.End},
			{"step", s.Step},
			{"values", floats(s.Consolidated())},
			{"pathExpression", s.PathExpression},
			{"valuesPerPoint", max(s.ValuesPerPoint, 1)},
			{"consolidationFunc", s.ConsolidationFunc},
			{"xFilesFactor", s.XFilesFactor},
		}
	}
	return out
}

// prettySeries is the json render output as a value tree, for pretty=1
// (json.dumps with indent=2).
func prettySeries(list []*query.Series, noNullPoints bool) []any {
	out := []any{}
	anyValues := false
	for _, s := range list {
		if len(s.Values) > 0 {
			anyValues = true
		}
	}
	if !anyValues {
		return out
	}
	for _, s := range list {
		points := []any{}
		query.Datapoints(s, func(v float64, ts int64) {
			if math.IsNaN(v) {
				if !noNullPoints {
					points = append(points, []any{nil, ts})
				}
				return
			}
			if s.IntValues && v == math.Trunc(v) && math.Abs(v) < 1e18 {
				points = append(points, []any{int64(v), ts})
				return
			}
			points = append(points, []any{v, ts})
		})
		if noNullPoints && len(points) == 0 {
			continue
		}
		tags := obj{}
		for _, t := range s.Tags {
			tags = append(tags, kv{t.Key, t.Value})
		}
		out = append(out, obj{{"target", s.Name}, {"tags", tags}, {"datapoints", points}})
	}
	return out
}
