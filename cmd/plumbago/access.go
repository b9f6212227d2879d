package main

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/plumbago/plumbago/query/api"
)

// role is what a client of the HTTP API may do; each role includes the
// ones below it.
type role int

const (
	roleNone  role = iota // nothing needed: /healthz, /readyz
	roleRead              // render, find, tags and events queries, /metrics
	roleWrite             // tag and delete tagged series, store events
	roleAdmin             // /admin/*: checkpoint, delete, rename, resize, limits
)

func (r role) String() string {
	switch r {
	case roleRead:
		return "read"
	case roleWrite:
		return "write"
	case roleAdmin:
		return "admin"
	}
	return "none"
}

func parseRole(s string) (role, error) {
	switch s {
	case "read":
		return roleRead, nil
	case "write":
		return roleWrite, nil
	case "admin":
		return roleAdmin, nil
	}
	return roleNone, fmt.Errorf("role %q: must be read, write or admin", s)
}

// accessPolicy maps the users of --http-auth-file to roles
// (--http-admin-users, --http-write-users, --http-read-users, the rest
// --http-default-role) and says whether the node takes writes.
type accessPolicy struct {
	roles       map[string]role
	defaultRole role
	// adminUsers: some user can hold the admin role. Without one, admin
	// endpoints answer loopback clients only (authenticated, when users
	// are configured), as they always did.
	adminUsers bool
	readOnly   bool

	forbiddenRole, forbiddenLoopback, forbiddenReadOnly atomic.Uint64
}

// splitUsers splits a comma-separated user list.
func splitUsers(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// newAccessPolicy checks the role settings of cfg.
func newAccessPolicy(cfg Config) (*accessPolicy, error) {
	p := &accessPolicy{roles: map[string]role{}, readOnly: cfg.readOnly()}
	var err error
	if p.defaultRole, err = parseRole(cfg.HTTPDefaultRole); err != nil {
		return nil, fmt.Errorf("--http-default-role: %w", err)
	}
	lists := []struct {
		flag, users string
		role        role
	}{
		{"http-admin-users", cfg.HTTPAdminUsers, roleAdmin},
		{"http-write-users", cfg.HTTPWriteUsers, roleWrite},
		{"http-read-users", cfg.HTTPReadUsers, roleRead},
	}
	for _, l := range lists {
		users := splitUsers(l.users)
		if len(users) > 0 && cfg.HTTPAuthFile == "" {
			return nil, fmt.Errorf("--%s needs --http-auth-file (roles belong to its users)", l.flag)
		}
		for _, u := range users {
			if r, dup := p.roles[u]; dup {
				return nil, fmt.Errorf("--%s: user %q already has the %s role", l.flag, u, r)
			}
			p.roles[u] = l.role
		}
	}
	p.adminUsers = cfg.HTTPAuthFile != "" && (p.defaultRole == roleAdmin || len(splitUsers(cfg.HTTPAdminUsers)) > 0)
	return p, nil
}

// roleOf is an authenticated user's role.
func (p *accessPolicy) roleOf(user string) role {
	if r, ok := p.roles[user]; ok {
		return r
	}
	return p.defaultRole
}

// warnUnknownUsers logs role entries naming no user of the htpasswd file.
func (p *accessPolicy) warnUnknownUsers(has func(string) bool, log *slog.Logger) {
	var unknown []string
	for u := range p.roles {
		if !has(u) {
			unknown = append(unknown, u)
		}
	}
	slices.Sort(unknown)
	for _, u := range unknown {
		log.Warn("a role names a user the htpasswd file does not have", "user", u, "role", p.roles[u])
	}
}

// requiredAccess is what a request needs: its role, and whether it changes
// stored data or needs a writable store (refused on a read-only node).
// Every path under /admin/ is admin and refused on a read-only node, even
// /admin/checkpoint: pebble writes no checkpoint of a store opened
// read-only (its files do not change: copy them with cp -a).
func requiredAccess(method, path string) (need role, changes bool) {
	switch {
	case path == "/healthz" || path == "/readyz":
		return roleNone, false
	case strings.HasPrefix(path, "/admin/"):
		return roleAdmin, true
	case api.ChangesData(method, path):
		return roleWrite, true
	}
	return roleRead, false
}

// authorize is the one access guard of the HTTP API: it authenticates the
// client (when --http-auth-file is set), checks its role against need and
// refuses a request that changes data on a read-only node. It answers the
// request itself (401, 403 or 429) and returns false when it may not go on.
//
// Without users every client reads and writes, and admin endpoints answer
// loopback clients only. With users, each gets its role; admin endpoints
// need the admin role, or, when no user can hold it, a loopback client.
func (s *server) authorize(ctx *fasthttp.RequestCtx, need role, changes bool) bool {
	if need == roleNone {
		return true
	}
	p := s.access
	have, user := roleWrite, ""
	if s.auth != nil {
		u, ok := s.auth.authenticate(ctx)
		if !ok {
			return false
		}
		user, have = u, p.roleOf(u)
	}
	if changes && p.readOnly {
		p.forbiddenReadOnly.Add(1)
		ctx.Error("this node is read-only (--read-only, or no ingest listener): no writes and no admin operations (back it up with cp -a: its files do not change)\n", fasthttp.StatusForbidden)
		return false
	}
	if need == roleAdmin && have < roleAdmin {
		if !p.adminUsers {
			if ip, ok := ctx.RemoteAddr().(*net.TCPAddr); ok && ip.IP.IsLoopback() {
				return true
			}
			p.forbiddenLoopback.Add(1)
			ctx.Error("admin endpoints answer only loopback clients (or users given the admin role with --http-admin-users)\n", fasthttp.StatusForbidden)
			return false
		}
	}
	if have < need {
		p.forbiddenRole.Add(1)
		ctx.Error(fmt.Sprintf("user %q has the %s role; this needs %s\n", user, have, need), fasthttp.StatusForbidden)
		return false
	}
	return true
}

func (p *accessPolicy) metrics(w *promWriter) {
	const help = "HTTP requests refused (403), by why: the user's role is too low, an admin endpoint from a non-loopback client, a write to a read-only node."
	w.counter("plumbago_http_forbidden_total", help, p.forbiddenRole.Load(), "reason", "role")
	w.counter("plumbago_http_forbidden_total", help, p.forbiddenLoopback.Load(), "reason", "not_loopback")
	w.counter("plumbago_http_forbidden_total", help, p.forbiddenReadOnly.Load(), "reason", "read_only")
}
