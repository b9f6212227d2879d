package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage/clickhouse/chtest"
)

// The schema and aggregation files the clickhouse tests' server rolls up
// by and both backends store with.
const (
	chSchemas = `[all]
pattern = .*
retentions = 10s:1h,1m:1d,5m:7d
`
	chAggregation = `[sum]
pattern = \.sum$
xFilesFactor = 0
aggregationMethod = sum
[max]
pattern = \.max$
xFilesFactor = 0.3
aggregationMethod = max
[default]
pattern = .*
xFilesFactor = 0.5
aggregationMethod = average
`
)

// chDBSeq numbers the databases of the package's ClickHouse tests: the
// server is shared by every test (and every -count iteration), so each run
// of a test writes into a database of its own.
var chDBSeq atomic.Int64

// chDatabase is a new database name starting with prefix.
func chDatabase(prefix string) string { return fmt.Sprintf("%s_%d", prefix, chDBSeq.Add(1)) }

// tagIDs matches the ids of /tags answers.
var tagIDs = regexp.MustCompile(`"id": \d+`)

// chFiles writes chSchemas and chAggregation into a temporary directory.
func chFiles(t *testing.T) (schemas, aggregation string) {
	dir := t.TempDir()
	return writeFile(t, dir, "storage-schemas.conf", chSchemas), writeFile(t, dir, "storage-aggregation.conf", chAggregation)
}

// clickhouseServer is the package's ClickHouse, its graphite_rollup the
// one `plumbago clickhouse schema --only rollup` prints for chFiles.
func clickhouseServer(t *testing.T, bin string) *chtest.Server {
	t.Helper()
	chtest.Binary(t)
	schemas, aggregation := chFiles(t)
	return chtest.Shared(t, chtest.Options{ConfigD: map[string]string{"graphite_rollup.xml": chRollup(t, bin, schemas, aggregation)}})
}

// chRollup returns the graphite_rollup XML that `plumbago clickhouse schema
// --only rollup` prints for the schemas and aggregation files.
func chRollup(t *testing.T, bin, schemas, aggregation string) string {
	t.Helper()
	return runBin(t, bin, "clickhouse", "schema", "--only", "rollup", "--schemas", schemas, "--aggregation", aggregation)
}

// chEnv is what the ClickHouse end-to-end tests start from: the built
// binary, the package's ClickHouse (clickhouseServer), chFiles' schemas and
// aggregation files, and common, the flags that give those files to a node.
type chEnv struct {
	bin                  string
	srv                  *chtest.Server
	schemas, aggregation string
	common               []string
}

func newCHEnv(t *testing.T) chEnv {
	t.Helper()
	bin := buildBinary(t)
	srv := clickhouseServer(t, bin)
	schemas, aggregation := chFiles(t)
	return chEnv{bin: bin, srv: srv, schemas: schemas, aggregation: aggregation,
		common: []string{"--schemas", schemas, "--aggregation", aggregation}}
}

// checkGolden compares got with testdata/clickhouse/name (-update writes it).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "clickhouse", name)
	if updateDocs() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -run TestClickHouseSchema -update rewrites it):\n%s", name, got)
	}
}

// TestClickHouseSchema checks `plumbago clickhouse schema` against golden
// files (built-in rules; chFiles; a cluster) and applies the single-node
// DDL to a real server started with the printed rollup section.
func TestClickHouseSchema(t *testing.T) {
	bin := buildBinary(t)
	checkGolden(t, "default.golden", runBin(t, bin, "clickhouse", "schema"))
	schemas, aggregation := chFiles(t)
	checkGolden(t, "rollup.golden", runBin(t, bin, "clickhouse", "schema", "--only", "rollup", "--schemas", schemas, "--aggregation", aggregation))
	checkGolden(t, "cluster.golden", runBin(t, bin, "clickhouse", "schema", "--only", "ddl", "--cluster", "plumbago", "--clickhouse-database", "metrics"))

	srv := clickhouseServer(t, bin)
	ddl := runBin(t, bin, "clickhouse", "schema", "--only", "ddl", "--clickhouse-database", "schema_test")
	n := 0
	for _, q := range ddlStatements(ddl) {
		srv.Query(t, q)
		n++
	}
	if n != 4 {
		t.Fatalf("%d statements applied, want 4", n)
	}
	got := srv.Query(t, "SELECT name, engine FROM system.tables WHERE database = 'schema_test' ORDER BY name FORMAT TabSeparated")
	want := "graphite\tGraphiteMergeTree\ngraphite_index\tReplacingMergeTree\ngraphite_tagged\tReplacingMergeTree\n"
	if got != want {
		t.Errorf("tables:\n%s\nwant\n%s", got, want)
	}
	// The rollup section is read when a GraphiteMergeTree merges: a merge
	// of two versions of one slot keeps the newer.
	srv.Query(t, "INSERT INTO schema_test.graphite VALUES ('a.b', 1, 1000000000, '2001-09-09', 1), ('a.b', 2, 1000000000, '2001-09-09', 2)")
	srv.Query(t, "OPTIMIZE TABLE schema_test.graphite FINAL")
	if got := srv.Query(t, "SELECT Value FROM schema_test.graphite FORMAT TabSeparated"); got != "2\n" {
		t.Errorf("after a merge: %q, want the newer version's 2", got)
	}
}

// chLines makes carbon lines for a few series: 10 s points over the last
// 50 minutes with gaps, some late rewrites, points 2-20 h old (written
// into the 1 m archive) and 2-5 days old (5 m archive).
func chLines(now int64) []string {
	r := rand.New(rand.NewPCG(17, 4))
	var lines []string
	for _, name := range []string{"e.a.avg", "e.a.sum", "e.a.max", "e.b.avg", "e.b.sum", "e.c.max", "e.t.sum;host=h1;dc=x", "e.t.sum;host=h2;dc=x"} {
		for ts := now - 3000; ts < now-20; ts += 10 {
			if r.IntN(10) < 7 {
				lines = append(lines, fmt.Sprintf("%s %d %d", name, r.IntN(100), ts-int64(r.IntN(10))))
			}
		}
		for i := 0; i < 30; i++ {
			lines = append(lines, fmt.Sprintf("%s %d %d", name, r.IntN(100), now-7200-r.Int64N(18*3600)))
		}
		for i := 0; i < 10; i++ {
			lines = append(lines, fmt.Sprintf("%s %d %d", name, r.IntN(100), now-2*86400-r.Int64N(3*86400)))
		}
	}
	return lines
}

// TestClickHouseMatchesPebble sends the same carbon lines to a pebble
// server and a clickhouse server and compares their renders and finds over
// every archive, then again after the clickhouse server restarts on an
// empty data dir (what it answers comes from ClickHouse alone) with
// --clickhouse-pushdown.
func TestClickHouseMatchesPebble(t *testing.T) {
	e := newCHEnv(t)
	db := chDatabase("e2e")
	ch := func() []string {
		return append([]string{"--backend", "clickhouse", "--data-dir", t.TempDir(), "--clickhouse-url", e.srv.URL,
			"--clickhouse-database", db, "--clickhouse-create-tables"}, e.common...)
	}
	pb := startPlumbago(t, e.bin, append([]string{"--backend", "pebble", "--data-dir", t.TempDir()}, e.common...)...)
	cp := startPlumbago(t, e.bin, ch()...)
	now := time.Now().Unix()
	lines := chLines(now)
	sendCarbon(t, pb.carbon, lines...)
	sendCarbon(t, cp.carbon, lines...)
	pb.waitMetric(t, "plumbago_points_committed_total", float64(len(lines)))
	cp.waitMetric(t, "plumbago_points_committed_total", float64(len(lines)))
	if got := cp.metric(t, "plumbago_clickhouse_insert_errors_total"); got != 0 {
		t.Errorf("insert errors: %v", got)
	}
	if got := e.srv.Query(t, "SELECT uniqExact(Path) FROM "+db+".graphite FORMAT TabSeparated"); got != "8\n" {
		t.Errorf("paths in the points table: %q, want 8", got)
	}
	if got := e.srv.Query(t, "SELECT Tag1, Path FROM "+db+".graphite_tagged WHERE Path LIKE '%h1%' GROUP BY Tag1, Path ORDER BY Tag1 FORMAT TabSeparated"); got != "__name__=e.t.sum\te.t.sum?dc=x&host=h1\ndc=x\te.t.sum?dc=x&host=h1\nhost=h1\te.t.sum?dc=x&host=h1\n" {
		t.Errorf("tagged table rows of e.t.sum;dc=x;host=h1 (carbon-clickhouse's form):\n%s", got)
	}
	compare := func(phase string) {
		t.Helper()
		for _, from := range []int64{now - 1800, now - 3*3600, now - 2*86400, now - 6*86400} {
			q := fmt.Sprintf("/render?target=e.*.*&target=seriesByTag('dc=x')&from=%d&until=%d&now=%d&format=json&noCache=1", from, now, now)
			want := readAll(t, "http://"+pb.http+q)
			if !strings.Contains(want, `"e.c.max"`) || !strings.Contains(want, `"e.t.sum;dc=x;host=h2"`) {
				t.Fatalf("pebble render %s: %s", q, want)
			}
			if got := readAll(t, "http://"+cp.http+q); got != want {
				t.Errorf("%s: render %s differs:\nclickhouse %s\npebble     %s", phase, q, got, want)
			}
		}
		for _, q := range []string{"/metrics/find?query=e.*", "/metrics/find?query=e.*.*", "/metrics/find?query=e.{a,c}.m*", "/tags/findSeries?expr=dc=x", "/tags/host"} {
			// A tag value's id is its order of arrival in that server.
			want := tagIDs.ReplaceAllString(readAll(t, "http://"+pb.http+q), `"id": N`)
			if got := tagIDs.ReplaceAllString(readAll(t, "http://"+cp.http+q), `"id": N`); got != want {
				t.Errorf("%s: find %s: clickhouse %s, pebble %s", phase, q, got, want)
			}
		}
	}
	compare("running")
	cp.stop(t)
	// Restarted with the first rollup level computed in ClickHouse.
	cp = startPlumbago(t, e.bin, append(ch(), "--clickhouse-pushdown")...)
	compare("restarted on an empty data dir, with --clickhouse-pushdown")
	if got := cp.metric(t, "plumbago_clickhouse_fetch_rows_total"); got == 0 {
		t.Errorf("plumbago_clickhouse_fetch_rows_total 0 after renders")
	}
	cp.stop(t)
	pb.stop(t)
}

// TestClickHouseKeepsPointsWhileDown takes the points table away while
// points arrive: the inserts fail and are counted, nothing is committed or
// dropped; the server is then killed (-9) and restarted with the table
// back, and every point reaches ClickHouse from the write buffer's WAL.
func TestClickHouseKeepsPointsWhileDown(t *testing.T) {
	e := newCHEnv(t)
	dir := t.TempDir()
	db := chDatabase("down_e2e")
	args := []string{"--backend", "clickhouse", "--data-dir", dir, "--clickhouse-url", e.srv.URL, "--clickhouse-database", db,
		"--clickhouse-create-tables", "--clickhouse-timeout", "5s", "--sync-interval", "100ms", "--schemas", e.schemas, "--aggregation", e.aggregation}
	p := startPlumbago(t, e.bin, args...)
	now := time.Now().Unix()
	base := now - now%10 - 300
	var first, second []string
	for i := 0; i < 10; i++ {
		first = append(first, fmt.Sprintf("down.a %d %d", i, base+int64(10*i)))
		second = append(second, fmt.Sprintf("down.b %d %d", 100+i, base+int64(10*i)))
	}
	sendCarbon(t, p.carbon, first...)
	p.waitMetric(t, "plumbago_points_committed_total", 10)
	e.srv.Query(t, "RENAME TABLE "+db+".graphite TO "+db+".graphite_away")
	sendCarbon(t, p.carbon, second...)
	p.waitMetric(t, "plumbago_points_received_total", 20)
	for end := time.Now().Add(30 * time.Second); p.metric(t, "plumbago_clickhouse_insert_errors_total") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no failed insert counted:\n%s", p.log)
		}
	}
	if c, d := p.metric(t, "plumbago_points_committed_total"), p.metric(t, `plumbago_points_dropped_total{reason="store_error"}`); c != 10 || d != 0 {
		t.Fatalf("while the table is away: committed %v (want 10), dropped %v (want 0)", c, d)
	}
	time.Sleep(500 * time.Millisecond) // five sync intervals: the WAL holds the points on disk
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	e.srv.Query(t, "RENAME TABLE "+db+".graphite_away TO "+db+".graphite")
	p = startPlumbago(t, e.bin, args...)
	e.srv.WaitQuery(t, "SELECT count(), sum(Value) FROM "+db+".graphite WHERE Path = 'down.b' FORMAT TabSeparated", "10\t1045", 30*time.Second)
	want := `[{"target": "down.b", "tags": {"name": "down.b"}, "datapoints": [`
	for i := 0; i < 10; i++ {
		if i > 0 {
			want += ", "
		}
		want += fmt.Sprintf("[%d.0, %d]", 100+i, base+int64(10*i))
	}
	want += "]}]"
	if got := readAll(t, fmt.Sprintf("http://%s/render?noCache=1&target=down.b&from=%d&until=%d&format=json", p.http, base-10, base+90)); got != want {
		t.Errorf("render after the restart:\n%s\nwant\n%s", got, want)
	}
	p.stop(t)
}
