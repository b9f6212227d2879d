package api

import (
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/ingest/tagged"
	"github.com/plumbago/plumbago/query"
	"github.com/valyala/fasthttp"
)

// TagDB is the tag database behind the read-only /tags endpoints;
// ingest/tagged.TagIndex implements it. When Options.Tags does not
// implement it, the endpoints answer empty results (Grafana then shows no
// tags instead of error notifications).
type TagDB interface {
	query.TagFinder
	ListTags(filter string, limit int) ([]string, error)
	ListValues(tag, filter string, limit int) ([]tagged.ValueCount, error)
	AutoCompleteTags(exprs []string, prefix string, limit int) ([]string, error)
	AutoCompleteValues(exprs []string, tag, prefix string, limit int) ([]string, error)
}

func (a *API) tagDB() TagDB {
	db, _ := a.opts.Tags.(TagDB)
	return db
}

// exprs returns the expr (or expr[]) parameters.
func exprs(p *params) []string {
	if e := p.List("expr"); len(e) > 0 {
		return e
	}
	return p.List("expr[]")
}

// limitParam parses limit like graphite-web's tagdb (int(limit)); empty
// means the default.
func limitParam(p *params, def int) (int, bool) {
	s := p.Get("limit")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

// jsonOK writes a graphite-web jsonResponse (pretty = indent + sorted keys).
func jsonOK(ctx *fasthttp.RequestCtx, p *params, v any) {
	pretty := p.Get("pretty") != ""
	ctx.SetContentType("application/json")
	ctx.SetBody(appendJSONOpts(nil, v, pretty, pretty, 0))
}

// tags serves /tags, /tags/<tag>, /tags/findSeries and
// /tags/autoComplete/{tags,values}. It reports false for the write
// endpoints (tagSeries, tagMultiSeries, delSeries), which it does not serve.
func (a *API) tags(ctx *fasthttp.RequestCtx) bool {
	path := strings.TrimSuffix(string(ctx.Path()), "/")
	p := readParams(ctx)
	db := a.tagDB()
	getOrPost := ctx.IsGet() || ctx.IsPost()
	switch path {
	case "/tags/tagSeries", "/tags/tagMultiSeries", "/tags/delSeries":
		return false
	case "/tags/autoComplete/tags":
		if !getOrPost {
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return true
		}
		limit, ok := limitParam(p, tagged.DefaultAutocompleteLimit)
		if !ok {
			jsonError(ctx, fasthttp.StatusBadRequest, "invalid limit "+strconv.Quote(p.Get("limit")))
			return true
		}
		out := []string{}
		if db != nil {
			res, err := db.AutoCompleteTags(exprs(p), p.Get("tagPrefix"), limit)
			if err != nil {
				jsonError(ctx, fasthttp.StatusBadRequest, err.Error())
				return true
			}
			out = append(out, res...)
		}
		jsonOK(ctx, p, out)
	case "/tags/autoComplete/values":
		if !getOrPost {
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return true
		}
		tag := p.Get("tag")
		if tag == "" {
			jsonError(ctx, fasthttp.StatusBadRequest, "no tag specified")
			return true
		}
		limit, ok := limitParam(p, tagged.DefaultAutocompleteLimit)
		if !ok {
			jsonError(ctx, fasthttp.StatusBadRequest, "invalid limit "+strconv.Quote(p.Get("limit")))
			return true
		}
		out := []string{}
		if db != nil {
			res, err := db.AutoCompleteValues(exprs(p), tag, p.Get("valuePrefix"), limit)
			if err != nil {
				jsonError(ctx, fasthttp.StatusBadRequest, err.Error())
				return true
			}
			out = append(out, res...)
		}
		jsonOK(ctx, p, out)
	case "/tags/findSeries":
		if !getOrPost {
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return true
		}
		e := exprs(p)
		if len(e) == 0 {
			jsonError(ctx, fasthttp.StatusBadRequest, "no tag expressions specified")
			return true
		}
		out := []string{}
		if db != nil {
			res, err := db.FindSeries(e)
			if err != nil {
				jsonError(ctx, fasthttp.StatusBadRequest, err.Error())
				return true
			}
			out = append(out, res...)
		}
		jsonOK(ctx, p, out)
	case "/tags":
		if !ctx.IsGet() {
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return true
		}
		limit, ok := limitParam(p, 0)
		if !ok {
			jsonError(ctx, fasthttp.StatusBadRequest, "invalid limit "+strconv.Quote(p.Get("limit")))
			return true
		}
		out := []any{}
		if db != nil {
			res, err := db.ListTags(p.Get("filter"), limit)
			if err != nil {
				jsonError(ctx, fasthttp.StatusBadRequest, err.Error())
				return true
			}
			for _, t := range res {
				out = append(out, obj{{"tag", t}})
			}
		}
		jsonOK(ctx, p, out)
	default:
		tag, ok := strings.CutPrefix(path, "/tags/")
		if !ok || tag == "" || strings.Contains(tag, "/") {
			return false
		}
		if !ctx.IsGet() {
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return true
		}
		limit, ok := limitParam(p, 0)
		if !ok {
			jsonError(ctx, fasthttp.StatusBadRequest, "invalid limit "+strconv.Quote(p.Get("limit")))
			return true
		}
		var vals []tagged.ValueCount
		if db != nil {
			var err error
			if vals, err = db.ListValues(tag, p.Get("filter"), limit); err != nil {
				jsonError(ctx, fasthttp.StatusBadRequest, err.Error())
				return true
			}
		}
		if len(vals) == 0 && p.Get("filter") == "" {
			// graphite-web answers null for an unknown tag.
			jsonOK(ctx, p, nil)
			return true
		}
		list := make([]any, len(vals))
		for i, v := range vals {
			list[i] = obj{{"value", v.Value}, {"count", v.Count}}
		}
		jsonOK(ctx, p, obj{{"tag", tag}, {"values", list}})
	}
	return true
}

// events serves /events/get_data: Plumbago keeps no events, so the answer
// is always an empty list (graphite-api does the same).
func (a *API) events(ctx *fasthttp.RequestCtx) {
	jsonResponseFor(ctx, readParams(ctx), []any{})
}
