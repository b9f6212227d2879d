package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
)

// vmRSS reads a process's resident set size from /proc/PID/status.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	return procStatusBytes(t, pid, "VmRSS")
}

// procStatusBytes reads one of /proc/PID/status's kB fields (VmRSS,
// RssAnon, ...) in bytes.
func procStatusBytes(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", field, rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestStatsdTimerFloodMemory floods the real binary's statsd port with 16 M
// timer samples on 4 timers (TCP, so none is lost) inside 5 s flush
// intervals, 4,000 times the 1,000-sample cap per timer and loop. With the
// cap the RSS stays under 96 MiB (33 MiB measured) and the flushed count and
// sum of every timer are exact; with the cap and budget lifted the same flood
// peaked at 453 MiB (one run, docs/statsd.md).
func TestStatsdTimerFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const (
		keys     = 4
		perKey   = 4_000_000
		rssBound = 96 << 20
	)
	bin := buildBinary(t)
	saddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	schemas, config := statsdFiles(t, "timerSampleCap = 1000\n")
	// statsdFiles sets a 1 s flush; 5 s intervals hold more samples each.
	cfg, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, bytes.Replace(cfg, []byte(`"1s"`), []byte(`"5s"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPlumbago(t, bin, "--data-dir", t.TempDir(), "--statsd-addr", saddr, "--schemas", schemas,
		"--config", config, "--event-loops", "2", "--memory-budget", "512MiB")
	pid := p.cmd.Process.Pid

	// Key k gets the values 0..999 repeated: sum per key = perKey/1000 · 499500.
	rss := sampleRSS(t, pid)
	statsdTimerFlood(t, saddr, "flood", keys, perKey)
	// Every line is counted at the flush that carries it.
	deadline := time.Now().Add(3 * time.Minute)
	for p.metric(t, "plumbago_statsd_metrics_total") < keys*perKey {
		if time.Now().After(deadline) {
			t.Fatalf("statsd handled %v of %d lines", p.metric(t, "plumbago_statsd_metrics_total"), keys*perKey)
		}
		time.Sleep(200 * time.Millisecond)
	}
	peak := rss.end()
	if dropped := p.metric(t, "plumbago_statsd_timer_samples_dropped_total"); dropped < keys*perKey-2*keys*1000*3 {
		t.Errorf("samples dropped from the reservoirs %v, want nearly all of %d", dropped, keys*perKey)
	}
	for k := 0; k < keys; k++ {
		for _, c := range []struct {
			sub  string
			want float64
		}{{"count", perKey}, {"sum", perKey / 1000 * 499500}} {
			// The flushes with samples are within the last minute; poll
			// until the write buffer made the last one queryable.
			target := fmt.Sprintf("sumSeries(stats.timers.flood.t%d.%s)", k, c.sub)
			var got float64
			for end := time.Now().Add(30 * time.Second); ; {
				got, _ = renderSum(t, p, target)
				if got == c.want || time.Now().After(end) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if got != c.want {
				t.Errorf("timer t%d %s = %v, want exactly %v", k, c.sub, got, c.want)
			}
		}
	}
	t.Logf("peak RSS %.1f MiB over %d timer samples", float64(peak)/(1<<20), keys*perKey)
	if peak > rssBound {
		t.Errorf("peak RSS %d MiB, want under %d MiB", peak>>20, rssBound>>20)
	}
	p.stop(t)
}
