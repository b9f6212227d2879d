package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/query/auth"
)

// httpAuth guards the HTTP API with basic auth from --http-auth-file, and
// limits each client's failed attempts (--http-auth-failures-per-minute).
type httpAuth struct {
	path     string
	users    atomic.Pointer[auth.Users] // swapped whole on reload
	limit    *auth.FailureLimiter       // nil: no limit
	failures atomic.Uint64
	limited  atomic.Uint64
}

// loadHTTPAuthFile loads an htpasswd file and logs what it holds that
// works but should not be there.
func loadHTTPAuthFile(path string, log *slog.Logger) (*auth.Users, error) {
	u, err := auth.Load(path)
	if err != nil {
		return nil, fmt.Errorf("--http-auth-file: %w", err)
	}
	for _, w := range u.Warnings() {
		log.Warn("htpasswd file", "file", path, "warning", w)
	}
	return u, nil
}

func newHTTPAuth(cfg Config, log *slog.Logger) (*httpAuth, error) {
	if cfg.HTTPAuthFile == "" {
		return nil, nil
	}
	u, err := loadHTTPAuthFile(cfg.HTTPAuthFile, log)
	if err != nil {
		return nil, err
	}
	a := &httpAuth{path: cfg.HTTPAuthFile, limit: auth.NewFailureLimiter(cfg.HTTPAuthFailuresPerMinute)}
	a.users.Store(u)
	log.Info("basic auth on the HTTP API", "users", u.Len(), "file", cfg.HTTPAuthFile, "schemes", fmt.Sprint(u.Schemes()),
		"failures_per_minute_per_client", cfg.HTTPAuthFailuresPerMinute)
	return a, nil
}

// reload re-reads the htpasswd file; on error the old users stay.
func (a *httpAuth) reload(log *slog.Logger) error {
	u, err := loadHTTPAuthFile(a.path, log)
	if err != nil {
		return err
	}
	a.users.Store(u)
	return nil
}

// authenticate answers 401 (with the challenge browsers and urllib need)
// or 429 and returns false, or returns the user the request logged in as.
func (a *httpAuth) authenticate(ctx *fasthttp.RequestCtx) (string, bool) {
	client := ctx.RemoteIP().String()
	now := time.Now()
	if ok, wait := a.limit.Allow(client, now); !ok {
		a.limited.Add(1)
		// ctx.Error resets the headers: set ours after it.
		ctx.Error("too many failed logins from this address; retry later\n", fasthttp.StatusTooManyRequests)
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		return "", false
	}
	if user, ok := a.users.Load().Authenticate(ctx.Request.Header.Peek("Authorization")); ok {
		return user, true
	}
	// A request without credentials is a browser's first try, not a failure.
	if len(ctx.Request.Header.Peek("Authorization")) > 0 {
		a.failures.Add(1)
		a.limit.Fail(client, now)
	}
	ctx.Error("authentication required\n", fasthttp.StatusUnauthorized)
	ctx.Response.Header.Set("WWW-Authenticate", `Basic realm="plumbago", charset="UTF-8"`)
	return "", false
}

func (a *httpAuth) metrics(p *promWriter) {
	p.counter("plumbago_http_auth_failures_total", "HTTP requests with wrong basic-auth credentials.", a.failures.Load())
	p.counter("plumbago_http_auth_rate_limited_total", "HTTP requests refused (429) because their client failed to log in too often.", a.limited.Load())
}
