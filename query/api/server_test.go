package api

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/plumbago/plumbago/query"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

type testServer struct {
	client *fasthttp.HostClient
	api    *API
}

// startServer serves an API over src on an in-memory listener.
func startServer(t testing.TB, src query.Source, now time.Time) *testServer {
	t.Helper()
	return startServerWith(t, src, Options{}, now)
}

// startServerWith is startServer with options (Now and Logger are set).
func startServerWith(t testing.TB, src query.Source, opts Options, now time.Time) *testServer {
	t.Helper()
	opts.Now = func() time.Time { return now }
	if opts.CacheBytes == 0 {
		// Most tests change data between identical requests; the cache
		// tests enable it explicitly.
		opts.CacheBytes = -1
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(src, opts)
	ln := fasthttputil.NewInmemoryListener()
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if !a.Handle(ctx) {
			ctx.Error("not found", fasthttp.StatusNotFound)
		}
	}}
	go s.Serve(ln) //nolint:errcheck
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.ShutdownWithContext(ctx)
	})
	return &testServer{api: a, client: &fasthttp.HostClient{Addr: "graphite", Dial: func(string) (net.Conn, error) { return ln.Dial() }}}
}

func (s *testServer) do(t testing.TB, method, uri, contentType, body string) (int, string, []byte) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://graphite" + uri)
	req.Header.SetMethod(method)
	if contentType != "" {
		req.Header.SetContentType(contentType)
	}
	if body != "" {
		req.SetBodyString(body)
	}
	if err := s.client.DoTimeout(req, resp, 30*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, uri, err)
	}
	return resp.StatusCode(), string(resp.Header.ContentType()), append([]byte(nil), resp.Body()...)
}

func (s *testServer) get(t testing.TB, uri string) (int, string, []byte) {
	return s.do(t, "GET", uri, "", "")
}
