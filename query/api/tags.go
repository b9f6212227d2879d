package api

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/storage/tagged"
	"github.com/valyala/fasthttp"
)

// TagDB is the tag database behind the /tags endpoints and seriesByTag:
// storage/tagged.TagIndex implements it. When Options.Tags does not, the
// endpoints answer like graphite-web's DummyTagDB (empty results; tagging
// refused).
type TagDB interface {
	query.TagFinder
	ListTags(filter string, limit int) ([]string, error)
	ListValues(tag, filter string, limit int) ([]tagged.ValueCount, error)
	AutoCompleteTags(exprs []string, prefix string, limit int) ([]string, error)
	AutoCompleteValues(exprs []string, tag, prefix string, limit int) ([]string, error)
	TagID(tag string) (int, bool)
	ValueID(value string) (int, bool)
	AddInOrder(name []byte, order []string) (bool, error)
	Delete(name string) bool
}

var _ TagDB = (*tagged.TagIndex)(nil)

// tags serves graphite-web 1.1's /tags views with its LocalDatabaseTagDB's
// responses: JSON as Python's json.dumps writes it (indent=2 and sorted
// keys with pretty=1), errors as {"error": "..."} with 400 for invalid
// input and 500 for what graphite-web raises as a plain Exception, and an
// empty 405 for a method the view refuses. It answers every path under
// /tags (graphite-web routes /tags/<anything else> to the tag details).
func (a *API) tags(ctx *fasthttp.RequestCtx) bool {
	idx, _ := a.opts.Tags.(TagDB)
	t := &tagReq{ctx: ctx, idx: idx, max: a.ev.Limits().MaxTagResults, maxParams: a.ev.Limits().MaxTagParams}
	if idx == nil {
		t.idx = tagged.NewTagIndex() // graphite-web's DummyTagDB: nothing tagged
	}
	t.serve(idx == nil)
	return true
}

func (t *tagReq) serve(dummy bool) {
	ctx := t.ctx
	method := string(ctx.Method())
	get, post := method == fasthttp.MethodGet, method == fasthttp.MethodPost
	if get || post {
		t.p = readParams(ctx)
	} else {
		t.p = &params{}
	}
	rest := string(ctx.Path())[len("/tags"):]
	switch rest {
	case "", "/":
		if !get {
			t.methodNotAllowed()
			return
		}
		t.list()
	case "/tagSeries", "/tagMultiSeries", "/delSeries":
		if !post {
			t.methodNotAllowed()
			return
		}
		if dummy && rest != "/delSeries" {
			t.fail(&pyTagError{500, "Tagging not implemented with DummyTagDB"})
			return
		}
		switch rest {
		case "/tagSeries":
			t.tagSeries()
		case "/tagMultiSeries":
			t.tagMultiSeries()
		default:
			t.delSeries(dummy)
		}
	case "/findSeries", "/autoComplete/tags", "/autoComplete/values":
		if !get && !post {
			t.methodNotAllowed()
			return
		}
		switch rest {
		case "/findSeries":
			t.findSeries()
		case "/autoComplete/tags":
			t.autoCompleteTags()
		default:
			t.autoCompleteValues()
		}
	default:
		if !get {
			t.methodNotAllowed()
			return
		}
		t.details(rest[1:])
	}
}

type tagReq struct {
	ctx       *fasthttp.RequestCtx
	idx       TagDB
	p         *params
	max       int // results of one answer (tags-max-results)
	maxParams int // expressions or paths of one request (tags-max-params)
}

// overMax fails the request when the index found more than the results
// cap (it is asked for at most one more).
func (t *tagReq) overMax(n int) bool {
	if n <= t.max {
		return false
	}
	t.fail(&pyTagError{400, fmt.Sprintf("more than %d results, the limit of tags-max-results; narrow the filter or expressions", t.max)})
	return true
}

// indexLimit is how many results to ask the index for when the client
// wants at most want (<= 0: all): never more than the cap plus one.
func (t *tagReq) indexLimit(want int) int {
	if want > 0 && want <= t.max {
		return want
	}
	return t.max + 1
}

// autoWant is how many completions the client keeps (0 = all): the limit
// parameter when positive, else graphite-web's default of 100 without it.
func (t *tagReq) autoWant() int {
	if !t.p.Has("limit") {
		return tagged.DefaultAutocompleteLimit
	}
	if n, err := tagPyInt(t.p.Get("limit")); err == nil && n > 0 {
		return n
	}
	return 0
}

func (t *tagReq) methodNotAllowed() {
	t.ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
	t.ctx.SetContentType("text/html; charset=utf-8")
	t.ctx.ResetBody()
}

func (t *tagReq) reply(status int, v any) {
	pretty := t.p.Get("pretty") != ""
	t.ctx.SetStatusCode(status)
	t.ctx.SetContentType("application/json")
	t.ctx.SetBody(appendJSONOpts(nil, v, pretty, pretty, 0))
}

// fail answers an error the way graphite-web's jsonResponse does.
func (t *tagReq) fail(err error) {
	var pe *pyTagError
	status, msg := fasthttp.StatusInternalServerError, err.Error()
	var te *tagged.TagspecError
	switch {
	case errors.As(err, &pe):
		status, msg = pe.status, pe.msg
	case errors.As(err, &te), errors.Is(err, tagged.ErrAllMatchEmpty):
		status, msg = fasthttp.StatusBadRequest, tagErrorMessage(err)
	}
	t.reply(status, obj{{"error", msg}})
}

// multi is a Django QueryDict.getlist of name, or of name[] when name is
// absent.
func (t *tagReq) multi(name string) ([]string, error) {
	l := t.p.List(name)
	if len(l) == 0 {
		l = t.p.List(name + "[]")
	}
	if len(l) > t.maxParams {
		return nil, &pyTagError{400, "too many " + name + " parameters (more than " + strconv.Itoa(t.maxParams) + ", the limit of tags-max-params)"}
	}
	return l, nil
}

// sqlLimit is LocalDatabaseTagDB's "if limit: LIMIT int(limit)" (a
// negative LIMIT means none in sqlite); -1 = no limit.
func sqlLimit(raw string, present bool) (int, error) {
	if !present || raw == "" {
		return -1, nil
	}
	n, err := tagPyInt(raw)
	if err != nil || n < 0 {
		return -1, err
	}
	return n, nil
}

func applyLimit[T any](l []T, n int) []T {
	if n >= 0 && len(l) > n {
		return l[:n]
	}
	return l
}

// tags list: [{"id": n, "tag": t}, ...] sorted by tag.
func (t *tagReq) list() {
	args := t.ctx.QueryArgs() // graphite-web reads request.GET here
	lim, err := sqlLimit(string(args.Peek("limit")), args.Has("limit"))
	if err != nil {
		t.fail(err)
		return
	}
	names, err := t.idx.ListTags(string(args.Peek("filter")), t.indexLimit(lim))
	if err != nil {
		t.fail(err)
		return
	}
	if t.overMax(len(names)) {
		return
	}
	out := []any{}
	for _, n := range applyLimit(names, lim) {
		id, _ := t.idx.TagID(n)
		out = append(out, obj{{"id", id}, {"tag", n}})
	}
	t.reply(fasthttp.StatusOK, out)
}

// details: {"id": n, "tag": t, "values": [{"id", "value", "count"}...]},
// null for an unknown tag.
func (t *tagReq) details(tag string) {
	id, ok := t.idx.TagID(tag)
	if !ok {
		t.reply(fasthttp.StatusOK, nil)
		return
	}
	lim, err := sqlLimit(t.p.Get("limit"), t.p.Has("limit"))
	if err != nil {
		t.fail(err)
		return
	}
	vals, err := t.idx.ListValues(tag, t.p.Get("filter"), t.indexLimit(lim))
	if err != nil {
		t.fail(err)
		return
	}
	if t.overMax(len(vals)) {
		return
	}
	out := []any{}
	for _, v := range applyLimit(vals, lim) {
		vid, _ := t.idx.ValueID(v.Value)
		out = append(out, obj{{"id", vid}, {"value", v.Value}, {"count", v.Count}})
	}
	t.reply(fasthttp.StatusOK, obj{{"id", id}, {"tag", tag}, {"values", out}})
}

func (t *tagReq) findSeries() {
	exprs, err := t.multi("expr")
	if err != nil {
		t.fail(err)
		return
	}
	if len(exprs) == 0 {
		t.fail(&pyTagError{400, "no tag expressions specified"})
		return
	}
	names, err := t.idx.FindSeries(exprs)
	if err != nil {
		t.fail(err)
		return
	}
	if t.overMax(len(names)) {
		return
	}
	t.reply(fasthttp.StatusOK, strs(names))
}

// autoLimit applies graphite-web's two limits to a sorted autocomplete
// result: the tag database's (default 100; with expressions a limit <= 0
// keeps nothing, without them it means no limit) and then the store's
// Python slice [:limit] when the parameter was given.
func (t *tagReq) autoLimit(all []string, withExprs bool) ([]string, error) {
	if !t.p.Has("limit") {
		return applyLimit(all, tagged.DefaultAutocompleteLimit), nil
	}
	n, err := tagPyInt(t.p.Get("limit"))
	if err != nil {
		return nil, err
	}
	switch {
	case n > 0:
		return applyLimit(all, n), nil
	case n == 0 || withExprs:
		return nil, nil
	default: // Python's l[:-k]
		return all[:max(len(all)+n, 0)], nil
	}
}

func (t *tagReq) autoCompleteTags() {
	exprs, err := t.multi("expr")
	if err != nil {
		t.fail(err)
		return
	}
	if !t.limitValid() {
		return
	}
	all, err := t.idx.AutoCompleteTags(exprs, t.p.Get("tagPrefix"), t.indexLimit(t.autoWant()))
	t.replyCompletions(all, err, len(exprs) > 0)
}

func (t *tagReq) autoCompleteValues() {
	exprs, err := t.multi("expr")
	if err != nil {
		t.fail(err)
		return
	}
	tag := t.p.Get("tag")
	if tag == "" {
		t.fail(&pyTagError{400, "no tag specified"})
		return
	}
	if !t.limitValid() {
		return
	}
	all, err := t.idx.AutoCompleteValues(exprs, tag, t.p.Get("valuePrefix"), t.indexLimit(t.autoWant()))
	t.replyCompletions(all, err, len(exprs) > 0)
}

// limitValid fails the request when a limit is given that is not a Python
// int; graphite-web checks it before looking anything up.
func (t *tagReq) limitValid() bool {
	if t.p.Has("limit") {
		if _, err := tagPyInt(t.p.Get("limit")); err != nil {
			t.fail(err)
			return false
		}
	}
	return true
}

// replyCompletions answers an autocomplete with what the index found (or
// its error), cut by autoLimit.
func (t *tagReq) replyCompletions(all []string, err error, withExprs bool) {
	if err == nil && t.overMax(len(all)) {
		return
	}
	if err == nil {
		all, err = t.autoLimit(all, withExprs)
	}
	if err != nil {
		t.fail(err)
		return
	}
	t.reply(fasthttp.StatusOK, strs(all))
}

// add canonicalises path like TaggedSeries.parse and indexes it.
func (t *tagReq) add(path string) (string, error) {
	c, order, err := canonicalTaggedPath(path)
	if err != nil {
		return "", err
	}
	if _, err := t.idx.AddInOrder([]byte(c), order); err != nil {
		return "", &pyTagError{500, err.Error()}
	}
	return c, nil
}

func (t *tagReq) tagSeries() {
	path := t.p.Get("path")
	if path == "" {
		t.fail(&pyTagError{400, "no path specified"})
		return
	}
	c, err := t.add(path)
	if err != nil {
		t.fail(err)
		return
	}
	t.reply(fasthttp.StatusOK, c)
}

func (t *tagReq) tagMultiSeries() {
	paths, err := t.multi("path")
	if err != nil {
		t.fail(err)
		return
	}
	if len(paths) == 0 {
		t.fail(&pyTagError{400, "no paths specified"})
		return
	}
	out := make([]any, 0, len(paths))
	for _, p := range paths {
		c, err := t.add(p)
		if err != nil {
			t.fail(err)
			return
		}
		out = append(out, c)
	}
	t.reply(fasthttp.StatusOK, out)
}

func (t *tagReq) delSeries(dummy bool) {
	paths, err := t.multi("path")
	if err != nil {
		t.fail(err)
		return
	}
	if len(paths) == 0 {
		t.fail(&pyTagError{400, "no path specified"})
		return
	}
	for _, p := range paths {
		if dummy {
			break
		}
		c, _, err := canonicalTaggedPath(p)
		if err != nil {
			t.fail(err)
			return
		}
		t.idx.Delete(c)
	}
	t.reply(fasthttp.StatusOK, true)
}

func strs(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// tagErrorMessage returns graphite-web's message for a tag database error:
// "Invalid tagspec <spec>", "At least one tagspec must not match the empty
// string", or err's own text.
func tagErrorMessage(err error) string {
	var te *tagged.TagspecError
	switch {
	case errors.As(err, &te):
		return "Invalid tagspec " + te.Spec
	case errors.Is(err, tagged.ErrAllMatchEmpty):
		return "At least one tagspec must not match the empty string"
	}
	return err.Error()
}
