package main

import (
	"bufio"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestWriteBufferPausesTCPSenders (issue #19 item 2): the binary with a
// 2 MiB write buffer (--write-buffer: 1 MiB of it is the queues' chunks at
// 2 loops × 2 shards × 8 chunks of 32 KiB, the other 1 MiB bounds what the
// shards hold) takes 40,000 new series × 5 points from four TCP senders,
// far more than 1 MiB of series and points while pebble creates the
// series. The event loops stop reading (plumbago_backpressure_waits_total
// rises) instead of dropping; the buffer's bytes, sampled from /metrics
// all along, stay within the bound plus the one chunk each shard takes
// while under it; every point is committed and reads back exactly.
func TestWriteBufferPausesTCPSenders(t *testing.T) {
	const series, perSeries = 40_000, 5
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1h\n")
	cfg := writeFile(t, dir, "plumbago.toml", "[carbon]\nmetric-interval = \"0s\"\n")
	p := startPlumbago(t, bin, "--config", cfg, "--backend", "pebble", "--data-dir", filepath.Join(dir, "data"),
		"--schemas", schemas, "--max-series", "-1", "--event-loops", "2", "--storage-shards", "2",
		"--queue-chunks", "8", "--write-buffer", "2MiB")
	const limit = 1 << 20
	if got := p.metric(t, "plumbago_write_buffer_limit_bytes"); got != limit {
		t.Fatalf("plumbago_write_buffer_limit_bytes = %v; want %d (2 MiB less 1 MiB of queue chunks)", got, limit)
	}
	var maxSeen atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			// Not p.metric: it may not fail the test from this goroutine.
			if b, ok := scrapeGauge(p, "plumbago_write_buffer_bytes"); ok && b > maxSeen.Load() {
				maxSeen.Store(b)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	now := time.Now().Unix()
	base := now - now%10 - 10*perSeries
	burstSeries(t, p, series, perSeries, base) // 4 connections; waits until all are committed
	close(stop)
	<-sampled
	if got := p.metric(t, "plumbago_points_committed_total"); got != series*perSeries {
		t.Fatalf("committed %v points; want exactly %d", got, series*perSeries)
	}
	if got := p.metric(t, "plumbago_backpressure_waits_total"); got == 0 {
		t.Fatal("plumbago_backpressure_waits_total = 0: the senders were never paused")
	}
	// Each of the 2 shards takes at most one chunk (512 points, here of
	// new series: struct, map slot, an 18-byte name and a 1-point slice,
	// under 256 bytes) while under the bound.
	if slack := int64(2 * 512 * 256); maxSeen.Load() > limit+slack {
		t.Fatalf("write buffer held %d bytes; bound %d plus %d", maxSeen.Load(), limit, slack)
	}
	t.Logf("most bytes seen in the write buffer: %d (bound %d); %v back-pressure waits", maxSeen.Load(), limit,
		p.metric(t, "plumbago_backpressure_waits_total"))
	for _, i := range []int{0, 1, series / 2, series - 1} {
		var want string
		for j := 0; j < perSeries; j++ {
			if j > 0 {
				want += ", "
			}
			want += fmt.Sprintf("[%d.25, %d]", j, base+int64(j)*10)
		}
		name := fmt.Sprintf("burst.b%03d.s%06d", i%1000, i)
		want = fmt.Sprintf(`[{"target": "%s", "tags": {"name": "%s"}, "datapoints": [%s]}]`, name, name, want)
		got := renderGet(t, p.http, fmt.Sprintf("target=%s&from=%d&until=%d", name, base-10, base+10*perSeries))
		if got.code != 200 || got.body != want {
			t.Fatalf("render %s: %d %s\nwant %s", name, got.code, got.body, want)
		}
	}
	p.stop(t)
}

// scrapeGauge reads one unlabelled sample from /metrics; ok is false when
// the scrape fails or the sample is missing.
func scrapeGauge(p *proc, name string) (int64, bool) {
	r, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		return 0, false
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			return int64(v), err == nil
		}
	}
	return 0, false
}
