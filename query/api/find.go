package api

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/storage"
	"github.com/valyala/fasthttp"
)

// queryTooLong is the answer to a find or expand pattern over
// find-max-query-len.
func queryTooLong(lim int) string {
	return "Invalid parameters (query longer than " + strconv.Itoa(lim) + " bytes, the limit of find-max-query-len)"
}

func nodeName(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func intParam(p *params, name string) (int, string) {
	if !p.Has(name) {
		return 0, ""
	}
	n, err := strconv.Atoi(strings.TrimSpace(p.Get(name)))
	if err != nil {
		return 0, "Invalid parameters (Invalid int value " + strconv.Quote(p.Get(name)) + " for param " + name + ")"
	}
	return n, ""
}

func (a *API) find(ctx *fasthttp.RequestCtx) {
	p := readParams(ctx)
	r, msg := a.findRequestOf(p)
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	lim := a.ev.Limits().MaxFindResults
	nodes, err := query.FindAtMost(a.src, r.query, lim)
	if errors.Is(err, storage.ErrTooManyResults) {
		badRequest(ctx, tooManyNodes(r.query, lim))
		return
	}
	if err != nil {
		badRequest(ctx, "Invalid parameters (finding "+strconv.Quote(r.query)+": "+err.Error()+")")
		return
	}
	if r.leavesOnly {
		nodes = leavesOf(nodes)
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodeName(nodes[i].Path) < nodeName(nodes[j].Path) })
	a.writeFind(ctx, p, r, nodes)
}

// findRequest is a /metrics/find request's parameters, checked.
type findRequest struct {
	format     string
	query      string // the glob to expand (completer's rewriting applied)
	base       string // the query up to its last dot, for treejson ids
	leavesOnly bool
	wildcards  bool
	position   int // nodelist's node position, -1 for none
}

// findRequestOf reads and checks the parameters in graphite-web's order;
// a non-empty message is the 400 to answer.
func (a *API) findRequestOf(p *params) (findRequest, string) {
	r := findRequest{format: "treejson", position: -1}
	if p.Has("format") {
		r.format = p.Get("format")
	}
	leavesOnly, msg := intParam(p, "leavesOnly")
	if msg != "" {
		return r, msg
	}
	wildcards, msg := intParam(p, "wildcards")
	if msg != "" {
		return r, msg
	}
	if p.Has("position") {
		if r.position, msg = intParam(p, "position"); msg != "" {
			return r, msg
		}
	}
	automatic, msg := intParam(p, "automatic_variants")
	if msg != "" {
		return r, msg
	}
	r.leavesOnly, r.wildcards = leavesOnly != 0, wildcards != 0
	if !p.Has("query") {
		return r, "Invalid parameters (Missing required parameter 'query')"
	}
	q := p.Get("query")
	if q == "" {
		return r, "Invalid parameters (Required parameter 'query' is empty)"
	}
	if lim := a.ev.Limits().MaxFindQueryLen; len(q) > lim {
		return r, queryTooLong(lim)
	}
	if i := strings.LastIndexByte(q, '.'); i >= 0 {
		r.base = q[:i+1]
	}
	if r.format == "completer" {
		q = completerQuery(q, automatic != 0)
	}
	switch r.format {
	case "treejson", "completer", "json", "pickle", "msgpack", "nodelist":
	default:
		return r, "Invalid value for 'format' parameter"
	}
	r.query = q
	return r, ""
}

// completerQuery rewrites a completer's query as graphite-web does: ".."
// matches any node, a trailing * is implied, and with automatic variants a
// node listing alternatives with commas becomes a {…} group.
func completerQuery(q string, automatic bool) string {
	q = strings.ReplaceAll(q, "..", "*.")
	if !strings.HasSuffix(q, "*") {
		q += "*"
	}
	if automatic {
		parts := strings.Split(q, ".")
		for i, part := range parts {
			if strings.Contains(part, ",") && !strings.Contains(part, "{") {
				parts[i] = "{" + part + "}"
			}
		}
		q = strings.Join(parts, ".")
	}
	return q
}

// leavesOf keeps the leaves of nodes, in place.
func leavesOf(nodes []storage.Node) []storage.Node {
	kept := nodes[:0]
	for _, n := range nodes {
		if n.Leaf {
			kept = append(kept, n)
		}
	}
	return kept
}

// writeFind answers with nodes in the request's format.
func (a *API) writeFind(ctx *fasthttp.RequestCtx, p *params, r findRequest, nodes []storage.Node) {
	switch r.format {
	case "pickle":
		ctx.SetContentType("application/pickle")
		ctx.SetBody(appendPickle(nil, nodesInfo(nodes, a.opts.Now().Unix())))
	case "msgpack":
		ctx.SetContentType("application/x-msgpack")
		ctx.SetBody(appendMsgpack(nil, nodesInfo(nodes, a.opts.Now().Unix())))
	default:
		var out any
		switch r.format {
		case "treejson":
			out = treeJSON(nodes, r.base, r.wildcards)
		case "completer":
			out = completerJSON(nodes, r.wildcards)
		case "json":
			out = nodesJSON(nodes)
		case "nodelist":
			var msg string
			if out, msg = nodeList(nodes, r.position); msg != "" {
				badRequest(ctx, msg)
				return
			}
		}
		jsonResponseFor(ctx, p, out)
	}
	ctx.Response.Header.Set("Pragma", "no-cache")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
}

func nodeFields(o obj, branch bool) obj {
	if branch {
		return append(o, kv{"allowChildren", 1}, kv{"expandable", 1}, kv{"leaf", 0})
	}
	return append(o, kv{"allowChildren", 0}, kv{"expandable", 0}, kv{"leaf", 1})
}

// treeJSON is graphite-web's tree_json: optional "*" node, then distinct
// names, branches before leaves. A node that is both is listed as a branch.
func treeJSON(nodes []storage.Node, base string, wildcards bool) []any {
	out := []any{}
	if len(nodes) > 1 && wildcards {
		anyBranch := false
		for _, nd := range nodes {
			if nd.Branch || !nd.Leaf {
				anyBranch = true
			}
		}
		out = append(out, nodeFields(obj{{"text", "*"}, {"id", base + "*"}}, anyBranch))
	}
	found := map[string]bool{}
	var leaves []any
	for _, nd := range nodes {
		name := nodeName(nd.Path)
		if found[name] {
			continue
		}
		found[name] = true
		o := obj{{"text", unquotePlus(name)}, {"id", base + name}}
		if nd.Branch || !nd.Leaf {
			out = append(out, nodeFields(o, true))
		} else {
			leaves = append(leaves, nodeFields(o, false))
		}
	}
	return append(out, leaves...)
}

// unquotePlus is Python's urllib unquote_plus (graphite-web applies it to
// the node text).
func unquotePlus(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func completerJSON(nodes []storage.Node, wildcards bool) obj {
	metrics := []any{}
	for _, nd := range nodes {
		path := nd.Path
		leaf := "1"
		if nd.Branch || !nd.Leaf {
			path += "."
			leaf = "0"
		}
		metrics = append(metrics, obj{{"path", path}, {"name", nodeName(nd.Path)}, {"is_leaf", leaf}})
	}
	if len(nodes) > 1 && wildcards {
		metrics = append(metrics, obj{{"name", "*"}})
	}
	return obj{{"metrics", metrics}}
}

// nodesJSON is graphite-web's json_nodes, sorted by path. Intervals are
// not tracked by the storage layer and are reported empty.
func nodesJSON(nodes []storage.Node) []any {
	sorted := append([]storage.Node(nil), nodes...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	out := []any{}
	for _, nd := range sorted {
		if nd.Leaf && !nd.Branch {
			out = append(out, obj{{"path", nd.Path}, {"is_leaf", true}, {"intervals", []any{}}})
		} else {
			out = append(out, obj{{"path", nd.Path}, {"is_leaf", false}})
		}
	}
	return out
}

// nodesInfo is the pickle/msgpack find answer read by graphite-web's
// RemoteFinder: [{path, is_leaf, intervals}] with one (0, now) interval
// per leaf (the storage layer does not track per-metric time ranges).
func nodesInfo(nodes []storage.Node, now int64) []any {
	out := make([]any, 0, len(nodes))
	for _, nd := range nodes {
		if nd.Leaf {
			out = append(out, obj{{"path", nd.Path}, {"is_leaf", true}, {"intervals", []any{[]any{int64(0), now}}}})
		}
		if nd.Branch || !nd.Leaf {
			out = append(out, obj{{"path", nd.Path}, {"is_leaf", false}})
		}
	}
	return out
}

// nodeList is graphite-web's nodelist format: the sorted distinct values
// of the node at position (Python indexing) of every match.
func nodeList(nodes []storage.Node, position int) (obj, string) {
	seen := map[string]bool{}
	list := []string{}
	for _, nd := range nodes {
		parts := strings.Split(nd.Path, ".")
		i := position
		if i < 0 {
			i += len(parts)
		}
		if i < 0 || i >= len(parts) {
			return nil, "Invalid parameters (position " + strconv.Itoa(position) + " out of range for " + strconv.Quote(nd.Path) + ")"
		}
		if !seen[parts[i]] {
			seen[parts[i]] = true
			list = append(list, parts[i])
		}
	}
	sort.Strings(list)
	return obj{{"nodes", list}}, ""
}
