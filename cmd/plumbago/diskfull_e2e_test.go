package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage/storetest"
)

// TestDiskFullBackPressuresAndResumes runs the binary on a real 64 MiB tmpfs
// for each backend: filled below the free-space reserve during ingest,
// /healthz says why with 503, TCP ingest pauses (received stays below
// sent), queries answer from disk and the buffer, and once the space is
// freed every point is committed without a restart. Restarted on the full
// volume it starts, serves what it holds, reports 503 and resumes by itself.
func TestDiskFullBackPressuresAndResumes(t *testing.T) {
	eachBackend(t, testDiskFull)
}

func testDiskFull(t *testing.T, bin, backend string) {
	vol := storetest.SmallVolume(t, 64<<20)
	data := filepath.Join(vol, "data")
	schemas := filepath.Join(t.TempDir(), "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 1s:10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(vol, "filler")
	args := []string{"--backend", backend, "--data-dir", data, "--schemas", schemas,
		"--min-free-disk-space", "8MiB", "--pebble-memtable", "1MiB", "--pebble-cache", "1MiB",
		"--write-buffer", "64KiB", "--queue-chunks", "2", "--storage-shards", "2", "--event-loops", "1"}
	p := startPlumbago(t, bin, args...)
	now := time.Now().Unix()
	sent := 0
	send := func(prefix string, series, points int) {
		c, err := net.Dial("tcp", p.carbon)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		w := bufio.NewWriter(c)
		for i := 0; i < points; i++ {
			for s := 0; s < series; s++ {
				fmt.Fprintf(w, "%s.s%04d %d %d\n", prefix, s, i+1, now-int64(points)+int64(i))
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		sent += series * points
	}
	send("a", 100, 10)
	waitMetric(t, p, "plumbago_points_committed_total", float64(sent))

	storetest.Fill(t, filler, 4<<20)
	// 20,000 points of new series: far more than the 64 KiB write buffer
	// and the queues hold, so the server must stop reading the connection.
	done := make(chan struct{})
	go func() { defer close(done); send("b", 400, 50) }()
	code, body := healthz(t, p.http, 60*time.Second, 503)
	if code != 503 || !strings.Contains(body, "storage volume full") {
		t.Fatalf("/healthz on a full volume = %d %q; want 503 naming the full volume", code, body)
	}
	waitMetric(t, p, "plumbago_backpressure_waits_total", 1)
	recv := p.metric(t, "plumbago_points_received_total")
	if recv >= float64(sent+20_000) {
		t.Fatalf("received %v points of %d while the volume is full; ingest did not pause", recv, sent+20_000)
	}
	if got := p.metric(t, "plumbago_points_committed_total"); got != 1000 {
		t.Fatalf("committed %v points while full; want the 1000 written before", got)
	}
	// Back-pressure can start (the small write buffer is full) before the
	// flusher has tried the store and marked series as waiting for it.
	waitMetric(t, p, "plumbago_store_waiting_series", 1)
	// Queries keep answering: a series on disk, one only in the buffer.
	for _, target := range []string{"a.s0007", "b.s0003"} {
		if got := renderCount(t, p.http, target); got == 0 {
			t.Fatalf("render %s while full returned no values", target)
		}
	}
	os.Remove(filler)
	<-done
	waitMetric(t, p, "plumbago_points_committed_total", float64(sent))
	if got := p.metric(t, "plumbago_points_received_total"); got != float64(sent) {
		t.Fatalf("received %v; want %d", got, sent)
	}
	// Everything is written: healthy again at once, not after a 30 s
	// error window (recoveredWithin is far below it).
	if code, body := healthz(t, p.http, recoveredWithin, 200); code != 200 {
		t.Fatalf("/healthz %v after every point was written = %d %q; want 200", recoveredWithin, code, body)
	}
	if got := renderCount(t, p.http, "b.s0399"); got != 50 {
		t.Fatalf("render b.s0399 after resuming: %d values; want 50", got)
	}
	p.stop(t)

	// Start on the full volume.
	storetest.Fill(t, filler, 4<<20)
	p = startAnyHealth(t, bin, args...)
	if code, body := healthz(t, p.http, 10*time.Second, 503); code != 503 {
		t.Fatalf("/healthz started on a full volume = %d %q; want 503", code, body)
	}
	if got := renderCount(t, p.http, "a.s0007"); got != 10 {
		t.Fatalf("render a.s0007 on the full volume: %d values; want 10", got)
	}
	os.Remove(filler)
	// Pebble opened read-only reopens within its space check (5 s).
	if code, body := healthz(t, p.http, spaceCheck+recoveredWithin, 200); code != 200 {
		t.Fatalf("/healthz %v after space returned = %d %q; want 200", spaceCheck+recoveredWithin, code, body)
	}
	before := sent
	send("c", 10, 10)
	waitMetric(t, p, "plumbago_points_committed_total", float64(sent-before))
	p.stop(t)
}

// spaceCheck is how often a store refusing writes looks at its volume
// again (storage/pebble's SpaceCheckInterval; whisper looks at every
// write); recoveredWithin is the slack, on a loaded machine, between the
// volume (or every point) being back and /healthz answering 200. Both are
// far below the 30 s the writer's error window held /healthz at 503
// before a failing write-ahead log was reported only while it fails.
const (
	spaceCheck      = 5 * time.Second
	recoveredWithin = 10 * time.Second
)

// startAnyHealth starts the binary and waits for /healthz to answer at all
// (a server on a full volume answers 503).
func startAnyHealth(t *testing.T, bin string, extra ...string) *proc {
	t.Helper()
	p := launchPlumbago(t, bin, extra...)
	if code, _ := healthz(t, p.http, 30*time.Second, 0); code == 0 {
		t.Fatalf("plumbago did not answer /healthz:\n%s", p.log)
	}
	return p
}

// healthz polls /healthz until it answers want (0: anything) or the
// deadline passes, and returns the last answer.
func healthz(t *testing.T, addr string, within time.Duration, want int) (int, string) {
	t.Helper()
	deadline := time.Now().Add(within)
	code, body := 0, ""
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			code, body = r.StatusCode, string(b)
			if want == 0 || code == want {
				return code, body
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return code, body
}

func waitMetric(t *testing.T, p *proc, name string, atLeast float64) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for p.metric(t, name) < atLeast {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after 90 s; want ≥ %v\n%s", name, p.metric(t, name), atLeast, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// renderCount returns the number of non-null values /render gives target
// over the last 10 minutes.
func renderCount(t *testing.T, addr, target string) int {
	t.Helper()
	return valueCount(getOneSeries(t, "http://"+addr+"/render?format=json&from=-10min&target="+target))
}
