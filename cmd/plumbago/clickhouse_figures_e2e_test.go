package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// figuresMetrics and figuresPoints size the figures' load: W1's shape
// (flat names, carbon plaintext over 4 connections) scaled down to this
// machine, at 10 s steps so that every point is a row of its own in every
// store (the finest archive is 10 s).
const (
	figuresMetrics = 20000
	figuresPoints  = 100
)

// figuresRenders are the timed renders: one series, a 100-series glob and
// a 1,000-series glob over the loaded range, each as graphite-clickhouse
// answers it (format=pickle, no functions: graphite-clickhouse evaluates
// none).
var figuresRenders = []string{"loadtest.w1.m00042", "loadtest.w1.m001*", "loadtest.w1.m01*"}

// figuresTarget is one system under load.
type figuresTarget struct {
	name   string
	carbon string             // carbon plaintext address
	render string             // base URL of /render (graphite-clickhouse: /render/)
	stored func() int64       // points stored so far
	cpu    func() float64     // CPU seconds of the system's own processes (not ClickHouse's)
	stop   func(t *testing.T) // ends it
}

// TestClickHouseFigures measures docs/clickhouse.md's side-by-side figures:
// `plumbago loadtest` W1 (20,000 x 100 points at 10 s) into Plumbago on
// pebble, Plumbago on ClickHouse and carbon-clickhouse, one after the
// other and then in the reverse order, on one ClickHouse server, with the
// time from the loader's start until every point is stored (committed by
// Plumbago; counted in the points table for carbon-clickhouse), then
// sequential render timings (Plumbago's own /render; graphite-clickhouse
// on carbon-clickhouse's tables). It runs only when PLUMBAGO_CH_FIGURES is
// set: it is a measurement, not a check.
func TestClickHouseFigures(t *testing.T) {
	if os.Getenv("PLUMBAGO_CH_FIGURES") == "" {
		t.Skip("a measurement for docs/clickhouse.md: PLUMBAGO_CH_FIGURES=1 go test -run TestClickHouseFigures -v ./cmd/plumbago/")
	}
	ccBin, gcBin := chTool(t, "carbon-clickhouse"), chTool(t, "graphite-clickhouse")
	e := newCHEnv(t)
	rollup := writeFile(t, t.TempDir(), "rollup.xml", chRollup(t, e.bin, e.schemas, e.aggregation))
	total := int64(figuresMetrics * figuresPoints)

	plumbago := func(name string, args ...string) figuresTarget {
		p := startPlumbago(t, e.bin, append(args, e.common...)...)
		return figuresTarget{name: name, carbon: p.carbon, render: "http://" + p.http + "/render",
			stored: func() int64 { return int64(p.metric(t, "plumbago_points_committed_total")) },
			cpu:    func() float64 { return procCPU(t, p.cmd.Process.Pid) },
			stop:   p.stop}
	}
	starts := map[string]func() figuresTarget{
		"Plumbago pebble": func() figuresTarget {
			return plumbago("Plumbago pebble", "--backend", "pebble", "--data-dir", t.TempDir())
		},
		"Plumbago clickhouse": func() figuresTarget {
			db := chDatabase("fig_pb")
			applyDDL(t, e.bin, e.srv, db)
			return plumbago("Plumbago clickhouse", "--backend", "clickhouse", "--data-dir", t.TempDir(), "--clickhouse-url", e.srv.URL, "--clickhouse-database", db)
		},
		"carbon-clickhouse + graphite-clickhouse": func() figuresTarget {
			db := chDatabase("fig_cc")
			applyDDL(t, e.bin, e.srv, db)
			cc := startTool(t, "carbon-clickhouse", ccBin, carbonClickHouseConf(t.TempDir(), e.srv.URL, db))
			gc := startTool(t, "graphite-clickhouse", gcBin, graphiteClickHouseConf(e.srv.URL, db, rollup))
			return figuresTarget{name: "carbon-clickhouse + graphite-clickhouse", carbon: cc.addr, render: "http://" + gc.addr + "/render/",
				stored: func() int64 {
					n, _ := strconv.ParseInt(strings.TrimSpace(e.srv.Query(t, "SELECT count() FROM "+db+".graphite FORMAT TabSeparated")), 10, 64)
					return n
				},
				cpu: func() float64 { return procCPU(t, cc.cmd.Process.Pid) },
				stop: func(*testing.T) {
					cc.cmd.Process.Kill()
					gc.cmd.Process.Kill()
				}}
		},
	}
	order := []string{"Plumbago pebble", "Plumbago clickhouse", "carbon-clickhouse + graphite-clickhouse"}
	var rows []string
	for round, names := range [][]string{order, reversed(order)} {
		for _, name := range names {
			tg := starts[name]()
			chCPU0 := chCPUSeconds(t, e.srv.Query)
			cpu0 := tg.cpu()
			start := time.Now()
			out, err := exec.Command(e.bin, "loadtest", "--scenario", "W1", "--metrics", fmt.Sprint(figuresMetrics), "--points", fmt.Sprint(figuresPoints),
				"--step", "10s", "--addr", tg.carbon, "--quiet").CombinedOutput()
			if err != nil {
				t.Fatalf("loadtest: %v\n%s", err, out)
			}
			for deadline := time.Now().Add(10 * time.Minute); tg.stored() < total; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %d of %d points stored after 10 min", name, tg.stored(), total)
				}
			}
			took := time.Since(start)
			cpu := tg.cpu() - cpu0
			chCPU := chCPUSeconds(t, e.srv.Query) - chCPU0
			if n := tg.stored(); n != total {
				t.Errorf("%s: %d points stored, want %d", name, n, total)
			}
			var renders []string
			for _, target := range figuresRenders {
				renders = append(renders, timeRenders(t, tg.render, target))
			}
			rows = append(rows, fmt.Sprintf("| %d | %s | %.1fk points/s (%.1f s) | %.2f s | %.2f s | %s |", round+1, name,
				float64(total)/took.Seconds()/1000, took.Seconds(), cpu, chCPU, strings.Join(renders, " | ")))
			t.Logf("%s", rows[len(rows)-1])
			tg.stop(t)
		}
	}
	t.Logf("\n| round | system | end to end (loader start → all stored) | writer CPU | ClickHouse CPU | render 1 series p50 | 100 series p50 | 1,000 series p50 |\n|---|---|---|---|---|---|---|---|\n%s", strings.Join(rows, "\n"))
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// timeRenders renders target over the last 20 minutes (format=pickle) 3
// times untimed, then 15 times, and returns the median and the answer's
// size.
func timeRenders(t *testing.T, base, target string) string {
	t.Helper()
	now := time.Now().Unix()
	u := fmt.Sprintf("%s?target=%s&from=%d&until=%d&format=pickle&noCache=1", base, target, now-1200, now)
	var times []time.Duration
	size := 0
	for i := 0; i < 18; i++ {
		start := time.Now()
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, r.StatusCode, b)
		}
		if i >= 3 {
			times = append(times, time.Since(start))
		}
		size = len(b)
	}
	slices.Sort(times)
	return fmt.Sprintf("%.1f ms (%d KiB)", float64(times[len(times)/2].Microseconds())/1000, size/1024)
}

// procCPU is a process's user+system CPU seconds (/proc/PID/stat, 100 Hz).
func procCPU(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// chCPUSeconds is ClickHouse's own count of CPU time its queries and
// inserts used (system.events).
func chCPUSeconds(t *testing.T, query func(testing.TB, string) string) float64 {
	t.Helper()
	v, _ := strconv.ParseFloat(strings.TrimSpace(query(t, "SELECT sum(value) FROM system.events WHERE event IN ('UserTimeMicroseconds', 'SystemTimeMicroseconds') FORMAT TabSeparated")), 64)
	return v / 1e6
}
