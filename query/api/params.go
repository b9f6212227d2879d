package api

import (
	"bytes"
	"sort"

	"github.com/valyala/fasthttp"
)

// params are the merged URL query and form parameters in Django's
// QueryDict.update order: query first, then form; Get returns the last
// value, List every value. Everything is copied out of the request.
type params struct {
	kv [][2]string
}

func readParams(ctx *fasthttp.RequestCtx) *params {
	p := &params{}
	if n := ctx.QueryArgs().Len(); n > 0 {
		p.kv = make([][2]string, 0, n)
	}
	for k, v := range ctx.QueryArgs().All() {
		p.kv = append(p.kv, [2]string{paramName(k), string(v)})
	}
	if ctx.IsPost() {
		ct := ctx.Request.Header.ContentType()
		if bytes.HasPrefix(ct, []byte("multipart/form-data")) {
			// graphite-web's RemoteFinder with REMOTE_STORE_USE_POST
			// (urllib3 encodes POST fields as multipart).
			p.addMultipart(ctx)
		} else if len(ct) == 0 || bytes.HasPrefix(ct, []byte("application/x-www-form-urlencoded")) {
			var args fasthttp.Args
			args.ParseBytes(ctx.PostBody())
			for k, v := range args.All() {
				p.kv = append(p.kv, [2]string{string(k), string(v)})
			}
		} else {
			for k, v := range ctx.PostArgs().All() {
				p.kv = append(p.kv, [2]string{string(k), string(v)})
			}
		}
	}
	return p
}

// commonParams are the parameter names a render or find request sends
// most: paramName returns them without copying.
var commonParams = [...]string{"target", "from", "until", "format", "maxDataPoints", "query", "now", "tz", "noNullPoints", "jsonp"}

// paramName is string(k), without an allocation for commonParams.
func paramName(k []byte) string {
	for _, s := range commonParams {
		if string(k) == s {
			return s
		}
	}
	return string(k)
}

func (p *params) Has(k string) bool {
	for _, kv := range p.kv {
		if kv[0] == k {
			return true
		}
	}
	return false
}

func (p *params) Get(k string) string {
	v := ""
	for _, kv := range p.kv {
		if kv[0] == k {
			v = kv[1]
		}
	}
	return v
}

func (p *params) List(k string) []string {
	var out []string
	for _, kv := range p.kv {
		if kv[0] == k {
			out = append(out, kv[1])
		}
	}
	return out
}

// addMultipart appends the value fields of a multipart/form-data body
// (keys sorted, each key's values in order; file parts are ignored).
func (p *params) addMultipart(ctx *fasthttp.RequestCtx) {
	form, err := ctx.MultipartForm()
	if err != nil {
		return
	}
	keys := make([]string, 0, len(form.Value))
	for k := range form.Value {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range form.Value[k] {
			p.kv = append(p.kv, [2]string{k, v})
		}
	}
}
