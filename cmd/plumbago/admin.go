package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/storage/pebble"
)

// The admin endpoints of a running server. They change or copy stored data:
// the access guard (access.go, requiredAccess and authorize) gives every
// path under /admin/ the admin role, which users get with --http-admin-users;
// with no admin user configured they answer only requests from the machine
// itself (loopback), whatever --http-addr binds to. On a read-only node every
// admin path answers 403.
//
//	POST /admin/checkpoint  dest=/abs/path  consistent online copy of the
//	                        pebble store and the events (dest must not
//	                        exist); restore by pointing --data-dir at dest
//	                        (its pebble/ and events/ are the copy).
//	/admin/series/...       delete, rename, stale and prune (seriesadmin.go)

type adminComponent struct{}

func newAdminComponent(s *server) adminComponent {
	s.handleHTTPWith(func(ctx *fasthttp.RequestCtx) bool {
		if string(ctx.Path()) != "/admin/checkpoint" {
			return false
		}
		if !ctx.IsPost() {
			ctx.Error("use POST\n", fasthttp.StatusMethodNotAllowed)
			return true
		}
		dest := string(ctx.FormValue("dest"))
		if dest == "" || !filepath.IsAbs(dest) {
			ctx.Error("dest must be an absolute path that does not exist yet\n", fasthttp.StatusBadRequest)
			return true
		}
		ps, ok := s.store.(*pebble.Store)
		if !ok {
			ctx.Error("checkpoints are for the pebble backend; back up a whisper tree with a file copy (see docs/operations.md)\n", fasthttp.StatusBadRequest)
			return true
		}
		// Points still in the write buffer are not in pebble yet: write them
		// first, so the copy holds everything accepted before the request.
		s.cache.Sync()
		if err := ps.Checkpoint(filepath.Join(dest, "pebble")); err != nil {
			ctx.Error(fmt.Sprintf("checkpoint failed: %v\n", err), fasthttp.StatusInternalServerError)
			return true
		}
		// Then what components keep beside the backend (events).
		for _, c := range s.checkpointCopiers {
			if err := c(dest); err != nil {
				ctx.Error(fmt.Sprintf("checkpoint failed: %v\n", err), fasthttp.StatusInternalServerError)
				return true
			}
		}
		s.log.Info("checkpoint written", "dest", dest)
		ctx.SetContentType("text/plain; charset=utf-8")
		fmt.Fprintf(ctx, "checkpoint written to %s (serve it with --data-dir %s)\n", dest, dest)
		return true
	})
	s.handleHTTPWith(s.handleSeriesAdmin)
	return adminComponent{}
}

func (adminComponent) listeners() []ingest.Listener                   { return nil }
func (adminComponent) start(context.Context) error                    { return nil }
func (adminComponent) stop(context.Context) error                     { return nil }
func (adminComponent) metrics(p *promWriter, drops map[string]uint64) {}
