package api

import (
	"errors"
	"sort"
	"strconv"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/storage"
	"github.com/valyala/fasthttp"
)

// tooManyNodes is the answer to a find or expand over find-max-results.
func tooManyNodes(q string, lim int) string {
	return "Invalid parameters (" + strconv.Quote(q) + " matches more than " + strconv.Itoa(lim) +
		" nodes, the limit of find-max-results; narrow the query)"
}

// jsonResponseFor is graphite-web's json_response_for: optional jsonp and
// pretty, no-cache headers added by the callers that need them.
func jsonResponseFor(ctx *fasthttp.RequestCtx, p *params, v any) {
	pretty := p.Get("pretty") != ""
	var b []byte
	jsonp := p.Get("jsonp")
	if jsonp != "" {
		b = append(b, jsonp...)
		b = append(b, '(')
	}
	b = appendJSON(b, v, pretty, 0)
	if jsonp != "" {
		b = append(b, ')')
		ctx.SetContentType("text/javascript")
	} else {
		ctx.SetContentType("application/json")
	}
	ctx.SetBody(b)
}

// expand serves /metrics/expand: the sorted unique paths matching every
// query, or per query with groupByExpr=1.
func (a *API) expand(ctx *fasthttp.RequestCtx) {
	p := readParams(ctx)
	groupBy, msg := intParam(p, "groupByExpr")
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	leavesOnly, msg := intParam(p, "leavesOnly")
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	var order []string
	total := 0
	byQuery := map[string]map[string]bool{}
	for _, q := range p.List("query") {
		if lim := a.ev.Limits().MaxFindQueryLen; len(q) > lim {
			badRequest(ctx, queryTooLong(lim))
			return
		}
		if _, dup := byQuery[q]; !dup {
			order = append(order, q)
		}
		set := map[string]bool{}
		lim := a.ev.Limits().MaxFindResults
		nodes, err := query.FindAtMost(a.src, q, lim-total)
		if errors.Is(err, storage.ErrTooManyResults) {
			badRequest(ctx, tooManyNodes(q, lim))
			return
		}
		if err != nil {
			badRequest(ctx, "Invalid parameters (finding "+strconv.Quote(q)+": "+err.Error()+")")
			return
		}
		total += len(nodes)
		for _, n := range nodes {
			if n.Leaf || leavesOnly == 0 {
				set[n.Path] = true
			}
		}
		byQuery[q] = set
	}
	sorted := func(set map[string]bool) []string {
		out := make([]string, 0, len(set))
		for k := range set {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	var results any
	if groupBy != 0 {
		o := obj{}
		for _, q := range order {
			o = append(o, kv{q, sorted(byQuery[q])})
		}
		results = o
	} else {
		all := map[string]bool{}
		for _, set := range byQuery {
			for k := range set {
				all[k] = true
			}
		}
		results = sorted(all)
	}
	ctx.Response.Header.Set("Pragma", "no-cache")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	jsonResponseFor(ctx, p, obj{{"results", results}})
}

// index serves /metrics/index.json: every metric name, sorted, found by
// walking the tree with Find.
func (a *API) index(ctx *fasthttp.RequestCtx) {
	p := readParams(ctx)
	var names []string
	queue := []string{"*"}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		nodes, err := a.src.Find(q)
		if err != nil {
			a.log.Warn("graphite api index.json", "err", err)
			ctx.SetStatusCode(fasthttp.StatusInternalServerError)
			jsonResponseFor(ctx, p, []any{})
			return
		}
		for _, n := range nodes {
			if n.Leaf {
				names = append(names, n.Path)
			}
			if n.Branch {
				queue = append(queue, escapeGlob(n.Path)+".*")
			}
		}
		if lim := a.ev.Limits().MaxIndexResults; len(names) > lim {
			badRequest(ctx, "Invalid parameters (more than "+strconv.Itoa(lim)+" metrics, the limit of index-max-results)")
			return
		}
	}
	sort.Strings(names)
	jsonResponseFor(ctx, p, names)
}

// escapeGlob protects glob characters in a literal path prefix.
func escapeGlob(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '{', '}', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}
