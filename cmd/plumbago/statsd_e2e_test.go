package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
)

// statsdFiles writes a 1 s schema (so every 1 s flush is its own point) and
// a config with extra [statsd] lines and deleteIdleStats (so idle keys do not
// write zeros over the values under test).
func statsdFiles(t *testing.T, statsdTOML string) (schemas, config string) {
	t.Helper()
	dir := t.TempDir()
	schemas = filepath.Join(dir, "schemas.conf")
	config = filepath.Join(dir, "plumbago.toml")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 1s:1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "statsd-flush-interval = \"1s\"\n\n[statsd]\ndeleteIdleStats = true\n" + statsdTOML
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return schemas, config
}

// TestStatsdEndToEnd runs the binary with statsd on, sends a 60 KiB
// datagram, TCP lines and admin commands, and reads the flushed series back
// through the render API.
func TestStatsdEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	sport, aport := ingesttest.FreePort(t), ingesttest.FreePort(t)
	saddr, aaddr := fmt.Sprintf("127.0.0.1:%d", sport), fmt.Sprintf("127.0.0.1:%d", aport)
	schemas, config := statsdFiles(t, "")
	p := startPlumbago(t, bin, "--data-dir", t.TempDir(), "--statsd-addr", saddr, "--statsd-admin-addr", aaddr,
		"--schemas", schemas, "--config", config)

	// One datagram of ~60 KiB: none of its lines may be lost.
	var b strings.Builder
	n := 0
	for b.Len() < 60<<10 {
		fmt.Fprintf(&b, "big.k%d:1|c\n", n)
		n++
	}
	u, err := net.Dial("udp", saddr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("gg:42|g\nbad line"))
	c, err := net.Dial("tcp", saddr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("tcp.a:2|c\ntcp.a:3|c\npartial:1|c"))
	c.Close()

	admin := func(cmd string) string {
		c, err := net.Dial("tcp", aaddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte(cmd))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var out []byte
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			out = append(out, buf[:k]...)
			if err != nil || strings.HasSuffix(string(out), "\n\n") || strings.HasPrefix(string(out), "health") ||
				strings.Contains(string(out), "globalSuffix: ") {
				return string(out)
			}
		}
	}
	if got := admin("health"); got != "health: up\n" {
		t.Errorf("health: %q", got)
	}

	// Wait for the flushed values to be queryable.
	sum := func(target string) (float64, bool) { return renderSum(t, p, target) }
	want := map[string]float64{
		"stats_counts.big.k0": 1, "stats_counts.big.k" + strconv.Itoa(n-1): 1, "stats_counts.tcp.a": 5,
		"stats_counts.statsd.metrics_received": float64(n + 4), "stats_counts.statsd.bad_lines_seen": 1,
	}
	deadline := time.Now().Add(15 * time.Second)
	for name, w := range want {
		for {
			got, ok := sum(name)
			if ok && got == w {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v (seen %v), want %v\n%s", name, got, ok, w, p.log)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if got, _ := sum("stats_counts.partial"); got != 0 {
		t.Errorf("unterminated TCP line counted: %v", got)
	}
	if got := admin("config"); !strings.Contains(got, "deleteIdleStats: true\n") {
		t.Errorf("admin config: %q", got)
	}
	if v := p.metric(t, "plumbago_statsd_udp_drops_total"); v != 0 {
		t.Errorf("udp drops %v", v)
	}
	if v := p.metric(t, "plumbago_statsd_udp_rcvbuf_bytes"); v <= 0 {
		t.Errorf("rcvbuf %v", v)
	}
	// On Linux the UDP readers read every datagram with recvmmsg; elsewhere
	// gnet reads them, one per readiness event.
	ev, mm := p.metric(t, `plumbago_udp_datagrams_total{read="event"}`), p.metric(t, `plumbago_udp_datagrams_total{read="recvmmsg"}`)
	wantEv, wantMM := 2.0, 0.0
	if runtime.GOOS == "linux" {
		wantEv, wantMM = 0, 2
	}
	if ev != wantEv || mm != wantMM {
		t.Errorf("UDP datagrams read: %v by events + %v by recvmmsg; want %v + %v", ev, mm, wantEv, wantMM)
	}
	// The readers' pacing sleeps are exposed (how many depends on timing).
	t.Logf("UDP reader sleeps: %v", p.metric(t, "plumbago_udp_reader_sleeps_total"))
	p.stop(t)
}

// TestStatsdConfigFile checks that the [statsd] table of the TOML config
// reaches the statsd server.
func TestStatsdConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	sport := ingesttest.FreePort(t)
	saddr := fmt.Sprintf("127.0.0.1:%d", sport)
	schemas, cfgPath := statsdFiles(t, "prefixStats = \"sd\"\npercentThreshold = [50]\n\n"+
		"[statsd.graphite]\nlegacyNamespace = false\nglobalPrefix = \"app\"\n")
	p := startPlumbago(t, bin, "--data-dir", t.TempDir(), "--config", cfgPath, "--schemas", schemas, "--statsd-addr", saddr)
	u, err := net.Dial("udp", saddr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("a:3|c\nt:1|ms\nt:3|ms"))
	deadline := time.Now().Add(15 * time.Second)
	for target, want := range map[string]float64{"app.counters.a.count": 3, "app.timers.t.upper_50": 1,
		"app.counters.sd.metrics_received.count": 3} {
		for {
			got, ok := renderSum(t, p, target)
			if ok && got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v (seen %v), want %v\n%s", target, got, ok, want, p.log)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	p.stop(t)
}

// renderSum sums the datapoints /render returns for target over the last
// minute; ok is false when there are none.
func renderSum(t *testing.T, p *proc, target string) (float64, bool) {
	t.Helper()
	now := time.Now().Unix()
	url := fmt.Sprintf("http://%s/render?noCache=1&target=%s&from=%d&until=%d&format=json", p.http, target, now-60, now+5)
	var series []renderedSeries
	if err := json.Unmarshal([]byte(readAll(t, url)), &series); err != nil || len(series) == 0 {
		return 0, false
	}
	total, seen := 0.0, false
	for _, dp := range series[0].Datapoints {
		if dp[0] != nil {
			total += *dp[0]
			seen = true
		}
	}
	return total, seen
}
