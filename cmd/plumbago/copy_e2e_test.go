package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// renderSame checks that every node answers the source's renders (all
// three archives, plain and tagged series) and finds.
func renderSame(t *testing.T, now int64, src *proc, copies map[string]*proc, targets string) {
	t.Helper()
	for _, from := range []int64{now - 1800, now - 3*3600, now - 2*86400, now - 6*86400} {
		q := fmt.Sprintf("/render?%s&from=%d&until=%d&now=%d&format=json&noCache=1", targets, from, now, now)
		want := readAll(t, "http://"+src.http+q)
		if !strings.Contains(want, `"datapoints": [[`) {
			t.Fatalf("source render %s: %.300s", q, want)
		}
		for name, p := range copies {
			if got := readAll(t, "http://"+p.http+q); got != want {
				t.Errorf("%s: render %s differs:\ncopy   %.2000s\nsource %.2000s", name, q, got, want)
			}
		}
	}
	for _, q := range []string{"/metrics/find?query=e.*", "/metrics/find?query=e.*.*", "/tags/findSeries?expr=dc=x"} {
		want := readAll(t, "http://"+src.http+q)
		for name, p := range copies {
			if got := readAll(t, "http://"+p.http+q); got != want {
				t.Errorf("%s: find %s: copy %s, source %s", name, q, got, want)
			}
		}
	}
}

// waitCommitted polls the node's committed points until want (60 s).
func waitCommitted(t *testing.T, p *proc, want int) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); p.metric(t, "plumbago_points_committed_total") != float64(want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("committed %v of %d points:\n%s", p.metric(t, "plumbago_points_committed_total"), want, p.log)
		}
	}
}

// TestCopyBetweenStores fills a pebble store through carbon (three
// archives' worth of points, plain and tagged names), then copies it with
// the built binary pebble → whisper → pebble, pebble → ClickHouse (the
// destination given as serve's TOML file), ClickHouse → whisper, and
// imports the copied whisper tree into ClickHouse with import-whisper.
// Read-only nodes on every copy answer the same renders and finds as the
// source, over every archive.
func TestCopyBetweenStores(t *testing.T) {
	e := newCHEnv(t)
	pdir := t.TempDir()
	pb := startPlumbago(t, e.bin, append([]string{"--backend", "pebble", "--data-dir", pdir}, e.common...)...)
	now := time.Now().Unix()
	lines := chLines(now)
	sendCarbon(t, pb.carbon, lines...)
	waitCommitted(t, pb, len(lines))
	pb.stop(t)

	toSide := []string{"--to-schemas", e.schemas, "--to-aggregation", e.aggregation}
	wdir, p2dir, w2dir := t.TempDir(), t.TempDir(), t.TempDir()
	out := runBin(t, e.bin, append([]string{"copy", "--from-backend", "pebble", "--from-data-dir", pdir, "--to-backend", "whisper", "--to-data-dir", wdir}, toSide...)...)
	if !strings.Contains(out, "copied 8 of 8 series (0 by an earlier run, 0 not in the source, 0 failed)") {
		t.Fatalf("pebble → whisper:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(wdir, "copy.state")); !os.IsNotExist(err) {
		t.Errorf("the finished copy's resume log is still there: %v", err)
	}
	runBin(t, e.bin, append([]string{"copy", "--from-backend", "whisper", "--from-data-dir", wdir, "--to-backend", "pebble", "--to-data-dir", p2dir}, toSide...)...)
	db, db2 := chDatabase("copy_e2e"), chDatabase("import_e2e")
	chConf := writeFile(t, t.TempDir(), "ch.toml", fmt.Sprintf("backend = %q\nclickhouse-url = %q\nclickhouse-database = %q\nclickhouse-create-tables = true\ndata-dir = %q\nschemas = %q\naggregation = %q\n",
		"clickhouse", e.srv.URL, db, t.TempDir(), e.schemas, e.aggregation))
	out = runBin(t, e.bin, "copy", "--from-backend", "pebble", "--from-data-dir", pdir, "--to-config", chConf)
	if !strings.Contains(out, "copied 8 of 8 series") {
		t.Fatalf("pebble → clickhouse:\n%s", out)
	}
	runBin(t, e.bin, append([]string{"copy", "--from-config", chConf, "--to-backend", "whisper", "--to-data-dir", w2dir}, toSide...)...)
	out = runBin(t, e.bin, append([]string{"import-whisper", "--from", filepath.Join(wdir, "whisper"), "--backend", "clickhouse", "--clickhouse-url", e.srv.URL,
		"--clickhouse-database", db2, "--clickhouse-create-tables", "--data-dir", t.TempDir()}, e.common...)...)
	if !strings.Contains(out, "copied 8 of 8 series") {
		t.Fatalf("import-whisper into clickhouse:\n%s", out)
	}

	ro := append([]string{"--read-only"}, e.common...)
	src := startPlumbago(t, e.bin, append([]string{"--backend", "pebble", "--data-dir", pdir}, ro...)...)
	copies := map[string]*proc{
		"pebble → whisper":             startPlumbago(t, e.bin, append([]string{"--backend", "whisper", "--data-dir", wdir}, ro...)...),
		"whisper → pebble":             startPlumbago(t, e.bin, append([]string{"--backend", "pebble", "--data-dir", p2dir}, ro...)...),
		"pebble → clickhouse":          startPlumbago(t, e.bin, append([]string{"--backend", "clickhouse", "--clickhouse-url", e.srv.URL, "--clickhouse-database", db, "--data-dir", t.TempDir()}, ro...)...),
		"clickhouse → whisper":         startPlumbago(t, e.bin, append([]string{"--backend", "whisper", "--data-dir", w2dir}, ro...)...),
		"import-whisper to clickhouse": startPlumbago(t, e.bin, append([]string{"--backend", "clickhouse", "--clickhouse-url", e.srv.URL, "--clickhouse-database", db2, "--data-dir", t.TempDir()}, ro...)...),
	}
	renderSame(t, now, src, copies, "target=e.*.*&target=seriesByTag('dc=x')")
	for _, p := range copies {
		p.stop(t)
	}
	src.stop(t)
}

// TestCopyResumesAfterKill copies a pebble store of 1000 series into
// ClickHouse in small batches, kills the copy (SIGKILL) once its resume
// log shows some batches done, and runs the same command again: it skips
// what the log holds, finishes, and ClickHouse holds every point once
// (reads take one row per slot before a merge; after OPTIMIZE FINAL no
// (Path, Time) has two rows). A node on ClickHouse renders as the source.
func TestCopyResumesAfterKill(t *testing.T) {
	e := newCHEnv(t)
	pdir := t.TempDir()
	pb := startPlumbago(t, e.bin, append([]string{"--backend", "pebble", "--data-dir", pdir}, e.common...)...)
	now := time.Now().Unix()
	base := now - now%10 - 1200
	const series, points = 1000, 100
	lines := make([]string, 0, series*points)
	for s := 0; s < series; s++ {
		for i := 0; i < points; i++ {
			lines = append(lines, fmt.Sprintf("r.s%04d.avg %d %d", s, (s*7+i*3)%101, base+int64(10*i)))
		}
	}
	sendCarbon(t, pb.carbon, lines...)
	waitCommitted(t, pb, len(lines))
	pb.stop(t)

	db := chDatabase("resume_e2e")
	state := filepath.Join(t.TempDir(), "copy.state")
	args := []string{"copy", "--from-backend", "pebble", "--from-data-dir", pdir,
		"--to-backend", "clickhouse", "--to-clickhouse-url", e.srv.URL, "--to-clickhouse-database", db, "--to-clickhouse-create-tables",
		"--to-schemas", e.schemas, "--to-aggregation", e.aggregation, "--state", state, "--batch-points", "1000", "--progress-interval", "100ms"}
	first := exec.Command(e.bin, args...)
	var firstOut bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	// Kill it once the log holds at least 5 batches of 10 series.
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		b, _ := os.ReadFile(state)
		if bytes.Count(b, []byte("\n")) > 50 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the copy ended (%v) before the kill:\n%s", err, firstOut.String())
		default:
		}
		if time.Now().After(end) {
			t.Fatalf("no batch recorded:\n%s", firstOut.String())
		}
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	b, _ := os.ReadFile(state)
	recorded := bytes.Count(b, []byte("\n")) - 1
	if recorded >= series {
		t.Fatalf("the copy finished before the kill (%d series recorded)", recorded)
	}

	again := exec.Command(e.bin, args...)
	var stdout, stderr bytes.Buffer
	again.Stdout, again.Stderr = &stdout, &stderr
	if err := again.Run(); err != nil {
		t.Fatalf("re-run: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	// The log only grows between the read above and the kill's effect.
	var resumed, done int
	if _, err := fmt.Sscanf(stdout.String()[strings.Index(stdout.String(), "copied "):], "copied %d of 1000 series (%d by an earlier run", &done, &resumed); err != nil {
		t.Fatalf("re-run's summary: %v\n%s", err, stdout.String())
	}
	if resumed < recorded || resumed+done != series {
		t.Errorf("re-run: %d copied, %d by the killed run (its log held %d), want %d in all\n%s", done, resumed, recorded, series, stdout.String())
	}
	if !strings.Contains(stderr.String(), "copy: 1000/1000 series (100.0%)") || !strings.Contains(stderr.String(), "points/s, ETA") {
		t.Errorf("progress lines on stderr:\n%s", stderr.String())
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("resume log left after the finished copy: %v", err)
	}
	q := func(sql string) string { return strings.TrimSpace(e.srv.Query(t, sql+" FORMAT TabSeparated")) }
	if got := q("SELECT uniqExact(Path, Time), sum(Value) FROM (SELECT Path, Time, argMax(Value, Timestamp) AS Value FROM " + db + ".graphite GROUP BY Path, Time)"); got != fmt.Sprintf("%d\t%d", series*points, wantSum(series, points)) {
		t.Errorf("one row per slot: distinct (Path, Time) and their sum: %s, want %d and %d", got, series*points, wantSum(series, points))
	}
	src := startPlumbago(t, e.bin, append([]string{"--backend", "pebble", "--data-dir", pdir, "--read-only"}, e.common...)...)
	dst := startPlumbago(t, e.bin, append([]string{"--backend", "clickhouse", "--clickhouse-url", e.srv.URL, "--clickhouse-database", db, "--data-dir", t.TempDir(), "--read-only"}, e.common...)...)
	qr := fmt.Sprintf("/render?target=sumSeries(r.s00*.avg)&target=r.s00{0,1}*.avg&from=%d&until=%d&now=%d&format=json&noCache=1", now-1800, now, now)
	if got, want := readAll(t, "http://"+dst.http+qr), readAll(t, "http://"+src.http+qr); got != want || !strings.Contains(want, "r.s0019.avg") {
		t.Errorf("render before a merge:\nclickhouse %.1500s\npebble     %.1500s", got, want)
	}
	e.srv.Query(t, "OPTIMIZE TABLE "+db+".graphite FINAL")
	if got := q("SELECT count() FROM " + db + ".graphite"); got != fmt.Sprint(series*points) {
		t.Errorf("rows after OPTIMIZE FINAL: %s, want %d", got, series*points)
	}
	if got := q("SELECT count() FROM (SELECT Path, Time FROM " + db + ".graphite GROUP BY Path, Time HAVING count() > 1)"); got != "0" {
		t.Errorf("(Path, Time) with more than one row after OPTIMIZE FINAL: %s", got)
	}
	dst.stop(t)
	src.stop(t)
}

// wantSum is the sum of TestCopyResumesAfterKill's values.
func wantSum(series, points int) int {
	n := 0
	for s := 0; s < series; s++ {
		for i := 0; i < points; i++ {
			n += (s*7 + i*3) % 101
		}
	}
	return n
}
