package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSchemasReload streams points over one TCP connection while
// storage-schemas.conf changes: SIGHUP, then a plain file change (picked up
// within 10 s), then a broken file. New series get the schema in force when
// they are created, existing ones keep theirs, no point is lost, and a
// reload that fails keeps the old schemas and says why.
func TestSchemasReload(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := filepath.Join(dir, "storage-schemas.conf")
	agg := filepath.Join(dir, "storage-aggregation.conf")
	write := func(p, body string) {
		t.Helper()
		// A new mtime even on a coarse clock: the watcher compares them.
		old := mtime(p)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if !old.IsZero() && mtime(p).Equal(old) {
			next := old.Add(time.Second)
			os.Chtimes(p, next, next)
		}
	}
	write(schemas, "[all]\npattern = .*\nretentions = 1s:3h\n")
	write(agg, "[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n")
	p := startPlumbago(t, bin, "--data-dir", dir, "--schemas", schemas, "--aggregation", agg)
	defer p.stop(t)
	conn, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	const n = 600
	base := time.Now().Unix() - 2*n
	base -= base % 10
	sent := 0
	send := func(names ...string) {
		t.Helper()
		for i := 0; i < n; i++ {
			for _, name := range names {
				fmt.Fprintf(w, "%s %d %d\n", name, i%50, base+int64(i))
				sent++
			}
			if i%100 == 99 {
				if err := w.Flush(); err != nil {
					t.Fatalf("connection dropped: %v", err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	committed := func() bool { return p.metric(t, "plumbago_points_committed_total") >= float64(sent) }
	step := func(target string) int64 {
		t.Helper()
		s := getOneSeries(t, fmt.Sprintf("http://%s/render?noCache=1&target=%s&from=%d&until=%d&format=json", p.http, target, base, base+n))
		if len(s.Datapoints) < 2 {
			t.Fatalf("render %s: %d datapoints; want 2 or more", target, len(s.Datapoints))
		}
		return int64(*s.Datapoints[1][1] - *s.Datapoints[0][1])
	}

	send("first.x")
	p.waitFor(t, "first.x committed", committed)
	write(schemas, "[all]\npattern = .*\nretentions = 2s:3h\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "the SIGHUP reload", func() bool { return strings.Contains(p.log.String(), "reloaded storage schemas and aggregation") })
	send("first.x", "second.x") // the same connection: first.x exists, second.x is new
	p.waitFor(t, "second.x committed", committed)

	// A change without SIGHUP is picked up within 10 s.
	write(schemas, "[all]\npattern = .*\nretentions = 5s:3h\n")
	p.waitFor(t, "the file-change reload", func() bool { return strings.Contains(p.log.String(), "re-read changed storage schemas") })
	send("third.x")
	p.waitFor(t, "third.x committed", committed)

	// A broken file keeps the schemas in force.
	write(schemas, "[all]\npattern = .*\nretentions = banana\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "the failed reload", func() bool {
		return strings.Contains(p.log.String(), "reload failed; keeping the old storage schemas and aggregation")
	})
	send("fourth.x")
	p.waitFor(t, "fourth.x committed", committed)

	for target, want := range map[string]int64{"first.x": 1, "second.x": 2, "third.x": 5, "fourth.x": 5} {
		if got := step(target); got != want {
			t.Errorf("%s: step %d s; want %d s", target, got, want)
		}
	}
	if got := p.metric(t, "plumbago_points_committed_total"); got != float64(sent) {
		t.Errorf("committed %v points; sent %d", got, sent)
	}
	if !p.waitLog(`section [all]: parsing retention \"banana\"`) {
		t.Errorf("the failed reload does not say why:\n%s", p.log)
	}
}

// TestAggregationRulesReload streams over one TCP connection while
// aggregation-rules.conf changes (SIGHUP, then a broken file): every raw
// point is stored (FORWARD_ALL), what was aggregated under the old rules is
// emitted by them, the new rules aggregate the points after the reload, and
// a broken file keeps the rules in force.
func TestAggregationRulesReload(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "aggregation-rules.conf")
	schemas := writeFile(t, dir, "storage-schemas.conf", "[all]\npattern = .*\nretentions = 1s:3h\n")
	writeFile(t, dir, "aggregation-rules.conf", "agg.old (10) = sum app.*.hits\n")
	p := startPlumbago(t, bin, "--data-dir", dir, "--schemas", schemas, "--aggregation-rules", rules)
	defer p.stop(t)
	conn, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	// Each phase sends 30 s of points, one a second per name, in three
	// whole 10-second intervals just ended: each interval sums to 20.
	type phase struct{ start int64 }
	send := func(names ...string) phase {
		t.Helper()
		now := time.Now().Unix()
		ph := phase{now - now%10 - 30}
		for i := int64(0); i < 30; i++ {
			for _, n := range names {
				fmt.Fprintf(w, "%s 1 %d\n", n, ph.start+i)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("connection dropped: %v", err)
		}
		return ph
	}
	points := func(target string, from, until int64) map[int64]float64 {
		t.Helper()
		m := map[int64]float64{}
		for _, s := range getSeries(t, fmt.Sprintf("http://%s/render?noCache=1&target=%s&from=%d&until=%d&format=json", p.http, target, from-1, until)) {
			for _, dp := range s.Datapoints {
				if dp[0] != nil {
					m[int64(*dp[1])] = *dp[0]
				}
			}
		}
		return m
	}
	// intervals is what a rule summing the phases' points leaves: 20 an
	// interval and phase (two phases may share intervals on a fast run).
	intervals := func(phs ...phase) map[int64]float64 {
		m := map[int64]float64{}
		for _, ph := range phs {
			for i := int64(0); i < 3; i++ {
				m[ph.start+10*i] += 20
			}
		}
		return m
	}
	aggregated := func(target string, phs ...phase) func() bool {
		return func() bool {
			return fmt.Sprint(points(target, phs[0].start, phs[len(phs)-1].start+30)) == fmt.Sprint(intervals(phs...))
		}
	}
	p1 := send("app.a.hits", "app.b.hits")
	p.waitFor(t, "agg.old from the first rules", aggregated("agg.old", p1))

	writeFile(t, dir, "aggregation-rules.conf", "agg.new (10) = sum app.*.hits\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "the reload", func() bool {
		return strings.Contains(p.log.String(), "reloaded rewrite rules, white/blacklists and aggregation rules")
	})
	p2 := send("app.c.hits", "app.d.hits") // the same connection
	p.waitFor(t, "agg.new from the new rules", aggregated("agg.new", p2))

	writeFile(t, dir, "aggregation-rules.conf", "agg.<bad (10) = sum app.*.hits\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "the failed reload", func() bool { return strings.Contains(p.log.String(), "reload failed; keeping the old settings") })
	p3 := send("app.e.hits", "app.f.hits")
	p.waitFor(t, "agg.new still in force", aggregated("agg.new", p2, p3))

	// No raw point lost; the old rules saw nothing after the reload.
	for _, c := range []struct {
		name string
		ph   phase
	}{{"app.a.hits", p1}, {"app.b.hits", p1}, {"app.c.hits", p2}, {"app.d.hits", p2}, {"app.e.hits", p3}, {"app.f.hits", p3}} {
		if got := len(points(c.name, c.ph.start, c.ph.start+30)); got != 30 {
			t.Errorf("%s: %d points stored; want 30", c.name, got)
		}
	}
	if got := points("agg.old", p1.start, p3.start+30); fmt.Sprint(got) != fmt.Sprint(intervals(p1)) {
		t.Errorf("agg.old after the reload: %v; want only the first phase's %v", got, intervals(p1))
	}
}
