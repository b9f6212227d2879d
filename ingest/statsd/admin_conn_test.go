package statsd

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/ingesttest"
)

// halfClose sends cmd, closes the sending half (as `nc -q1` does once its
// input ends) and reads the reply until the server closes.
func halfClose(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, cmd); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: reading the reply: %v (got %q)", cmd, err, b)
	}
	return string(b)
}

// TestAdminAnswersHalfClosedClients runs the console on ingest.Server (as
// plumbago serve does) and sends every command the way scripts do,
// `printf 'cmd\n' | nc -q1 host 8126`: the whole live reply must arrive
// before the connection closes.
func TestAdminAnswersHalfClosedClients(t *testing.T) {
	cfg := DefaultConfig()
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(cfg)
	var srv *ingest.Server
	admin := NewAdmin(f, func(fn func(*Loop)) { h.LoopRunner(srv)(fn) })
	udp := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	adminAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	srv = ingesttest.StartServer(t, ingest.Config{
		EventLoops: 2,
		NewSink:    func() ingest.SinkFlusher { return nopSink{} },
	}, ingest.Listener{Name: "statsd", Network: "udp", Addr: udp, Handler: h},
		ingest.Listener{Name: "statsd-admin", Network: "tcp", Addr: adminAddr, Handler: &AdminHandler{Admin: admin}})

	u, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.Write([]byte("t:5|ms\nt:-0|ms\ng:4|g\na:1|c\ns:x|s\nfoo.b:2|c")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(halfClose(t, adminAddr, "counters\n"), "a: 1") {
		if time.Now().After(deadline) {
			t.Fatal("the datagram never showed in counters")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range []struct{ cmd, want string }{
		{"timers\n", "{ t: [ 5, -0 ] }\nEND\n\n"},
		{"gauges\n", "{ g: 4 }\nEND\n\n"},
		{"sets\n", "{ s: [ 'x' ] }\nEND\n\n"},
		{"counters\n", "{\n  'statsd.bad_lines_seen': 0,\n  'statsd.packets_received': 1,\n  'statsd.metrics_received': 6,\n  a: 1,\n  'foo.b': 2\n}\nEND\n\n"},
		{"delcounters foo.*\n", "deleted: foo.b\nEND\n\n"},
		{"deltimers t\n", "deleted: t\nEND\n\n"},
		{"delgauges g\n", "deleted: g\nEND\n\n"},
		{"delsets s\n", "deleted: s\nEND\n\n"},
		{"timers\n", "{}\nEND\n\n"},
		{"health\n", "health: up\n"},
		{"nosuch\n", "ERROR\n"},
		{"quit\n", ""},
	} {
		if got := halfClose(t, adminAddr, c.cmd); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.cmd, got, c.want)
		}
	}
	stats := halfClose(t, adminAddr, "stats\n")
	if !regexp.MustCompile(`^uptime: \d+\nmessages\.last_msg_seen: -?\d+\nmessages\.bad_lines_seen: 0\n(.*\n){4}END\n\n$`).MatchString(stats) {
		t.Errorf("stats:\n%q", stats)
	}
	// A client that keeps its side open gets one reply per command.
	c, err := net.Dial("tcp", adminAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 100)
	for range 2 {
		if _, err := io.WriteString(c, "health\n"); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := io.ReadAtLeast(c, buf, len("health: up\n"))
		if err != nil || string(buf[:n]) != "health: up\n" {
			t.Fatalf("health on an open connection: %q, %v", buf[:n], err)
		}
	}
}
