package ingest_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/ingest/line"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestBindErrorNamesAddress: a port held by another program fails Start
// with the address and the OS error (gnet's keep-alive setting used to
// overwrite EADDRINUSE with "setsockopt: bad file descriptor").
func TestBindErrorNamesAddress(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
			var holder io.Closer
			var err error
			if network == "tcp" {
				holder, err = net.Listen("tcp", addr)
			} else {
				holder, err = net.ListenPacket("udp", addr)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			h := &line.Handler{}
			srv, err := ingest.NewServer(ingest.Config{
				NewSink: (&ingesttest.Collector{}).NewSink,
				Logger:  quietLogger(),
			}, []ingest.Listener{{Name: "carbon", Network: "tcp", Addr: addr, Handler: h}, {Name: "carbon", Network: "udp", Addr: addr, Handler: h}})
			if err != nil {
				t.Fatal(err)
			}
			err = srv.Start()
			if err == nil {
				t.Fatal("Start succeeded on a port another socket holds")
			}
			want := fmt.Sprintf("listen %s %s: bind: address already in use", network, addr)
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("Start error %q; want it to contain %q", err, want)
			}
		})
	}
}

func startCarbon(t *testing.T, cfg ingest.Config) (*ingest.Server, string, *ingesttest.Collector) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	col := &ingesttest.Collector{}
	h := &line.Handler{}
	cfg.EventLoops = 2
	cfg.NewSink = col.NewSink
	cfg.Logger = quietLogger()
	srv := ingesttest.StartServer(t, cfg, ingest.Listener{Name: "carbon", Network: "tcp", Addr: addr, Handler: h})
	return srv, addr, col
}

// TestConnectionLimit: over MaxConns a new connection is closed at once and
// counted; open ones keep delivering points.
func TestConnectionLimit(t *testing.T) {
	srv, addr, col := startCarbon(t, ingest.Config{MaxConns: 2})
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// Both are in (the gauge counts them once gnet opened them).
	deadline := time.Now().Add(20 * time.Second)
	for srv.Connections.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if over, err := net.Dial("tcp", addr); err == nil {
		over.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := over.Read(make([]byte, 1))
		over.Close()
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("third connection: read err %v; want closed by the server", err)
		}
	}
	for i, c := range conns {
		if _, err := fmt.Fprintf(c, "m%d 1 100\n", i); err != nil {
			t.Fatal(err)
		}
	}
	got := wait(t, col, 2)
	if fmt.Sprint(got) != fmt.Sprint([]point{{Name: "m0", TS: 100, V: 1}, {Name: "m1", TS: 100, V: 1}}) {
		t.Fatalf("points %v", got)
	}
	st := srv.ListenerStats()
	if len(st) != 1 || st[0].Name != "carbon" || st[0].Rejected != 1 || st[0].Accepted != 2 {
		t.Fatalf("listener stats %+v; want carbon with 1 rejected, 2 accepted", st)
	}
	if srv.Health() != nil {
		t.Fatalf("health %v; a full connection limit is not a failure", srv.Health())
	}
	// A closed connection frees its slot.
	conns[0].Close()
	deadline = time.Now().Add(20 * time.Second)
	for srv.Connections.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "m2 1 100\n"); err != nil {
		t.Fatal(err)
	}
	wait(t, col, 1)
}

// TestIdleTimeout: a connection that sends nothing is closed after
// IdleTimeout; one that keeps sending is not.
func TestIdleTimeout(t *testing.T) {
	srv, addr, col := startCarbon(t, ingest.Config{IdleTimeout: time.Second})
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	closed := make(chan error, 1)
	go func() {
		idle.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := idle.Read(make([]byte, 1))
		closed <- err
	}()
	sent := 0
	for done := false; !done; {
		select {
		case err := <-closed:
			if err != io.EOF {
				t.Fatalf("idle connection read: %v; want EOF from the server", err)
			}
			done = true
		case <-time.After(200 * time.Millisecond):
			if _, err := fmt.Fprintf(busy, "busy %d 100\n", sent); err != nil {
				t.Fatalf("busy connection closed: %v", err)
			}
			sent++
		}
	}
	if _, err := fmt.Fprintf(busy, "busy %d 100\n", sent); err != nil {
		t.Fatalf("busy connection closed: %v", err)
	}
	sent++
	wait(t, col, sent)
	if st := srv.ListenerStats(); st[0].IdleClosed != 1 {
		t.Fatalf("idle closed %d; want 1", st[0].IdleClosed)
	}
}
