package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
)

// Fault injection on the real binary: the child runs with a low
// RLIMIT_NOFILE (sh's ulimit -n sets the soft and the hard limit, so Go
// cannot raise it), clients take every descriptor, and the server must say
// so on /healthz and serve again, by itself, once they leave.

type limitedProc struct {
	cmd          *exec.Cmd
	http, carbon string
	log          *procLog
	client       *http.Client
}

// startLimited runs plumbago serve under `ulimit -n nofile`.
func startLimited(t *testing.T, bin string, nofile int, extra ...string) *limitedProc {
	t.Helper()
	p := &limitedProc{
		http:   fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t)),
		carbon: fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t)),
		log:    &procLog{},
		// One request a connection: under exhaustion the server answers
		// on its spare descriptor, one connection at a time.
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	args := append([]string{"-c", `ulimit -n "$0" && exec "$@"`, strconv.Itoa(nofile), bin},
		serveArgs(p.http, p.carbon, append([]string{"--event-loops", "2"}, extra...)...)...)
	p.cmd = exec.Command("sh", args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	p.waitHealth(t, 200, "ok\n")
	return p
}

func (p *limitedProc) get(path string) (int, string, error) {
	r, err := p.client.Get("http://" + p.http + path)
	if err != nil {
		return 0, "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return r.StatusCode, string(b), err
}

// waitHealth polls /healthz until it answers code with a body holding want.
func (p *limitedProc) waitHealth(t *testing.T, code int, want string) string {
	t.Helper()
	return p.waitPath(t, "/healthz", code, want)
}

func (p *limitedProc) waitPath(t *testing.T, path string, code int, want string) string {
	t.Helper()
	var last string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c, body, err := p.get(path)
		if err == nil && c == code && strings.Contains(body, want) {
			return body
		}
		last = fmt.Sprintf("%d %q %v", c, body, err)
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d %q; last %s\nlog:\n%s", path, code, want, last, p.log)
	return ""
}

func (p *limitedProc) metric(t *testing.T, name string) float64 {
	t.Helper()
	c, body, err := p.get("/metrics")
	if err != nil || c != 200 {
		t.Fatalf("/metrics: %d %v", c, err)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatalf("metric %s not exposed", name)
	return 0
}

func (p *limitedProc) waitLog(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		found := false
		for _, line := range strings.Split(p.log.String(), "\n") {
			all := true
			for _, w := range want {
				all = all && strings.Contains(line, w)
			}
			found = found || all
		}
		if found {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q:\n%s", want, p.log)
}

// flood opens n idle TCP connections to addr.
func flood(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var cs []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp", addr, 20*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: %v", len(cs), err)
		}
		cs = append(cs, c)
	}
	t.Cleanup(func() {
		for _, c := range cs {
			c.Close()
		}
	})
	return cs
}

// checkServes sends one point over carbon TCP and one over UDP and reads
// both back through the render API.
func (p *limitedProc) checkServes(t *testing.T, prefix string) {
	t.Helper()
	now := time.Now().Unix()
	ts := now - now%10 - 30
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatalf("carbon TCP after recovery: %v", err)
	}
	fmt.Fprintf(c, "%s.tcp 7 %d\n", prefix, ts)
	c.Close()
	u, err := net.Dial("udp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(u, "%s.udp 8 %d\n", prefix, ts)
	u.Close()
	want := fmt.Sprintf(`[{"target": "%[1]s.tcp", "tags": {"name": "%[1]s.tcp"}, "datapoints": [[7.0, %[2]d]]}, `+
		`{"target": "%[1]s.udp", "tags": {"name": "%[1]s.udp"}, "datapoints": [[8.0, %[2]d]]}]`, prefix, ts)
	path := fmt.Sprintf("/render?noCache=1&target=%s.*&from=%d&until=%d&format=json", prefix, ts-1, ts+9)
	p.waitRender(t, "render after recovery", path, want)
}

// waitRender polls path until its body is want (30 s).
func (p *limitedProc) waitRender(t *testing.T, what, path, want string) {
	t.Helper()
	var got string
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, body, err := p.get(path); err == nil {
			if got = body; got == want {
				return
			}
		}
	}
	t.Fatalf("%s:\n%s\nwant\n%s", what, got, want)
}

const limitSchemas = "[all]\npattern = .*\nretentions = 10s:1h\n"

// TestCarbonFloodExhaustsDescriptors: idle carbon connections take every
// descriptor (no connection limit). /healthz says which listener cannot
// accept; once the clients leave, carbon TCP, UDP and HTTP work again and
// the points are stored.
func TestCarbonFloodExhaustsDescriptors(t *testing.T) {
	eachBackend(t, func(t *testing.T, bin, backend string) {
		dir := t.TempDir()
		schemas := writeFile(t, dir, "schemas.conf", limitSchemas)
		p := startLimited(t, bin, 256, "--backend", backend, "--data-dir", dir, "--schemas", schemas,
			"--max-ingest-conns", "-1", "--max-http-conns", "-1", "--ingest-idle-timeout", "0")
		p.checkServes(t, "before")
		started := time.Now()
		conns := flood(t, p.carbon, 300)
		p.waitLog(t, "accepting connections failed", "listener=carbon", "reason=emfile")
		body := p.waitHealth(t, 503, "too many open files")
		// The accept itself or gnet's dup of the accepted descriptor hits
		// the limit first.
		wantLine := fmt.Sprintf("\ningest: ingest listener carbon (tcp %s) cannot accept: ", p.carbon)
		if !strings.HasPrefix(body, "unhealthy\n") || !strings.Contains(body, wantLine) {
			t.Fatalf("/healthz while exhausted:\n%s\nwant a line starting %q", body, wantLine)
		}
		if body := p.waitPath(t, "/readyz", 503, "not ready\ningest: "); !strings.HasPrefix(body, "not ready\ningest: ingest listener carbon") {
			t.Fatalf("/readyz while exhausted: %q", body)
		}
		for _, c := range conns {
			c.Close()
		}
		p.waitHealth(t, 200, "ok\n")
		if c, body, err := p.get("/readyz"); err != nil || c != 200 || body != "ready\n" {
			t.Fatalf("/readyz after recovery: %d %q %v", c, body, err)
		}
		p.waitLog(t, "accepting connections again", "listener=carbon")
		p.checkServes(t, "after")
		if v := p.metric(t, `plumbago_accept_errors_total{listener="carbon",reason="emfile"}`); v < 1 {
			t.Fatalf("carbon emfile accept errors = %v; want > 0", v)
		}
		// At most one line per listener per 10 s (accept.LogEvery).
		lines := 0
		for _, l := range strings.Split(p.log.String(), "\n") {
			if strings.Contains(l, "accepting connections failed") && strings.Contains(l, "listener=carbon") {
				lines++
			}
		}
		if most := 1 + int(time.Since(started)/(10*time.Second)); lines > most {
			t.Errorf("%d carbon accept failure lines in %v; want at most %d", lines, time.Since(started), most)
		}
	})
}

// TestHTTPFloodExhaustsDescriptors: slow HTTP clients (connected, never
// sending a request) take every descriptor. UDP ingest keeps working; once
// they leave, the API answers again by itself (fasthttp alone stopped
// serving for good on "accept4: too many open files").
func TestHTTPFloodExhaustsDescriptors(t *testing.T) {
	eachBackend(t, func(t *testing.T, bin, backend string) {
		dir := t.TempDir()
		schemas := writeFile(t, dir, "schemas.conf", limitSchemas)
		p := startLimited(t, bin, 256, "--backend", backend, "--data-dir", dir, "--schemas", schemas,
			"--max-ingest-conns", "-1", "--max-http-conns", "-1", "--http-read-timeout", "5m")
		conns := flood(t, p.http, 300)
		p.waitLog(t, "accepting connections failed", "listener=http", "reason=emfile")
		// UDP needs no descriptor: a point sent now is stored.
		now := time.Now().Unix()
		ts := now - now%10 - 30
		u, err := net.Dial("udp", p.carbon)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(u, "during.udp 5 %d\n", ts)
		u.Close()
		for _, c := range conns {
			c.Close()
		}
		p.waitHealth(t, 200, "ok\n")
		p.waitLog(t, "accepting connections again", "listener=http")
		want := fmt.Sprintf(`[{"target": "during.udp", "tags": {"name": "during.udp"}, "datapoints": [[5.0, %d]]}]`, ts)
		path := fmt.Sprintf("/render?noCache=1&target=during.udp&from=%d&until=%d&format=json", ts-1, ts+9)
		p.waitRender(t, "UDP point sent while HTTP was exhausted", path, want)
		p.checkServes(t, "after")
		if v := p.metric(t, `plumbago_accept_errors_total{listener="http",reason="emfile"}`); v < 1 {
			t.Fatalf("http emfile accept errors = %v; want > 0", v)
		}
	})
}

// TestConnectionLimitsFromNoFile: with the limits derived from
// RLIMIT_NOFILE 256 (ingest 96, HTTP 32: 256 less 128 kept, 3/4 and 1/4),
// connections past the limit are closed at once and counted, established
// ones keep flowing, and the server stays healthy.
func TestConnectionLimitsFromNoFile(t *testing.T) {
	eachBackend(t, func(t *testing.T, bin, backend string) {
		dir := t.TempDir()
		schemas := writeFile(t, dir, "schemas.conf", limitSchemas)
		p := startLimited(t, bin, 256, "--backend", backend, "--data-dir", dir, "--schemas", schemas)
		if v := p.metric(t, `plumbago_connection_limit{listener="ingest"}`); v != 96 {
			t.Fatalf("ingest connection limit %v; want 96", v)
		}
		if v := p.metric(t, `plumbago_connection_limit{listener="http"}`); v != 32 {
			t.Fatalf("http connection limit %v; want 32", v)
		}
		conns := flood(t, p.carbon, 96)
		deadline := time.Now().Add(30 * time.Second)
		for p.metric(t, "plumbago_connections") != 96 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		for range 10 {
			// The server resets it at once: the dial or the first read fails.
			c, err := net.Dial("tcp", p.carbon)
			if err != nil {
				continue
			}
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
			if err == nil || os.IsTimeout(err) {
				t.Fatalf("connection over the limit: %v; want it closed by the server", err)
			}
		}
		// The counter moves once the server has accepted and closed all 10.
		deadline = time.Now().Add(30 * time.Second)
		for p.metric(t, `plumbago_rejected_connections_total{listener="carbon",reason="limit"}`) < 10 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if v := p.metric(t, `plumbago_rejected_connections_total{listener="carbon",reason="limit"}`); v != 10 {
			t.Fatalf("rejected %v; want 10", v)
		}
		p.waitHealth(t, 200, "ok\n")
		now := time.Now().Unix()
		ts := now - now%10 - 30
		fmt.Fprintf(conns[0], "held.first 1 %d\n", ts)
		fmt.Fprintf(conns[95], "held.last 2 %d\n", ts)
		want := fmt.Sprintf(`[{"target": "held.first", "tags": {"name": "held.first"}, "datapoints": [[1.0, %[1]d]]}, `+
			`{"target": "held.last", "tags": {"name": "held.last"}, "datapoints": [[2.0, %[1]d]]}]`, ts)
		path := fmt.Sprintf("/render?noCache=1&target=held.*&from=%d&until=%d&format=json", ts-1, ts+9)
		p.waitRender(t, "points on connections held at the limit", path, want)
		for _, c := range conns {
			c.Close()
		}
		deadline = time.Now().Add(30 * time.Second)
		for p.metric(t, "plumbago_connections") != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		p.checkServes(t, "after")
	})
}
