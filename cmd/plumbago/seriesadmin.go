package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/query/attime"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/seriesops"
)

// The series admin endpoints (docs/operations.md, "Deleting, renaming and
// pruning series"), admin paths for the access guard (access.go):
//
//	POST /admin/series/delete  glob=… tag=… name=… (each repeatable) [dry_run=1]
//	POST /admin/series/rename  from=NAME|GLOB to=NAME (\1.. back-references) [merge=1] [dry_run=1]
//	GET|POST /admin/series/stale  since=TIME [glob=… tag=… name=…]  series with no point since TIME
//	POST /admin/series/prune   since=TIME [glob=… tag=… name=…] [dry_run=1]  delete them
//
// TIME is a graphite time (-30d, now-1w, 20261101, a unix time).
//
// Answers are JSON; a dry run lists what would be done and changes nothing.

// seriesOps returns the operations over this server's store, index and
// write buffer.
func (s *server) seriesOps() (*seriesops.Ops, error) {
	st, ok := s.store.(seriesops.Store)
	if !ok {
		return nil, fmt.Errorf("the %s backend cannot delete or rename series", s.cfg.Backend)
	}
	ops := &seriesops.Ops{Store: st, Index: s.index, Buffer: s.cache, Changed: s.notifySeriesChanged}
	if s.limits != nil {
		ops.Forget, ops.Count = s.limits.lim.Forget, s.limits.lim.Count
	}
	return ops, nil
}

// onSeriesChanged registers fn to run after series were deleted or renamed
// (the query component drops its render cache).
func (s *server) onSeriesChanged(fn func()) { s.seriesChanged = append(s.seriesChanged, fn) }

func (s *server) notifySeriesChanged() {
	for _, fn := range s.seriesChanged {
		fn()
	}
}

// formValues returns every value of key in the query string and the
// urlencoded or multipart body.
func formValues(ctx *fasthttp.RequestCtx, key string) []string {
	var out []string
	for _, v := range ctx.QueryArgs().PeekMulti(key) {
		out = append(out, string(v))
	}
	for _, v := range ctx.PostArgs().PeekMulti(key) {
		out = append(out, string(v))
	}
	if mf, err := ctx.MultipartForm(); err == nil {
		out = append(out, mf.Value[key]...)
	}
	return out
}

func formBool(ctx *fasthttp.RequestCtx, key string) bool {
	switch string(ctx.FormValue(key)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func selectorFrom(ctx *fasthttp.RequestCtx) seriesops.Selector {
	return seriesops.Selector{Globs: formValues(ctx, "glob"), TagExprs: formValues(ctx, "tag"), Names: formValues(ctx, "name")}
}

func (s *server) handleSeriesAdmin(ctx *fasthttp.RequestCtx) bool {
	path := string(ctx.Path())
	switch path {
	case "/admin/series/delete", "/admin/series/rename", "/admin/series/stale", "/admin/series/prune":
	default:
		return false
	}
	if !ctx.IsPost() && !(path == "/admin/series/stale" && ctx.IsGet()) {
		ctx.Error("use POST\n", fasthttp.StatusMethodNotAllowed)
		return true
	}
	ops, err := s.seriesOps()
	if err != nil {
		ctx.Error(err.Error()+"\n", fasthttp.StatusNotImplemented)
		return true
	}
	dry := formBool(ctx, "dry_run")
	var res any
	switch path {
	case "/admin/series/delete":
		sel := selectorFrom(ctx)
		if sel.Empty() {
			ctx.Error("give at least one glob, tag or name\n", fasthttp.StatusBadRequest)
			return true
		}
		var r seriesops.DeleteResult
		r, err = ops.Delete(sel, dry)
		if err == nil && !dry {
			s.log.Info("series deleted", "series", len(r.Series), "freed_bytes", r.FreedBytes)
		}
		res = r
	case "/admin/series/rename":
		from, to := string(ctx.FormValue("from")), string(ctx.FormValue("to"))
		if from == "" || to == "" {
			ctx.Error("give from and to\n", fasthttp.StatusBadRequest)
			return true
		}
		var r seriesops.RenameResult
		r, err = ops.Rename(from, to, formBool(ctx, "merge"), dry)
		if !dry && len(r.Renamed) > 0 {
			s.log.Info("series renamed", "from", from, "to", to, "series", len(r.Renamed), "err", err)
		}
		res = r
	case "/admin/series/stale", "/admin/series/prune":
		var since int64
		since, err = parseSince(string(ctx.FormValue("since")), s.timeZone())
		if err != nil {
			ctx.Error(err.Error()+"\n", fasthttp.StatusBadRequest)
			return true
		}
		var r seriesops.StaleResult
		if path == "/admin/series/stale" {
			r, err = ops.Stale(selectorFrom(ctx), since)
		} else {
			r, err = ops.Prune(selectorFrom(ctx), since, dry)
			if err == nil && !dry {
				s.log.Info("stale series pruned", "since", since, "series", len(r.Series), "freed_bytes", r.FreedBytes)
			}
		}
		res = r
	}
	if err != nil {
		adminError(ctx, err)
		return true
	}
	ctx.SetContentType("application/json")
	enc := json.NewEncoder(ctx)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		s.log.Error("writing admin answer", "err", err)
	}
	return true
}

// parseSince parses a graphite time for the stale and prune operations.
func parseSince(v string, loc *time.Location) (int64, error) {
	if v == "" {
		return 0, errors.New("give since (a graphite time: -30d, now-1w, 20261101, a unix time)")
	}
	t, err := attime.Parse(v, time.Now(), loc)
	if err != nil {
		return 0, fmt.Errorf("since=%q: %w", v, err)
	}
	return t.Unix(), nil
}

// timeZone is --time-zone's location (UTC when unset or unknown).
func (s *server) timeZone() *time.Location {
	if s.cfg.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.cfg.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// adminError answers err with the status its kind calls for.
func adminError(ctx *fasthttp.RequestCtx, err error) {
	code := fasthttp.StatusInternalServerError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		code = fasthttp.StatusNotFound
	case errors.Is(err, storage.ErrExists):
		code = fasthttp.StatusConflict
	case errors.Is(err, seriesops.ErrTooMany), errors.Is(err, seriesops.ErrInvalid):
		code = fasthttp.StatusBadRequest
	case storage.Unavailable(err):
		code = fasthttp.StatusServiceUnavailable
	}
	ctx.Error(err.Error()+"\n", code)
}
