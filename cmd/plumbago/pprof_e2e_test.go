package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
)

// TestPprofAddr: serve --pprof-addr answers Go's heap profile and index on
// its own listener, and the API listener does not.
func TestPprofAddr(t *testing.T) {
	bin := buildBinary(t)
	addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	p := startPlumbago(t, bin, "--data-dir", t.TempDir(), "--pprof-addr", addr)
	get := func(url string) (int, string) {
		t.Helper()
		r, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get("http://" + addr + "/debug/pprof/heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile:") {
		t.Fatalf("heap profile: %d %.200q", code, body)
	}
	if code, body := get("http://" + addr + "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof index: %d %.200q", code, body)
	}
	if code, _ := get("http://" + p.http + "/debug/pprof/heap"); code == 200 {
		t.Fatal("the API listener serves profiles too")
	}
}

// TestSIGTERMDuringStartStopsCleanly sends SIGTERM while the server is
// still starting (its --pprof-addr listener answers before start-up begins;
// /healthz answers before start-up ends). The signal must be handled as any
// other: the server finishes starting, then writes what it accepted and
// exits 0, instead of Go's default action killing it.
func TestSIGTERMDuringStartStopsCleanly(t *testing.T) {
	bin := buildBinary(t)
	addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	p := launchPlumbago(t, bin, "--data-dir", t.TempDir(), "--pprof-addr", addr)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pprof listener did not answer:\n%s", p.log)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("plumbago exited with %v:\n%s", err, p.log)
	}
	for _, want := range []string{`msg="plumbago started"`, `msg="signal received, writing everything accepted before exit" signal=terminated`, `msg="plumbago stopped"`} {
		if !strings.Contains(p.log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, p.log)
		}
	}
}
