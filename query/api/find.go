package api

import (
	"sort"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/storage"
	"github.com/valyala/fasthttp"
)

// maxQueryLen bounds find/expand patterns.
const maxQueryLen = 4096

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
	format := "treejson"
	if p.Has("format") {
		format = p.Get("format")
	}
	leavesOnly, msg := intParam(p, "leavesOnly")
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	wildcards, msg := intParam(p, "wildcards")
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	automatic, msg := intParam(p, "automatic_variants")
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	if !p.Has("query") {
		badRequest(ctx, "Invalid parameters (Missing required parameter 'query')")
		return
	}
	q := p.Get("query")
	if q == "" {
		badRequest(ctx, "Invalid parameters (Required parameter 'query' is empty)")
		return
	}
	if len(q) > maxQueryLen {
		badRequest(ctx, "Invalid parameters (query longer than 4096 bytes)")
		return
	}
	base := ""
	if i := strings.LastIndexByte(q, '.'); i >= 0 {
		base = q[:i+1]
	}
	if format == "completer" {
		q = strings.ReplaceAll(q, "..", "*.")
		if !strings.HasSuffix(q, "*") {
			q += "*"
		}
		if automatic != 0 {
			parts := strings.Split(q, ".")
			for i, part := range parts {
				if strings.Contains(part, ",") && !strings.Contains(part, "{") {
					parts[i] = "{" + part + "}"
				}
			}
			q = strings.Join(parts, ".")
		}
	}
	switch format {
	case "treejson", "completer", "json":
	default:
		badRequest(ctx, "Invalid value for 'format' parameter")
		return
	}
	nodes, err := a.src.Find(q)
	if err != nil {
		a.fail(ctx, err)
		return
	}
	if leavesOnly != 0 {
		kept := nodes[:0]
		for _, n := range nodes {
			if n.Leaf {
				kept = append(kept, n)
			}
		}
		nodes = kept
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodeName(nodes[i].Path) < nodeName(nodes[j].Path) })
	var b []byte
	jsonp := p.Get("jsonp")
	if jsonp != "" {
		b = append(b, jsonp...)
		b = append(b, '(')
	}
	switch format {
	case "treejson":
		b = treeJSON(b, nodes, base, wildcards != 0)
	case "completer":
		b = completerJSON(b, nodes, wildcards != 0)
	case "json":
		b = nodesJSON(b, nodes)
	}
	if jsonp != "" {
		b = append(b, ')')
		ctx.SetContentType("text/javascript")
	} else {
		ctx.SetContentType("application/json")
	}
	ctx.Response.Header.Set("Pragma", "no-cache")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBody(b)
}

const (
	branchFields = `"allowChildren": 1, "expandable": 1, "leaf": 0}`
	leafFields   = `"allowChildren": 0, "expandable": 0, "leaf": 1}`
)

// treeJSON is graphite-web's tree_json: optional "*" node, then distinct
// names, branches before leaves. A node that is both is listed as a branch.
func treeJSON(b []byte, nodes []storage.Node, base string, wildcards bool) []byte {
	b = append(b, '[')
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
	}
	if len(nodes) > 1 && wildcards {
		sep()
		b = append(b, `{"text": "*", "id": `...)
		b = query.AppendJSONString(b, base+"*")
		b = append(b, ", "...)
		anyBranch := false
		for _, nd := range nodes {
			if nd.Branch {
				anyBranch = true
			}
		}
		if anyBranch {
			b = append(b, branchFields...)
		} else {
			b = append(b, leafFields...)
		}
	}
	found := map[string]bool{}
	var branches, leaves []string
	for _, nd := range nodes {
		name := nodeName(nd.Path)
		if found[name] {
			continue
		}
		found[name] = true
		if nd.Branch || !nd.Leaf {
			branches = append(branches, name)
		} else {
			leaves = append(leaves, name)
		}
	}
	for k, list := range [][]string{branches, leaves} {
		for _, name := range list {
			sep()
			b = append(b, `{"text": `...)
			b = query.AppendJSONString(b, unquotePlus(name))
			b = append(b, `, "id": `...)
			b = query.AppendJSONString(b, base+name)
			b = append(b, ", "...)
			if k == 0 {
				b = append(b, branchFields...)
			} else {
				b = append(b, leafFields...)
			}
		}
	}
	return append(b, ']')
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

func completerJSON(b []byte, nodes []storage.Node, wildcards bool) []byte {
	b = append(b, `{"metrics": [`...)
	for i, nd := range nodes {
		if i > 0 {
			b = append(b, ", "...)
		}
		path := nd.Path
		leaf := "1"
		if nd.Branch || !nd.Leaf {
			path += "."
			leaf = "0"
		}
		b = append(b, `{"path": `...)
		b = query.AppendJSONString(b, path)
		b = append(b, `, "name": `...)
		b = query.AppendJSONString(b, nodeName(nd.Path))
		b = append(b, `, "is_leaf": "`...)
		b = append(b, leaf...)
		b = append(b, `"}`...)
	}
	if len(nodes) > 1 && wildcards {
		b = append(b, `, {"name": "*"}`...)
	}
	return append(b, "]}"...)
}

// nodesJSON is graphite-web's json_nodes, sorted by path. Intervals are
// not tracked by the storage layer and are reported empty.
func nodesJSON(b []byte, nodes []storage.Node) []byte {
	sorted := append([]storage.Node(nil), nodes...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	b = append(b, '[')
	for i, nd := range sorted {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"path": `...)
		b = query.AppendJSONString(b, nd.Path)
		if nd.Leaf && !nd.Branch {
			b = append(b, `, "is_leaf": true, "intervals": []}`...)
		} else {
			b = append(b, `, "is_leaf": false}`...)
		}
	}
	return append(b, ']')
}
