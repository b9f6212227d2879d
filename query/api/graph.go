package api

import (
	"errors"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/graph"
	"github.com/valyala/fasthttp"
)

// isGraphFormat reports whether format asks for a drawn graph: png (also
// when no format is given, as graphite-web), svg or pdf.
func isGraphFormat(format string) bool {
	return format == "" || format == "png" || format == "svg" || format == "pdf"
}

// renderGraph answers a /render request for a picture (query/graph).
func (a *API) renderGraph(ctx *fasthttp.RequestCtx, p *params, r *renderRequest) {
	gp, err := graph.ParseParams(func(k string) (string, bool) { return p.Get(k), p.Has(k) }, r.format)
	if err != nil {
		badRequest(ctx, "Invalid parameters ("+err.Error()+")")
		return
	}
	var list []*query.Series
	if gp.GraphType == "pie" {
		// graphite-web's pie takes name:value targets as literal slices,
		// in target order with the evaluated ones
		for _, t := range r.targets {
			name, v, ok := strings.Cut(t, ":")
			if !ok {
				evald, release, err := a.ev.EvalReserved(ctx, r.req, []string{t})
				defer release()
				if err != nil {
					a.fail(ctx, err)
					return
				}
				list = append(list, evald...)
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				badRequest(ctx, "Invalid parameters (Invalid target "+strconv.Quote(t)+")")
				return
			}
			list = append(list, graph.PieSlice(name, f))
		}
	} else {
		// the request's share of the query memory budget is held until the
		// picture is encoded
		var release func()
		list, release, err = a.ev.EvalReserved(ctx, r.req, r.targets)
		defer release()
		if err != nil {
			a.fail(ctx, err)
			return
		}
	}
	// the picture is written into the response body's own buffer,
	// which fasthttp keeps between requests: no copy, and no fresh
	// memory once a picture of the size has been answered
	buf := ctx.Response.SwapBody(nil)[:0]
	body, err := graph.Render(buf, list, gp)
	if err != nil {
		ctx.Response.SwapBody(buf)
		var pe *graph.ParamError
		if errors.As(err, &pe) || graph.IsDataError(err) {
			badRequest(ctx, "Invalid parameters ("+err.Error()+")")
			return
		}
		a.fail(ctx, err)
		return
	}
	if gp.Format == "svg" && r.hasJSONP {
		ctx.SetContentType("text/javascript")
		b := append([]byte(r.jsonp), '(')
		b = strconv.AppendQuoteToASCII(b, string(body))
		ctx.Response.SwapBody(body[:0])
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetBody(append(b, ')'))
		return
	}
	ctx.SetContentType(graph.ContentType(gp.Format))
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.SwapBody(body)
}
