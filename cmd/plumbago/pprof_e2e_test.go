package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

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
