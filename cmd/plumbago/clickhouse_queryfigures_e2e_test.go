package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/loadtest"
	"github.com/plumbago/plumbago/storage/clickhouse/chtest"
)

// The query-vs dataset's schema (loadtest/scripts/bench-query-vs-vm.sh):
// every point a row of its own for a day, so a 6 h render reads 2,160
// points a series in every store.
const (
	qvsSchemas     = "[app]\npattern = ^app\\.\nretentions = 10s:1d\n\n[default]\npattern = .*\nretentions = 10s:1d\n"
	qvsAggregation = "[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"
)

// TestClickHouseQueryFigures measures docs/clickhouse.md's render table:
// the query-vs scenario of docs/benchmarks.md (`plumbago loadtest
// --scenario query-vs`: issue 18's six queries and the Grafana POST, with
// graphite functions) on (a) Plumbago on pebble, (b) Plumbago on
// ClickHouse and (c) carbonapi in front of graphite-clickhouse reading the
// tables (b) wrote: the same points, one ClickHouse server. Response
// caches are off everywhere. It prints the loadtest table and then
// compares every query's JSON answer of (b) and (c) with (a)'s (the
// same names, timestamps and values within 1e-9 relative). Opt-in
// (PLUMBAGO_CH_FIGURES=1): a measurement of minutes, not a check for CI.
// PLUMBAGO_QVS_SERIES (default 6000), PLUMBAGO_QVS_SEQ (20),
// PLUMBAGO_QVS_CLIENTS (8) and PLUMBAGO_QVS_DURATION (10s) size it.
func TestClickHouseQueryFigures(t *testing.T) {
	if os.Getenv("PLUMBAGO_CH_FIGURES") == "" {
		t.Skip("a measurement for docs/clickhouse.md: scripts/install-clickhouse-tools.sh --carbonapi; PLUMBAGO_CH_FIGURES=1 go test -run TestClickHouseQueryFigures -v -timeout 60m ./cmd/plumbago/")
	}
	gcBin, capiBin := chTool(t, "graphite-clickhouse"), chTool(t, "carbonapi")
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas, aggregation := writeFile(t, dir, "schemas.conf", qvsSchemas), writeFile(t, dir, "aggregation.conf", qvsAggregation)
	common := []string{"--schemas", schemas, "--aggregation", aggregation, "--render-cache", "-1", "--max-series", "-1"}
	rollupXML := chRollup(t, bin, schemas, aggregation)
	srv := chtest.Start(t, t.TempDir(), chtest.Options{ConfigD: map[string]string{"graphite_rollup.xml": rollupXML}})
	t.Cleanup(srv.Stop)
	const db = "qvs"
	applyDDL(t, bin, srv, db)

	pb := startPlumbago(t, bin, append([]string{"--backend", "pebble", "--data-dir", t.TempDir()}, common...)...)
	ch := startPlumbago(t, bin, append([]string{"--backend", "clickhouse", "--data-dir", t.TempDir(),
		"--clickhouse-url", srv.URL, "--clickhouse-database", db}, common...)...)
	gc := startTool(t, "graphite-clickhouse", gcBin, graphiteClickHouseConf(srv.URL, db, writeFile(t, dir, "rollup.xml", rollupXML)))
	capi := startTool(t, "carbonapi", capiBin, carbonapiConf("http://"+gc.addr))

	cfg := loadtest.QueryVsConfig{
		Servers: []loadtest.QueryServer{
			{Name: "pebble", HTTP: "http://" + pb.http, Carbon: pb.carbon, Counter: "plumbago_points_committed_total"},
			{Name: "Plumbago CH", HTTP: "http://" + ch.http, Carbon: ch.carbon, Counter: "plumbago_points_committed_total"},
			{Name: "carbonapi+g-ch", HTTP: "http://" + capi.addr},
		},
		Series: envInt(t, "PLUMBAGO_QVS_SERIES", 6000), Points: 2160, Step: 10 * time.Second, Conns: 4, Load: true,
		Warmup: 2, Seq: envInt(t, "PLUMBAGO_QVS_SEQ", 20), Clients: envInt(t, "PLUMBAGO_QVS_CLIENTS", 8), Duration: 10 * time.Second,
		Queries: loadtest.DefaultQueryCases(),
	}
	if d := os.Getenv("PLUMBAGO_QVS_DURATION"); d != "" {
		var err error
		if cfg.Duration, err = time.ParseDuration(d); err != nil {
			t.Fatal(err)
		}
	}
	// Progress goes to stderr as it happens (the run takes minutes).
	stats, err := loadtest.RunQueryVs(context.Background(), cfg, os.Stderr)
	if err != nil {
		t.Fatalf("query-vs: %v\ncarbonapi:\n%s\ngraphite-clickhouse:\n%s", err, capi.log, gc.log)
	}
	var table strings.Builder
	if err := loadtest.WriteQueryVsTable(&table, cfg, stats); err != nil {
		t.Fatal(err)
	}
	t.Logf("load average %s\n%s", loadAverage(), table.String())
	// The answers are compared over one fixed window: "-6h" to "now"
	// moves by a step between two servers' renders.
	now := time.Now().Unix()
	for _, q := range cfg.Queries {
		q.Form = maps.Clone(q.Form)
		q.Form.Set("from", strconv.FormatInt(now-6*3600, 10))
		q.Form.Set("until", strconv.FormatInt(now, 10))
		ref := renderSeries(t, cfg.Servers[0], q)
		for _, s := range cfg.Servers[1:] {
			t.Logf("%s vs pebble, %s: %s", s.Name, q.Name, compareSeries(ref, renderSeries(t, s, q)))
		}
	}
	for _, p := range []*proc{pb, ch} {
		var errs []string
		for _, l := range strings.Split(p.log.String(), "\n") {
			if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
				errs = append(errs, l)
			}
		}
		if len(errs) > 0 {
			t.Logf("%d errors and warnings of %s, the first:\n%s", len(errs), p.http, strings.Join(errs[:min(len(errs), 3)], "\n"))
		}
	}
}

// sameName compares a series' names as graphite-web and carbonapi write
// them: carbonapi keeps the query's quotes and spacing ('5min'),
// graphite-web writes its own ("5min", a space after each comma).
func sameName(a, b string) bool {
	norm := func(s string) string { return strings.NewReplacer("'", `"`, " ", "").Replace(s) }
	return norm(a) == norm(b)
}

// carbonapiConf is carbonapi's configuration (YAML): HTTP on port, one
// graphite-clickhouse backend (carbonapi_v3_pb: one request for all the
// names of a target), no response cache.
func carbonapiConf(backend string) func(int) string {
	return func(port int) string {
		return fmt.Sprintf(`listen: "127.0.0.1:%d"
concurency: 1000
cache:
  type: "null"
backendCache:
  type: "null"
cpus: 0
maxBatchSize: 0
idleConnections: 100
notFoundStatusCode: 200
upstreams:
  buckets: 10
  timeouts:
    find: "60s"
    render: "120s"
    connect: "1s"
  concurrencyLimitPerServer: 0
  keepAliveInterval: "30s"
  maxIdleConnsPerHost: 100
  backendsv2:
    backends:
      - groupName: "graphite-clickhouse"
        protocol: "carbonapi_v3_pb"
        lbMethod: "rr"
        maxTries: 1
        maxBatchSize: 0
        timeouts:
          find: "60s"
          render: "120s"
          connect: "1s"
        servers:
          - %q
logger:
  - logger: ""
    file: "stderr"
    level: "warn"
    encoding: "console"
`, port, backend)
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// renderSeries is server s's JSON answer to q, sorted by target.
func renderSeries(t *testing.T, s loadtest.QueryServer, q loadtest.QueryCase) []renderedSeries {
	t.Helper()
	var r *http.Response
	var err error
	if q.Post {
		r, err = http.PostForm(s.HTTP+"/render", q.Form)
	} else {
		r, err = http.Get(s.HTTP + "/render?" + q.Form.Encode())
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var out []renderedSeries
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %v: %.300s", s.Name, url.QueryEscape(q.Name), err, b)
	}
	norm := strings.NewReplacer("'", `"`, " ", "")
	// Names can repeat (aliasByNode): those sort by their values.
	slices.SortFunc(out, func(a, b renderedSeries) int {
		if c := strings.Compare(norm.Replace(a.Target), norm.Replace(b.Target)); c != 0 {
			return c
		}
		return cmp.Compare(valueSum(a), valueSum(b))
	})
	return out
}

// compareSeries describes how got differs from want: the names
// (sameName), then the values at the timestamps both have (equal within
// 1e-9 relative), and the points only one of them has.
func compareSeries(want, got []renderedSeries) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d series, want %d", len(got), len(want))
	}
	var names []string
	common, differ, extra, missing, maxRel := 0, 0, 0, 0, 0.0
	for i := range want {
		w, g := want[i], got[i]
		if !sameName(w.Target, g.Target) {
			names = append(names, fmt.Sprintf("name %q, want %q", g.Target, w.Target))
			continue
		}
		at := make(map[float64]*float64, len(w.Datapoints))
		for _, p := range w.Datapoints {
			at[*p[1]] = p[0]
		}
		matched := 0
		for _, p := range g.Datapoints {
			wv, ok := at[*p[1]]
			if !ok {
				extra++
				continue
			}
			matched++
			common++
			switch {
			case (wv == nil) != (p[0] == nil):
				differ++
			case wv != nil && *wv != *p[0]:
				rel := math.Abs(*wv-*p[0]) / max(math.Abs(*wv), 1e-300)
				maxRel = max(maxRel, rel)
				if rel > 1e-9 {
					differ++
				}
			}
		}
		missing += len(w.Datapoints) - matched
	}
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("... %d more", len(names)-3))
	}
	out := fmt.Sprintf("%d series; %d of %d points at common timestamps differ (largest relative difference %.1e)", len(want), differ, common, maxRel)
	if extra > 0 || missing > 0 {
		out += fmt.Sprintf("; %d points only here, %d only in pebble's answer (first here %s, first in pebble's %s)",
			extra, missing, pointString(got[0].Datapoints), pointString(want[0].Datapoints))
	}
	if len(names) > 0 {
		out += "; " + strings.Join(names, "; ")
	}
	return out
}

func valueSum(s renderedSeries) float64 {
	sum := 0.0
	for _, p := range s.Datapoints {
		if p[0] != nil {
			sum += *p[0]
		}
	}
	return sum
}

func pointString(p [][2]*float64) string {
	if len(p) == 0 {
		return "none"
	}
	v := "null"
	if p[0][0] != nil {
		v = fmt.Sprint(*p[0][0])
	}
	return fmt.Sprintf("[%s %v]", v, *p[0][1])
}
