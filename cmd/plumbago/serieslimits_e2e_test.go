package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSeriesLimitsEndToEnd runs the binary on both backends with a series
// cap, a creation rate with a short window and a quota file, and feeds it
// carbon lines: a namespace over quota is refused new series while its
// existing ones keep flowing; series over the creation rate wait and are
// all written, none lost; the quota file is reloaded on change and on
// SIGHUP; past the cap new series are refused and counted, also after a
// restart that counts the stored series again.
//
// The other series-limit tests run under it as subtests, so the binary is
// built once.
func TestSeriesLimitsEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	for _, backend := range []string{"pebble", "whisper"} {
		t.Run(backend, func(t *testing.T) { testSeriesLimits(t, bin, backend) })
	}
	t.Run("churn", func(t *testing.T) { testChurnLoadtestStaysUnderTheCap(t, bin) })
	t.Run("selfmetrics", func(t *testing.T) { testSelfMetricsCountRefusedCreates(t, bin) })
	t.Run("updates", func(t *testing.T) { testMaxUpdatesPerSecond(t, bin) })
	for _, backend := range []string{"pebble", "whisper"} {
		// stored: every point is written before a delete; buffered: the
		// write buffer holds them all (flushed hourly), so the deleted
		// series exist only there and in the index.
		t.Run("delete-"+backend, func(t *testing.T) { testDeleteGivesBackItsPlace(t, bin, backend, false) })
		t.Run("delete-buffered-"+backend, func(t *testing.T) { testDeleteGivesBackItsPlace(t, bin, backend, true) })
	}
}

// testDeleteGivesBackItsPlace fills --max-series and a quota, deletes
// series through /admin/series/delete and sees new series take their
// place: a deleted series no longer counts under the cap or the quota,
// whether it was stored or still only in the write buffer. A rename moves
// a series' usage to its new namespace.
func testDeleteGivesBackItsPlace(t *testing.T, bin, backend string, buffered bool) {
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1h\n")
	quota := writeFile(t, dir, "quotas.conf", "[app]\nmetrics = 1\n")
	args := []string{"--backend", backend, "--data-dir", filepath.Join(dir, "data"), "--schemas", schemas, "--max-series", "3", "--quota-file", quota}
	if buffered {
		args = append(args, "--flush-interval", "1h", "--sync-interval", "1h") // pebble flushes every sync-interval/2
	}
	p := startPlumbago(t, bin, args...)
	now := time.Now().Unix()
	base := now - now%10 - 60
	has := func(target string, v float64) func() bool {
		return func() bool {
			url := fmt.Sprintf("http://%s/render?noCache=1&target=%s&from=%d&until=%d&format=json", p.http, target, base-10, base+30)
			return strings.Contains(readAll(t, url), fmt.Sprintf("[%s, %d]", jsonFloat(v), base))
		}
	}
	metricIs := func(name string, want float64) func() bool {
		return func() bool { return metricOr0(t, p.http, name) == want }
	}
	// settled waits until the admitted points are where the case wants
	// them: all written (stored) or none (buffered).
	settled := func(admitted float64) {
		t.Helper()
		if buffered {
			if got := metricOr0(t, p.http, "plumbago_points_committed_total"); got != 0 {
				t.Fatalf("%v points committed with an hourly flush; want 0", got)
			}
			return
		}
		waitFor(t, fmt.Sprintf("%v points committed", admitted), metricIs("plumbago_points_committed_total", admitted))
	}
	sendCarbon(t, p.carbon, fmt.Sprintf("app.a 1 %d", base), fmt.Sprintf("other.x 2 %d", base))
	waitFor(t, "app.a and other.x", func() bool { return has("app.a", 1)() && has("other.x", 2)() })
	// The quota is full; then the cap (other.x, other.y, app.a).
	sendCarbon(t, p.carbon, fmt.Sprintf("app.b 3 %d", base))
	waitFor(t, "the quota rejection", metricIs(`plumbago_series_rejected_total{reason="quota_metrics",namespace="app"}`, 1))
	sendCarbon(t, p.carbon, fmt.Sprintf("other.y 4 %d", base))
	waitFor(t, "other.y", has("other.y", 4))
	sendCarbon(t, p.carbon, fmt.Sprintf("other.z 5 %d", base))
	waitFor(t, "the cap rejection", metricIs(`plumbago_series_rejected_total{reason="max_series",namespace="/"}`, 1))

	// Deleting app.a frees its place under the quota and the cap.
	settled(3)
	if code, body := postAdmin(t, p.http, "/admin/series/delete", url.Values{"name": {"app.a"}}); code != 200 || !strings.Contains(body, `"app.a"`) {
		t.Fatalf("delete app.a: %d %s", code, body)
	}
	waitFor(t, "app's usage 0", metricIs(`plumbago_quota_usage{pattern="app",namespace="app",resource="metrics"}`, 0))
	sendCarbon(t, p.carbon, fmt.Sprintf("app.b 6 %d", base))
	waitFor(t, "app.b in the freed place", has("app.b", 6))
	waitFor(t, "app's usage 1", metricIs(`plumbago_quota_usage{pattern="app",namespace="app",resource="metrics"}`, 1))
	// The cap is full again until other.x goes.
	sendCarbon(t, p.carbon, fmt.Sprintf("other.z 7 %d", base))
	waitFor(t, "the second cap rejection", metricIs(`plumbago_series_rejected_total{reason="max_series",namespace="/"}`, 2))
	settled(4)
	if code, body := postAdmin(t, p.http, "/admin/series/delete", url.Values{"name": {"other.x"}}); code != 200 || !strings.Contains(body, `"other.x"`) {
		t.Fatalf("delete other.x: %d %s", code, body)
	}
	sendCarbon(t, p.carbon, fmt.Sprintf("other.z 8 %d", base))
	waitFor(t, "other.z in the freed place", has("other.z", 8))
	waitFor(t, "3 series counted", metricIs("plumbago_series_counted", 3))

	// A rename is an operator's act: other.y → app.c is counted under app
	// past its quota, and the cap still holds 3 series.
	settled(5)
	if code, body := postAdmin(t, p.http, "/admin/series/rename", url.Values{"from": {"other.y"}, "to": {"app.c"}}); code != 200 || !strings.Contains(body, `"app.c"`) {
		t.Fatalf("rename other.y: %d %s", code, body)
	}
	waitFor(t, "app's usage 2 after the rename", metricIs(`plumbago_quota_usage{pattern="app",namespace="app",resource="metrics"}`, 2))
	waitFor(t, "app.c", has("app.c", 4))
	if got := metricOr0(t, p.http, "plumbago_series_counted"); got != 3 {
		t.Errorf("series counted after the rename = %v; want 3", got)
	}
	p.stop(t)
}

func testSeriesLimits(t *testing.T, bin, backend string) {
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	quota := filepath.Join(dir, "quotas.conf")
	writeFile := func(p, body string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(schemas, "[all]\npattern = .*\nretentions = 10s:1h\n")
	writeFile(quota, "[app]\nmetrics = 2\n")
	args := []string{"--backend", backend, "--data-dir", dir, "--schemas", schemas,
		"--max-series", "8", "--max-creates-per-minute", "2", "--max-creates-window", "4s",
		"--quota-file", quota, "--quota-reload-interval", "100ms"}
	p := startPlumbago(t, bin, args...)
	now := time.Now().Unix()
	base := now - now%10 - 60
	has := func(target string, v float64, ts int64) func() bool {
		return func() bool {
			url := fmt.Sprintf("http://%s/render?noCache=1&target=%s&from=%d&until=%d&format=json", p.http, target, base-10, base+30)
			return strings.Contains(readAll(t, url), fmt.Sprintf("[%s, %d]", jsonFloat(v), ts))
		}
	}
	metricIs := func(name string, want float64) func() bool {
		return func() bool { return metricOr0(t, p.http, name) == want }
	}

	// Two series of app fill its quota (and the creation bucket).
	sendCarbon(t, p.carbon, fmt.Sprintf("app.a 1 %d", base), fmt.Sprintf("app.b 2 %d", base))
	waitFor(t, "app.a and app.b", func() bool { return has("app.a", 1, base)() && has("app.b", 2, base)() })
	// A third is refused; the existing ones keep flowing.
	sendCarbon(t, p.carbon, fmt.Sprintf("app.c 3 %d", base), fmt.Sprintf("app.a 10 %d", base+10))
	waitFor(t, "the quota rejection", metricIs(`plumbago_series_rejected_total{reason="quota_metrics",namespace="app"}`, 1))
	waitFor(t, "app.a's new point", has("app.a", 10, base+10))
	if got := p.metric(t, `plumbago_points_dropped_total{reason="quota_metrics"}`); got != 1 {
		t.Fatalf("quota_metrics drops = %v; want 1", got)
	}
	if got := readAll(t, "http://"+p.http+"/metrics/find?query=app.*&format=completer"); strings.Contains(got, "app.c") {
		t.Fatalf("find lists the refused series: %s", got)
	}

	// Four new series at once: past the bucket (2 per 4 s) they wait, and
	// every point is written in the end.
	sendCarbon(t, p.carbon, fmt.Sprintf("sys.s1 11 %d", base), fmt.Sprintf("sys.s2 12 %d", base),
		fmt.Sprintf("sys.s3 13 %d", base), fmt.Sprintf("sys.s4 14 %d", base))
	for i := 1; i <= 4; i++ {
		waitFor(t, fmt.Sprintf("sys.s%d", i), has(fmt.Sprintf("sys.s%d", i), float64(10+i), base))
	}
	if got := p.metric(t, "plumbago_series_deferred_total"); got < 2 {
		t.Fatalf("deferred creations = %v; want at least 2 of 4 past a bucket of 2", got)
	}
	if got := p.metric(t, "plumbago_deferred_points"); got != 0 {
		t.Fatalf("deferred points left = %v", got)
	}

	// The quota file changes: app may have 3 series.
	writeFile(quota, "[app]\nmetrics = 3\n")
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(quota, future, future)
	waitFor(t, "the quota reload on change", func() bool { return strings.Count(p.log.String(), "msg=reloaded file="+quota) >= 1 })
	sendCarbon(t, p.carbon, fmt.Sprintf("app.c 30 %d", base+10))
	waitFor(t, "app.c after the reload", has("app.c", 30, base+10))
	// A quota file that does not load keeps the quotas in force.
	writeFile(quota, "[app]\nmetrix = 9\n")
	later := time.Now().Add(4 * time.Second)
	os.Chtimes(quota, later, later)
	waitFor(t, "the failed reload", func() bool {
		return strings.Contains(p.log.String(), "quota file changed but does not load; keeping the old quotas")
	})
	sendCarbon(t, p.carbon, fmt.Sprintf("app.d 50 %d", base+10))
	waitFor(t, "app.d refused under the quota in force", metricIs(`plumbago_series_rejected_total{reason="quota_metrics",namespace="app"}`, 2))
	// SIGHUP reloads too: app may have 4.
	writeFile(quota, "[app]\nmetrics = 4\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the quota reload on SIGHUP", func() bool { return strings.Count(p.log.String(), "msg=reloaded file="+quota) >= 2 })
	sendCarbon(t, p.carbon, fmt.Sprintf("app.d 40 %d", base+10))
	waitFor(t, "app.d after SIGHUP", has("app.d", 40, base+10))
	waitFor(t, "app's usage", metricIs(`plumbago_quota_usage{pattern="app",namespace="app",resource="metrics"}`, 4))

	// 8 series now: the cap. A new one is refused; existing ones flow.
	sendCarbon(t, p.carbon, fmt.Sprintf("cap.a 1 %d", base), fmt.Sprintf("sys.s1 21 %d", base+20))
	waitFor(t, "the cap rejection", metricIs(`plumbago_series_rejected_total{reason="max_series",namespace="/"}`, 1))
	waitFor(t, "sys.s1's new point", has("sys.s1", 21, base+20))
	if got := p.metric(t, "plumbago_series_counted"); got != 8 {
		t.Fatalf("series counted = %v; want 8", got)
	}
	if !p.waitLog("series limit: rejected") {
		t.Fatalf("no rejection logged:\n%s", p.log)
	}
	p.stop(t)

	// After a restart the stored series count against the cap at once.
	p = startPlumbago(t, bin, args...)
	waitFor(t, "the stored series counted", metricIs("plumbago_series_counted", 8))
	sendCarbon(t, p.carbon, fmt.Sprintf("cap.b 1 %d", base), fmt.Sprintf("app.b 22 %d", base+20))
	waitFor(t, "the cap rejection after restart", metricIs(`plumbago_series_rejected_total{reason="max_series",namespace="/"}`, 1))
	waitFor(t, "app.b's new point after restart", has("app.b", 22, base+20))
	p.stop(t)
}

// metricOr0 reads one sample of /metrics; 0 when it is not exposed (yet).
func metricOr0(t *testing.T, httpAddr, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(readAll(t, "http://"+httpAddr+"/metrics"), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// jsonFloat formats v as the render API's JSON does (1.0, 2.5).
func jsonFloat(v float64) string {
	s := fmt.Sprintf("%g", v)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// testChurnLoadtestStaysUnderTheCap is the short CI version of the churn
// load test (docs/bench-rounds.md, "New-series bursts"): `plumbago loadtest
// --scenario churn` sends 10,000 distinct names against a server capped at
// 2,000 series; the write buffer and the index hold 2,000, every other
// point is refused and counted.
func testChurnLoadtestStaysUnderTheCap(t *testing.T, bin string) {
	for _, backend := range []string{"pebble", "whisper"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			p := startPlumbago(t, bin, "--backend", backend, "--data-dir", dir, "--max-series", "2000")
			report := filepath.Join(dir, "churn.json")
			out, err := exec.Command(bin, "loadtest", "--scenario", "churn", "--addr", p.carbon, "--plumbago", "http://"+p.http,
				"--metrics", "1000", "--points", "10", "--settle", "5s", "--quiet", "--json", report,
				"--server-pid", strconv.Itoa(p.cmd.Process.Pid)).CombinedOutput()
			if err != nil {
				t.Fatalf("loadtest: %v\n%s", err, out)
			}
			var rep struct {
				Sent    int64 `json:"points_sent"`
				PeakRSS int64 `json:"server_peak_rss_bytes"`
			}
			b, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Sent != 10_000 || rep.PeakRSS == 0 {
				t.Fatalf("report: %s", b)
			}
			waitFor(t, "every point received", func() bool { return metricOr0(t, p.http, "plumbago_points_received_total") == 10_000 })
			waitFor(t, "8,000 rejections", func() bool {
				return metricOr0(t, p.http, `plumbago_series_rejected_total{reason="max_series",namespace="/"}`) == 8000
			})
			waitFor(t, "2,000 points committed", func() bool { return metricOr0(t, p.http, "plumbago_points_committed_total") == 2000 })
			for name, want := range map[string]float64{
				`plumbago_points_dropped_total{reason="max_series"}`: 8000,
				"plumbago_series":         2000,
				"plumbago_series_counted": 2000,
			} {
				if got := metricOr0(t, p.http, name); got != want {
					t.Errorf("%s = %v; want %v", name, got, want)
				}
			}
			if got := readAll(t, "http://"+p.http+"/metrics/index.json"); strings.Count(got, `"loadtest.churn.`) != 2000 {
				t.Errorf("index.json lists %d names; want 2000", strings.Count(got, `"loadtest.churn.`))
			}
			p.stop(t)
		})
	}
}

// testSelfMetricsCountRefusedCreates: carbon's droppedCreates self-metric
// counts the series a quota refused.
func testSelfMetricsCountRefusedCreates(t *testing.T, bin string) {
	dir := t.TempDir()
	quota := filepath.Join(dir, "quotas.conf")
	cfg := filepath.Join(dir, "plumbago.toml")
	schemas := filepath.Join(dir, "schemas.conf")
	for p, body := range map[string]string{
		// One slot per 1 s report, so no report overwrites another.
		schemas: "[carbon]\npattern = ^carbon\\.\nretentions = 1s:1h\n[all]\npattern = .*\nretentions = 10s:1h\n",
		quota:   "[app]\nmetrics = 1\n",
		cfg:     "[carbon]\nmetric-interval = \"1s\"\nmetric-prefix = \"carbon.agents.lim\"\n",
	} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := startPlumbago(t, bin, "--data-dir", dir, "--quota-file", quota, "--config", cfg, "--schemas", schemas)
	now := time.Now().Unix()
	sendCarbon(t, p.carbon, fmt.Sprintf("app.a 1 %d", now), fmt.Sprintf("app.b 1 %d", now), fmt.Sprintf("app.c 1 %d", now))
	url := fmt.Sprintf("http://%s/render?noCache=1&target=sumSeries(carbon.agents.lim.droppedCreates)&from=-5min&format=json", p.http)
	waitFor(t, "droppedCreates to sum to 2", func() bool {
		var got []renderedSeries
		if err := json.Unmarshal([]byte(readAll(t, url)), &got); err != nil || len(got) != 1 {
			return false
		}
		sum := 0.0
		for _, dp := range got[0].Datapoints {
			if dp[0] != nil {
				sum += *dp[0]
			}
		}
		return sum == 2
	})
	p.stop(t)
}

// testMaxUpdatesPerSecond: on whisper, --max-updates-per-second (carbon's
// MAX_UPDATES_PER_SECOND) writes at most that many series a second and
// the others wait, none lost; on pebble it has no effect and says so.
func testMaxUpdatesPerSecond(t *testing.T, bin string) {
	for _, backend := range []string{"whisper", "pebble"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			p := startPlumbago(t, bin, "--backend", backend, "--data-dir", dir, "--max-updates-per-second", "10")
			now := time.Now().Unix()
			var lines []string
			for i := 0; i < 40; i++ {
				lines = append(lines, fmt.Sprintf("upd.m%02d %d %d", i, i, now))
			}
			sendCarbon(t, p.carbon, lines...)
			waitFor(t, "every point committed", func() bool { return metricOr0(t, p.http, "plumbago_points_committed_total") == 40 })
			throttled := metricOr0(t, p.http, "plumbago_store_updates_throttled_total")
			if backend == "whisper" && throttled == 0 {
				t.Error("40 series at 10 updates a second were never put off")
			}
			if backend == "pebble" && (throttled != 0 || !p.waitLog("--max-updates-per-second has no effect with pebble")) {
				t.Errorf("pebble: throttled %v; log:\n%s", throttled, p.log)
			}
			p.stop(t)
		})
	}
}
