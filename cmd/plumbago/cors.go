package main

import (
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"
)

// corsPolicy answers cross-origin requests as graphite-api's CORS
// middleware does for its allowed_origins: a request whose Origin's
// host[:port] is listed (or any, with "*") gets Access-Control-Allow-Origin
// set to that Origin, with credentials allowed; an OPTIONS preflight from
// it is answered 204 at once, before authentication (browsers send no
// credentials with a preflight).
type corsPolicy struct {
	any   bool
	hosts map[string]bool
}

// newCORS reads a comma-separated list of host[:port] origins; nil when empty.
func newCORS(list string) *corsPolicy {
	c := &corsPolicy{hosts: map[string]bool{}}
	for _, h := range strings.Split(list, ",") {
		h = strings.TrimSpace(h)
		switch h {
		case "":
		case "*":
			c.any = true
		default:
			c.hosts[h] = true
		}
	}
	if !c.any && len(c.hosts) == 0 {
		return nil
	}
	return c
}

// origin returns the request's Origin when the policy allows it.
func (c *corsPolicy) origin(ctx *fasthttp.RequestCtx) string {
	if c == nil {
		return ""
	}
	o := string(ctx.Request.Header.Peek("Origin"))
	if o == "" {
		return ""
	}
	u, err := url.Parse(o)
	if err != nil || (!c.any && !c.hosts[u.Host]) {
		return ""
	}
	return o
}

// setHeaders adds the CORS headers for an allowed origin.
func setCORSHeaders(ctx *fasthttp.RequestCtx, origin string) {
	h := &ctx.Response.Header
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Headers", "origin,authorization, accept")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}
