package main

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/valyala/fasthttp"
)

// newAccessServer is a server with only what authorize reads: the policy
// of cfg and, when cfg names one, the htpasswd file's users.
func newAccessServer(t *testing.T, cfg Config) *server {
	t.Helper()
	p, err := newAccessPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cfg: cfg, access: p}
	if s.auth, err = newHTTPAuth(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return s
}

// request runs the guard on a request from addr as user (empty: none) and
// returns the status it answered (200 when it let the request through).
func request(s *server, addr, method, path, user, pass string) int {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	if user != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(addr), Port: 40000}, nil)
	need, changes := requiredAccess(method, path)
	if !s.authorize(&ctx, need, changes) {
		return ctx.Response.StatusCode()
	}
	return 200
}

func writeHtpasswd(t *testing.T, users ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "htpasswd")
	var b []byte
	for _, u := range users {
		b = append(b, u+":{PLAIN}pw-"+u+"\n"...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAccessWithoutUsers(t *testing.T) {
	s := newAccessServer(t, DefaultConfig())
	for _, c := range []struct {
		addr, method, path string
		want               int
	}{
		{"192.0.2.7", "GET", "/render", 200},
		{"192.0.2.7", "POST", "/tags/tagSeries", 200},
		{"192.0.2.7", "POST", "/events/", 200},
		{"192.0.2.7", "POST", "/admin/checkpoint", 403},
		{"192.0.2.7", "POST", "/admin/delete", 403},
		{"127.0.0.1", "POST", "/admin/checkpoint", 200},
		{"::1", "POST", "/admin/delete", 200},
		{"192.0.2.7", "GET", "/healthz", 200},
	} {
		if got := request(s, c.addr, c.method, c.path, "", ""); got != c.want {
			t.Errorf("%s %s from %s: %d; want %d", c.method, c.path, c.addr, got, c.want)
		}
	}
	if got := s.access.forbiddenLoopback.Load(); got != 2 {
		t.Errorf("forbidden not_loopback = %d; want 2", got)
	}
}

func TestAccessRoles(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTPAuthFile = writeHtpasswd(t, "alice", "wendy", "rita", "dora")
	cfg.HTTPAdminUsers, cfg.HTTPWriteUsers, cfg.HTTPReadUsers = "alice", " wendy ,", "rita"
	cfg.HTTPDefaultRole = "read"
	s := newAccessServer(t, cfg)
	for _, c := range []struct {
		addr, method, path, user string
		want                     int
	}{
		{"192.0.2.7", "GET", "/render", "", 401},
		{"192.0.2.7", "GET", "/render", "rita", 200},
		{"192.0.2.7", "GET", "/render", "dora", 200},
		{"192.0.2.7", "POST", "/tags/tagSeries", "rita", 403},
		{"192.0.2.7", "POST", "/tags/delSeries", "dora", 403},
		{"192.0.2.7", "POST", "/tags/tagSeries", "wendy", 200},
		{"192.0.2.7", "POST", "/events", "wendy", 200},
		{"192.0.2.7", "POST", "/tags/findSeries", "rita", 200},
		// An admin user works from anywhere; nobody else, not even from
		// loopback, once an admin user exists.
		{"192.0.2.7", "POST", "/admin/checkpoint", "alice", 200},
		{"192.0.2.7", "POST", "/admin/rename", "alice", 200},
		{"127.0.0.1", "POST", "/admin/checkpoint", "wendy", 403},
		{"127.0.0.1", "POST", "/admin/checkpoint", "", 401},
		{"192.0.2.7", "GET", "/healthz", "", 200},
	} {
		pass := "pw-" + c.user
		if got := request(s, c.addr, c.method, c.path, c.user, pass); got != c.want {
			t.Errorf("%s %s from %s as %q: %d; want %d", c.method, c.path, c.addr, c.user, got, c.want)
		}
	}
	if got := s.access.forbiddenRole.Load(); got != 3 {
		t.Errorf("forbidden role = %d; want 3", got)
	}
}

// TestAccessUsersWithoutAdmin: users but no admin role keeps admin for
// authenticated loopback clients, as before roles existed.
func TestAccessUsersWithoutAdmin(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HTTPAuthFile = writeHtpasswd(t, "grafana")
	s := newAccessServer(t, cfg)
	if got := request(s, "127.0.0.1", "POST", "/admin/checkpoint", "grafana", "pw-grafana"); got != 200 {
		t.Errorf("loopback checkpoint as grafana: %d; want 200", got)
	}
	if got := request(s, "192.0.2.7", "POST", "/admin/checkpoint", "grafana", "pw-grafana"); got != 403 {
		t.Errorf("remote checkpoint as grafana: %d; want 403", got)
	}
	if got := request(s, "192.0.2.7", "POST", "/events/", "grafana", "pw-grafana"); got != 200 {
		t.Errorf("event as grafana (default role write): %d; want 200", got)
	}
}

func TestAccessReadOnly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ReadOnly = true
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	s := newAccessServer(t, cfg)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/render", 200},
		{"POST", "/tags/tagSeries", 403},
		{"POST", "/events/", 403},
		{"POST", "/admin/delete", 403},
		{"POST", "/admin/checkpoint", 403},
	} {
		if got := request(s, "127.0.0.1", c.method, c.path, "", ""); got != c.want {
			t.Errorf("read-only %s %s: %d; want %d", c.method, c.path, got, c.want)
		}
	}
	if got := s.access.forbiddenReadOnly.Load(); got != 4 {
		t.Errorf("forbidden read_only = %d; want 4", got)
	}
	// Every ingest listener off without --read-only is read-only too.
	cfg = DefaultConfig()
	cfg.CarbonAddr, cfg.PickleAddr, cfg.StatsdAddr = "", "", ""
	if !cfg.readOnly() {
		t.Error("no ingest listener: readOnly() = false")
	}
	cfg.StatsdAddr = ":8125"
	if cfg.readOnly() {
		t.Error("statsd on: readOnly() = true")
	}
}

func TestAccessPolicyErrors(t *testing.T) {
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.HTTPAdminUsers = "alice" }, "--http-admin-users needs --http-auth-file (roles belong to its users)"},
		{func(c *Config) { c.HTTPDefaultRole = "root" }, `--http-default-role: role "root": must be read, write or admin`},
		{func(c *Config) { c.HTTPAuthFile = "x"; c.HTTPAdminUsers = "a,b"; c.HTTPReadUsers = "b" }, `--http-read-users: user "b" already has the admin role`},
	} {
		cfg := DefaultConfig()
		c.set(&cfg)
		_, err := newAccessPolicy(cfg)
		if err == nil || err.Error() != c.want {
			t.Errorf("error = %v; want %s", err, c.want)
		}
	}
}
