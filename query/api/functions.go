package api

import (
	"sort"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query"
	"github.com/valyala/fasthttp"
)

// pyRepr formats a default value as Python's repr in a signature.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return "'" + x + "'"
	case int:
		return strconv.Itoa(x)
	case float64:
		return query.FloatRepr(x)
	}
	return "None"
}

// signature is graphite-web's "name(argspec)" without requestContext.
func signature(f *query.Function) string {
	if f.Meta.Signature != "" {
		return f.Name + "(" + f.Meta.Signature + ")"
	}
	var parts []string
	for _, p := range f.Meta.Params {
		switch {
		case p.Multiple:
			parts = append(parts, "*"+p.Name)
		case p.Required:
			parts = append(parts, p.Name)
		default:
			parts = append(parts, p.Name+"="+pyRepr(p.Default))
		}
	}
	return f.Name + "(" + strings.Join(parts, ", ") + ")"
}

func paramJSON(p query.Param) obj {
	o := obj{{"name", p.Name}, {"type", string(p.Type)}}
	if p.Required {
		o = append(o, kv{"required", true})
	}
	if p.Default != nil {
		o = append(o, kv{"default", p.Default})
	}
	if p.Multiple {
		o = append(o, kv{"multiple", true})
	}
	opts := p.Options
	if p.Type == query.TypeAggOrSeriesFunc {
		// graphite-web adds every aggregating series function.
		seen := map[string]bool{}
		opts = nil
		for _, o := range p.Options {
			seen[o] = true
			opts = append(opts, o)
		}
		for _, f := range query.Functions() {
			if f.Meta.Aggregator && !seen[f.Name] {
				opts = append(opts, f.Name)
			}
		}
		sort.Strings(opts)
	}
	if len(opts) > 0 || len(p.ExtraOptions) > 0 {
		// graphite-web sorts options by their str().
		type opt struct {
			key string
			v   any
		}
		var all []opt
		for _, s := range opts {
			all = append(all, opt{s, s})
		}
		for _, x := range p.ExtraOptions {
			all = append(all, opt{pyRepr(x), x})
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].key < all[j].key })
		list := make([]any, len(all))
		for i, x := range all {
			list[i] = x.v
		}
		o = append(o, kv{"options", list})
	}
	if len(p.Suggestions) > 0 {
		o = append(o, kv{"suggestions", p.Suggestions})
	}
	return o
}

// functionInfo is graphite-web's functionInfo() shape.
func functionInfo(f *query.Function) obj {
	params := make([]any, len(f.Meta.Params))
	for i, p := range f.Meta.Params {
		params[i] = paramJSON(p)
	}
	group := f.Meta.Group
	if group == "" {
		group = "Ungrouped"
	}
	return obj{
		{"name", f.Name},
		{"function", signature(f)},
		{"description", f.Meta.Description},
		{"module", f.Meta.Module},
		{"group", group},
		{"params", params},
	}
}

func jsonError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(appendJSON(nil, obj{{"error", msg}}, false, 0))
}

// functions serves /functions and /functions/<name>.
func (a *API) functions(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() {
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	p := readParams(ctx)
	pretty := p.Get("pretty") != ""
	path := string(ctx.Path())
	if name, ok := strings.CutPrefix(path, "/functions/"); ok && name != "" {
		name = strings.TrimSuffix(name, "/")
		f, found := query.Lookup(name)
		if !found || p.Get("type") == "pie" {
			jsonError(ctx, fasthttp.StatusNotFound, "Function not found: "+name)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(appendJSONOpts(nil, functionInfo(f), pretty, pretty, 0))
		return
	}
	grouped := strings.EqualFold(p.Get("grouped"), "1") || strings.EqualFold(p.Get("grouped"), "true")
	group, hasGroup := p.Get("group"), p.Has("group")
	var result obj
	if p.Get("type") != "pie" {
		for _, f := range query.Functions() {
			info := functionInfo(f)
			g := info[4].v.(string)
			if hasGroup && g != group {
				continue
			}
			if !grouped {
				result = append(result, kv{f.Name, info})
				continue
			}
			i := 0
			for i < len(result) && result[i].k != g {
				i++
			}
			if i == len(result) {
				result = append(result, kv{g, obj{}})
			}
			result[i].v = append(result[i].v.(obj), kv{f.Name, info})
		}
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(appendJSONOpts(nil, result, pretty, pretty, 0))
}

// version serves /version like graphite-web's template: the version and
// a newline.
func (a *API) version(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(a.opts.Version + "\n")
}
