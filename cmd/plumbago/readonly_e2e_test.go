package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage/storetest"
)

// TestVolumeTurnsReadOnlyAtRunTime runs the binary, for each backend, on
// a real ext4 volume (a loop device mounted errors=remount-ro) that the
// kernel turns read-only under it, with its files open, as a cloud volume
// does after an I/O error. The server stays up: /healthz answers 503
// naming the read-only storage, carbon UDP datagrams it cannot store are
// dropped and counted (plumbago_points_dropped_total{reason=
// "udp_storage_unavailable"}), TCP ingest pauses, queries answer. SIGTERM
// still ends it (pebble alone panics at its first failed log write). After
// the operator's repair (unmount, e2fsck, mount) it starts again with
// everything stored before the failure and takes writes.
func TestVolumeTurnsReadOnlyAtRunTime(t *testing.T) {
	eachBackend(t, testReadOnlyAtRunTime)
}

func testReadOnlyAtRunTime(t *testing.T, bin, backend string) {
	vol := storetest.Ext4Volume(t, 128<<20)
	schemas := filepath.Join(t.TempDir(), "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 1s:10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--backend", backend, "--data-dir", filepath.Join(vol.Dir, "data"), "--schemas", schemas,
		"--min-free-disk-space", "8MiB", "--pebble-memtable", "1MiB", "--pebble-cache", "1MiB",
		"--write-buffer", "64KiB", "--queue-chunks", "2", "--storage-shards", "2", "--event-loops", "1",
		"--sync-interval", "100ms"}
	now := time.Now().Unix()
	// sendTCP writes series × points lines over one connection; errors
	// end it quietly (the server may stop while it is blocked).
	sendTCP := func(addr, prefix string, series, points int) error {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		w := bufio.NewWriter(c)
		for i := 0; i < points; i++ {
			for s := 0; s < series; s++ {
				fmt.Fprintf(w, "%s.s%04d %d %d\n", prefix, s, i+1, now-int64(points)+int64(i))
			}
		}
		return w.Flush()
	}

	// Points stored and durable before the failure (a clean stop).
	p := startPlumbago(t, bin, args...)
	if err := sendTCP(p.carbon, "a", 100, 10); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, p, "plumbago_points_committed_total", 1000)
	p.stop(t)

	p = startPlumbago(t, bin, args...)
	vol.Fail(t)
	// UDP first, while the event loop is free: new series fill the 2,048
	// points the write buffer holds, then further datagrams are dropped
	// and counted instead of blocking the loop.
	u, err := net.Dial("udp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	const udpDropped = `plumbago_points_dropped_total{reason="udp_storage_unavailable"}`
	deadline := time.Now().Add(90 * time.Second)
	for d := 0; p.metric(t, udpDropped) < 10; d++ {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after 90 s of UDP to a read-only volume; want ≥ 10\n%s", udpDropped, p.metric(t, udpDropped), p.log)
		}
		var b strings.Builder
		for s := 0; s < 10; s++ {
			fmt.Fprintf(&b, "u.d%05d.s%d 1 %d\n", d, s, now)
		}
		if _, err := u.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // pacing the sender, not synchronisation
	}
	code, body := healthz(t, p.http, 60*time.Second, 503)
	if code != 503 || !strings.Contains(body, "storage: ") || !strings.Contains(body, "read-only") {
		t.Fatalf("/healthz on a read-only volume = %d %q; want 503 naming read-only storage", code, body)
	}
	if got := p.metric(t, "plumbago_store_waiting_series"); got < 1 {
		t.Fatalf("plumbago_store_waiting_series = %v on a read-only volume; want ≥ 1", got)
	}
	// TCP: 20,000 points are far more than the buffer: ingest pauses.
	received := p.metric(t, "plumbago_points_received_total")
	go sendTCP(p.carbon, "b", 400, 50) //nolint:errcheck // ends when the server stops
	waitMetric(t, p, "plumbago_backpressure_waits_total", 1)
	if got := p.metric(t, "plumbago_points_received_total"); got >= received+20_000 {
		t.Fatalf("received %v points (%v before the TCP sender) on a read-only volume; ingest did not pause", got, received)
	}
	// Queries answer from what is stored.
	if got := renderCount(t, p.http, "a.s0007"); got != 10 {
		t.Fatalf("render a.s0007 on a read-only volume: %d values; want 10", got)
	}
	// SIGTERM ends it: what the volume did not take is lost (logged), the
	// process does not hang or panic.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(90 * time.Second):
		t.Fatalf("plumbago did not exit within 90 s of SIGINT on a read-only volume:\n%s", p.log)
	}
	if strings.Contains(p.log.String(), "panic") {
		t.Fatalf("plumbago panicked on a read-only volume:\n%s", p.log)
	}

	// The operator's repair; the server starts with what it had stored.
	vol.Repair(t)
	p = startPlumbago(t, bin, args...)
	defer p.stop(t)
	if got := renderCount(t, p.http, "a.s0007"); got != 10 {
		t.Fatalf("render a.s0007 after the repair: %d values; want 10", got)
	}
	if err := sendTCP(p.carbon, "c", 10, 10); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, p, "plumbago_points_committed_total", 100)
	if got := renderCount(t, p.http, "c.s0009"); got != 10 {
		t.Fatalf("render c.s0009 after the repair: %d values; want 10", got)
	}
}

// TestStartsOnReadOnlyVolume: the binary, for each backend, started on a
// data volume mounted read-only (a tmpfs remounted while the server was
// stopped) starts, answers /healthz 503 naming the read-only storage,
// serves what is stored, accepts points into its buffer, and once the
// volume is remounted writable writes them and answers 200 by itself.
// (It used to exit at start: the write-ahead log's and the events file's
// creation failed.)
func TestStartsOnReadOnlyVolume(t *testing.T) {
	eachBackend(t, testStartsOnReadOnly)
}

func testStartsOnReadOnly(t *testing.T, bin, backend string) {
	vol := storetest.SmallVolume(t, 128<<20)
	schemas := filepath.Join(t.TempDir(), "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 1s:10m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--backend", backend, "--data-dir", filepath.Join(vol, "data"), "--schemas", schemas,
		"--min-free-disk-space", "8MiB", "--pebble-memtable", "1MiB", "--pebble-cache", "1MiB", "--sync-interval", "100ms"}
	now := time.Now().Unix()
	send := func(addr, lines string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(lines)); err != nil {
			t.Fatal(err)
		}
	}
	p := startPlumbago(t, bin, args...)
	send(p.carbon, fmt.Sprintf("a.x 1 %d\na.x 2 %d\na.x 3 %d\n", now-3, now-2, now-1))
	waitMetric(t, p, "plumbago_points_committed_total", 3)
	p.stop(t)

	storetest.Remount(t, vol, true)
	p = startAnyHealth(t, bin, args...)
	defer p.stop(t)
	code, body := healthz(t, p.http, 30*time.Second, 503)
	if code != 503 || !strings.Contains(body, "storage: ") || !strings.Contains(body, "read-only") {
		storetest.Remount(t, vol, false)
		t.Fatalf("/healthz on a read-only volume = %d %q; want 503 naming read-only storage", code, body)
	}
	if got := renderCount(t, p.http, "a.x"); got != 3 {
		storetest.Remount(t, vol, false)
		t.Fatalf("render a.x on a read-only volume: %d values; want 3", got)
	}
	send(p.carbon, fmt.Sprintf("b.x 5 %d\n", now))
	waitMetric(t, p, "plumbago_points_received_total", 1)
	if got := renderCount(t, p.http, "b.x"); got != 1 {
		storetest.Remount(t, vol, false)
		t.Fatalf("render b.x (buffered) on a read-only volume: %d values; want 1", got)
	}
	storetest.Remount(t, vol, false)
	waitMetric(t, p, "plumbago_points_committed_total", 1)
	// The point is written: healthy within the slack (the write-ahead
	// log's failures to open a segment end at its next sync, 100 ms).
	if code, body := healthz(t, p.http, recoveredWithin, 200); code != 200 {
		t.Fatalf("/healthz %v after the buffered point was written to the remounted volume = %d %q; want 200", recoveredWithin, code, body)
	}
	if got := renderCount(t, p.http, "b.x"); got != 1 {
		t.Fatalf("render b.x after resuming: %d values; want 1", got)
	}
}
