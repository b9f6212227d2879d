package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/attime"
	"github.com/plumbago/plumbago/query/events"
	"github.com/valyala/fasthttp"
)

// Events returns the API's event store.
func (a *API) Events() *events.Store { return a.events }

// isEventDetail matches graphite-web's ^/events/(\d+)/?$.
func isEventDetail(path string) bool {
	rest, ok := strings.CutPrefix(path, "/events/")
	if !ok {
		return false
	}
	rest = strings.TrimSuffix(rest, "/")
	return isDigits(rest)
}

// eventsRoot serves /events/: POST stores an event, GET lists them.
func (a *API) eventsRoot(ctx *fasthttp.RequestCtx) {
	if ctx.IsPost() {
		a.postEvent(ctx)
		return
	}
	a.eventsHTML(ctx)
}

// postEvent is graphite-web's post_event: a JSON object {"what", "tags",
// "when", "data"}; tags a list (joined with spaces) or a string; when in
// epoch seconds (default now); data any JSON (non-strings are stored as
// Python's str() of the value).
func (a *API) postEvent(ctx *fasthttp.RequestCtx) {
	body := ctx.PostBody()
	e, status, msg := parseEvent(body, a.opts.Now())
	if status != 0 {
		ctx.SetContentType("text/html; charset=utf-8")
		ctx.SetStatusCode(status)
		ctx.SetBodyString(msg)
		return
	}
	if _, err := a.events.Add(e.When, e.What, e.Data, e.Tags); err != nil {
		a.log.Error("storing event", "err", err)
		ctx.Error("storing event: "+err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// datetime's range in microseconds: years 1 to 9999.
const (
	minEventSec    = -62135596800
	maxEventSec    = 253402300799
	minEventMicros = minEventSec * 1e6
	maxEventMicros = (maxEventSec+1)*1e6 - 1
)

// parseEvent validates a posted event. A non-zero status comes with the
// response body.
func parseEvent(body []byte, now time.Time) (events.Event, int, string) {
	var e events.Event
	if len(body) > events.MaxBodyBytes {
		return e, fasthttp.StatusRequestEntityTooLarge, fmt.Sprintf("event larger than %d bytes", events.MaxBodyBytes)
	}
	v, err := decodeOrdered(body)
	if err != nil {
		return e, fasthttp.StatusBadRequest, "invalid event JSON: " + err.Error()
	}
	o, ok := v.(obj)
	if !ok {
		return e, fasthttp.StatusBadRequest, "the event must be a JSON object"
	}
	get := func(k string) (any, bool) {
		var val any
		found := false
		for _, m := range o { // Python's json keeps the last duplicate
			if m.k == k {
				val, found = m.v, true
			}
		}
		return val, found
	}
	what, _ := get("what")
	switch w := what.(type) {
	case nil:
		return e, fasthttp.StatusBadRequest, `"what" is required`
	case string:
		e.What = w
	default:
		e.What = string(appendPyRepr(nil, w))
	}
	if tags, ok := get("tags"); ok && tags != nil {
		switch t := tags.(type) {
		case string:
			e.Tags = t
		case []any:
			parts := make([]string, len(t))
			for i, x := range t {
				s, ok := x.(string)
				if !ok {
					return e, fasthttp.StatusBadRequest, `{"error": "\"tags\" must be an array of strings"}`
				}
				parts[i] = s
			}
			e.Tags = strings.Join(parts, " ")
		default:
			return e, fasthttp.StatusBadRequest, `{"error": "\"tags\" must be an array or space-separated string"}`
		}
	}
	e.When = now.UnixMicro()
	if when, ok := get("when"); ok {
		us, ok := eventMicros(when)
		if !ok {
			return e, fasthttp.StatusBadRequest, `"when" must be epoch seconds between years 1 and 9999`
		}
		e.When = us
	}
	if data, ok := get("data"); ok {
		switch d := data.(type) {
		case nil:
			return e, fasthttp.StatusBadRequest, `"data" must not be null`
		case string:
			e.Data = d
		default:
			e.Data = string(appendPyRepr(nil, d))
		}
	}
	return e, 0, ""
}

// eventMicros converts "when" as datetime.utcfromtimestamp does
// (microseconds rounded half to even).
func eventMicros(v any) (int64, bool) {
	var f float64
	switch w := v.(type) {
	case bool:
		if w {
			return 1e6, true
		}
		return 0, true
	case json.Number:
		s := string(w)
		if !strings.ContainsAny(s, ".eE") {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < minEventSec || n > maxEventSec {
				return 0, false
			}
			return n * 1e6, true
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || f < minEventSec || f >= maxEventSec+1 {
		return 0, false
	}
	sec, frac := math.Modf(f)
	us := int64(sec)*1e6 + int64(math.RoundToEven(frac*1e6))
	return us, us >= minEventMicros && us <= maxEventMicros
}

// decodeOrdered decodes JSON keeping object member order (obj) and
// number literals (json.Number).
func decodeOrdered(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := decodeValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

const maxJSONDepth = 64

func decodeValue(d *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '[':
			l := []any{}
			for d.More() {
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return l, nil
		case '{':
			o := obj{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := k.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				o = append(o, kv{ks, v})
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return o, nil
		}
		return nil, fmt.Errorf("unexpected %q", x)
	default:
		return x, nil
	}
}

// appendPyRepr writes Python's repr() of a decoded JSON value.
func appendPyRepr(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "None"...)
	case bool:
		if x {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case string:
		return appendPyStrRepr(b, x)
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if strings.TrimLeft(s, "-0") == "" {
				return append(b, '0')
			}
			return append(b, s...)
		}
		f, _ := strconv.ParseFloat(s, 64) // ±Inf on overflow, as Python
		return query.AppendFloatRepr(b, f)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyRepr(b, e)
		}
		return append(b, ']')
	case obj:
		b = append(b, '{')
		// A Python dict keeps one entry per key, at its first position
		// with its last value.
		seen := map[string]bool{}
		first := true
		for i, m := range x {
			if seen[m.k] {
				continue
			}
			seen[m.k] = true
			val := m.v
			for _, later := range x[i+1:] {
				if later.k == m.k {
					val = later.v
				}
			}
			if !first {
				b = append(b, ", "...)
			}
			first = false
			b = appendPyStrRepr(b, m.k)
			b = append(b, ": "...)
			b = appendPyRepr(b, val)
		}
		return append(b, '}')
	}
	return b
}

// appendPyStrRepr writes Python's repr() of a str (printability by Go's
// unicode.IsPrint, which agrees with str.isprintable but for rare code
// points).
func appendPyStrRepr(b []byte, s string) []byte {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b = append(b, q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < ' ' || r == 0x7f:
			b = append(b, '\\', 'x', hexDigit(r>>4), hexDigit(r))
		case r < 0x7f:
			b = append(b, byte(r))
		case r == utf8.RuneError || !unicode.IsPrint(r):
			switch {
			case r <= 0xff:
				b = append(b, '\\', 'x', hexDigit(r>>4), hexDigit(r))
			case r <= 0xffff:
				b = append(b, '\\', 'u', hexDigit(r>>12), hexDigit(r>>8), hexDigit(r>>4), hexDigit(r))
			default:
				b = append(b, '\\', 'U', '0', '0', hexDigit(r>>20), hexDigit(r>>16), hexDigit(r>>12), hexDigit(r>>8), hexDigit(r>>4), hexDigit(r))
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, q)
}

func hexDigit(r rune) byte { return "0123456789abcdef"[r&15] }

// eventsGetData is graphite-web's events get_data view: from, until, tags
// and set from the URL query (from default the epoch, until default now),
// jsonp from query or form.
func (a *API) eventsGetData(ctx *fasthttp.RequestCtx) {
	found, ok := a.findEvents(ctx)
	if !ok {
		return
	}
	list := []any{}
	for _, e := range found {
		list = append(list, eventDict(&e))
	}
	p := readParams(ctx)
	var b []byte
	if p.Has("jsonp") {
		b = append(append(b, p.Get("jsonp")...), '(')
		b = appendJSON(b, list, false, 0)
		b = append(b, ')')
		ctx.SetContentType("text/javascript")
	} else {
		b = appendJSON(b, list, false, 0)
		ctx.SetContentType("application/json")
	}
	ctx.SetBody(b)
}

// eventDict is graphite-web's Event.as_dict() with epoch seconds.
func eventDict(e *events.Event) obj {
	tags := []any{}
	for _, t := range e.TagList() {
		tags = append(tags, t)
	}
	return obj{{"when", e.Seconds()}, {"what", e.What}, {"data", e.Data}, {"tags", tags}, {"id", e.ID}}
}

// findEvents answers the events the request selects (eventQuery), or 400
// when the query is invalid or selects more than the events limit.
func (a *API) findEvents(ctx *fasthttp.RequestCtx) ([]events.Event, bool) {
	q, msg := a.eventQuery(ctx)
	if msg != "" {
		badRequest(ctx, msg)
		return nil, false
	}
	found := a.events.Find(q)
	if lim := a.ev.Limits().MaxEvents; len(found) > lim {
		badRequest(ctx, "Invalid parameters (more than "+strconv.Itoa(lim)+" events, the limit of events-max-results; narrow from/until or tags)")
		return nil, false
	}
	return found, true
}

func (a *API) eventQuery(ctx *fasthttp.RequestCtx) (events.Query, string) {
	args := ctx.QueryArgs()
	now := a.opts.Now()
	q := events.Query{From: 0, Until: now.UnixMicro()}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"from", &q.From}, {"until", &q.Until}} {
		if args.Has(f.name) {
			v := lastArg(args, f.name)
			t, err := attime.Parse(v, now.UTC(), time.UTC)
			if err != nil {
				return q, "Invalid parameters (" + err.Error() + ")"
			}
			*f.dst = t.UnixMicro()
		}
	}
	if args.Has("tags") {
		q.HasTags = true
		q.Tags = strings.Split(lastArg(args, "tags"), " ")
	}
	q.Set = lastArg(args, "set")
	return q, ""
}

func lastArg(args *fasthttp.Args, k string) string {
	v := ""
	for _, b := range args.PeekMulti(k) {
		v = string(b)
	}
	return v
}

// eventDetail serves /events/<id>/: with Accept: application/json,
// Django's model_to_dict of the event (when as ISO 8601 UTC with
// milliseconds, tags as a list), else a small HTML page.
func (a *API) eventDetail(ctx *fasthttp.RequestCtx) {
	idStr := strings.TrimSuffix(strings.TrimPrefix(string(ctx.Path()), "/events/"), "/")
	id, err := strconv.ParseInt(idStr, 10, 64)
	e, ok := a.events.Get(id)
	if string(ctx.Request.Header.Peek("Accept")) == "application/json" {
		ctx.SetContentType("application/json")
		if err != nil || !ok {
			ctx.SetStatusCode(fasthttp.StatusNotFound)
			ctx.SetBodyString(`{"error": "Event matching query does not exist"}`)
			return
		}
		tags := []any{}
		for _, t := range e.TagList() {
			tags = append(tags, t)
		}
		ctx.SetBody(appendJSON(nil, obj{{"id", e.ID}, {"when", djangoISOTime(e.When)}, {"what", e.What}, {"data", e.Data}, {"tags", tags}}, false, 0))
		return
	}
	if err != nil || !ok {
		ctx.SetContentType("text/html")
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetBodyString(djangoNotFound)
		return
	}
	var b strings.Builder
	what := djangoEscape(e.What)
	b.WriteString(eventsHTMLHead(what))
	b.WriteString(`        <div id="title" style="text-align:center">
            <h1>` + what + `</h1>
        </div>
        <div class="graphite">
            <div id="main" >
              <table class="styledtable" width=100%>
                <tr><td>when</td><td>` + eventHTMLTime(e.When) + `</td></tr>
                <tr><td>tags</td><td>` + djangoEscape(e.Tags) + `</td></tr>
                <tr><td>data</td><td>` + djangoEscape(e.Data) + `</td></tr>
              </table>
            </div>
        </div>
    </body>
</html>
`)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBodyString(b.String())
}

// djangoNotFound is Django's 404 page without DEBUG.
const djangoNotFound = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"

// eventsHTMLHead is the start of graphite-web's events.html and
// event.html up to <body>.
func eventsHTMLHead(title string) string {
	return `<html>
  <head>
    <title>` + title + `</title>
    <link rel="stylesheet" type="text/css" href="/static/css/table.css" />
    <style type="text/css">
    body {
        font-family: sans-serif;
        font-size: 16px;
        margin: 50px;
        max-width: 1200px;
    }
    </style>


    </head>
    <body>
`
}

// djangoEscape is Django's autoescape (django.utils.html.escape).
var djangoEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace

// eventsHTML is graphite-web's events.html: when, what (linked to the
// event's page) and tags of the selected events.
func (a *API) eventsHTML(ctx *fasthttp.RequestCtx) {
	evs, ok := a.findEvents(ctx)
	if !ok {
		return
	}
	var b strings.Builder
	b.WriteString(eventsHTMLHead("Events"))
	b.WriteString(`        <div id="title" style="text-align:center">
            <h1>graphite events</h1>
        </div>
        <div class="graphite">
            <div id="main" >
              
`)
	if len(evs) == 0 {
		proto := "http"
		if ctx.IsTLS() {
			proto = "https"
		}
		b.WriteString(`                <br/>No events. Add events using
                <a href="/admin/events/event/add/">the admin interface</a> or by posting
                (eg, curl -X POST ` + proto + `://` + djangoEscape(string(ctx.Host())) + `/events -d
                '{"what": "Something Interesting", "tags" : "tag1"}')
`)
	} else {
		b.WriteString(`                <table class="styledtable" width=100%>
                  <tr><th>when</th><th>what</th><th>tags</th></tr>
                  
`)
		for _, e := range evs {
			tags := e.TagList()
			for i := range tags {
				tags[i] = djangoEscape(tags[i])
			}
			fmt.Fprintf(&b, `                      <tr>
                          <td>%s</td>
                          <td><a href="/events/%d">%s</a></td>
                          <td>[&#39;%s&#39;]</td>
                      </tr>
                  
`, eventHTMLTime(e.When), e.ID, djangoEscape(e.What), strings.Join(tags, "&#39;, &#39;"))
		}
	}
	b.WriteString(`              
              </table>
            </div>
        </div>
    </body>
</html>
`)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBodyString(b.String())
}

// eventHTMLTime is graphite-web's template format "H:i:s D d M Y".
func eventHTMLTime(us int64) string {
	return time.UnixMicro(us).UTC().Format("15:04:05 Mon 02 Jan 2006")
}

// djangoISOTime is DjangoJSONEncoder's datetime: ISO 8601, milliseconds
// when there are microseconds, Z for UTC.
func djangoISOTime(us int64) string {
	t := time.UnixMicro(us).UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}
