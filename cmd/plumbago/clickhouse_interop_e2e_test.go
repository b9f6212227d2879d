package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/storage/clickhouse/chtest"
)

// chToolsDir is where scripts/test-deps.sh builds carbon-clickhouse and
// graphite-clickhouse (PLUMBAGO_TOOLS_BIN overrides it).
func chToolsDir() string {
	if d := os.Getenv("PLUMBAGO_TOOLS_BIN"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "plumbago", "bin")
}

// chTool returns the path of carbon-clickhouse or graphite-clickhouse: in
// chToolsDir, else in PATH, else the test is Missing them.
func chTool(t *testing.T, name string) string {
	t.Helper()
	if p := filepath.Join(chToolsDir(), name); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	testenv.Missing(t, "%s not installed in %s (scripts/test-deps.sh builds it from the Go module proxy)", name, chToolsDir())
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// tool is a running carbon-clickhouse or graphite-clickhouse.
type tool struct {
	addr string // the port its config listens on
	log  *procLog
	cmd  *exec.Cmd
}

// startTool runs bin with the config config(port) writes (a fresh free port
// each attempt) until the port accepts connections; a port another process
// took first ("address already in use") makes it try again, up to 3 times.
// It is killed when the test ends.
func startTool(t *testing.T, name, bin string, config func(port int) string) tool {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port := ingesttest.FreePort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cfg := writeFile(t, t.TempDir(), name+".conf", config(port))
		log := &procLog{}
		cmd := exec.Command(bin, "-config", cfg)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-exited })
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			select {
			case <-exited:
				if attempt < 2 && strings.Contains(log.String(), "address already in use") {
					goto retry
				}
				t.Fatalf("%s exited:\n%s", name, log)
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				return tool{addr, log, cmd}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not listen on %s within 60 s:\n%s", name, addr, log)
			}
		}
	retry:
	}
}

// carbonClickHouseConf is carbon-clickhouse's configuration: carbon lines
// on port, uploads into db's three tables every 200 ms, its own metrics
// only after an hour (never in a test).
func carbonClickHouseConf(dir, chURL, db string) func(int) string {
	return func(port int) string {
		return fmt.Sprintf(`[common]
metric-prefix = "cch.self"
metric-interval = "1h"
max-cpu = 1
[data]
path = %q
chunk-interval = "200ms"
[upload.graphite]
type = "points"
table = "%s.graphite"
threads = 1
url = %q
timeout = "30s"
[upload.graphite_index]
type = "index"
table = "%s.graphite_index"
threads = 1
url = %q
timeout = "30s"
cache-ttl = "12h0m0s"
[upload.graphite_tagged]
type = "tagged"
table = "%s.graphite_tagged"
threads = 1
url = %q
timeout = "30s"
cache-ttl = "12h0m0s"
[udp]
enabled = false
[tcp]
listen = "127.0.0.1:%d"
enabled = true
[pickle]
enabled = false
[grpc]
enabled = false
[prometheus]
enabled = false
[telegraf_http_json]
enabled = false
[pprof]
enabled = false
[[logging]]
logger = ""
file = "stderr"
level = "info"
`, dir, db, chURL, db, chURL, db, chURL, port)
	}
}

// graphiteClickHouseConf is graphite-clickhouse's configuration: HTTP on
// port, reading db's tables with the rollup file Plumbago printed.
func graphiteClickHouseConf(chURL, db, rollup string) func(int) string {
	return func(port int) string {
		return fmt.Sprintf(`[common]
listen = "127.0.0.1:%d"
max-cpu = 1
[clickhouse]
url = %q
data-table = "%s.graphite"
rollup-conf = %q
index-table = "%s.graphite_index"
index-use-daily = true
tagged-table = "%s.graphite_tagged"
tree-table = ""
[[logging]]
logger = ""
file = "stderr"
level = "info"
`, port, strings.TrimSuffix(chURL, "/"), db, rollup, db, db)
	}
}

// ddlStatements splits the DDL `plumbago clickhouse schema` prints into
// statements, without comment lines or the final semicolons.
func ddlStatements(ddl string) []string {
	var out []string
	for _, stmt := range strings.Split(ddl, ";\n") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(l, "--") {
				lines = append(lines, l)
			}
		}
		if q := strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";"); q != "" {
			out = append(out, q)
		}
	}
	return out
}

// applyDDL runs the single-node DDL `plumbago clickhouse schema` prints for
// db on srv.
func applyDDL(t *testing.T, bin string, srv *chtest.Server, db string) {
	t.Helper()
	ddl := runBin(t, bin, "clickhouse", "schema", "--only", "ddl", "--clickhouse-database", db)
	for _, q := range ddlStatements(ddl) {
		srv.Query(t, q)
	}
}

// interopSeries are the names both writers get: plain names of three
// aggregation methods, tagged names, and tags whose values need escaping
// in carbon-clickhouse's form ("path=/var/log", "q=a&b=c+d").
var interopSeries = []string{"ix.a.avg", "ix.a.sum", "ix.b.max", "ix.t;host=h1;dc=x", "ix.t;dc=x;host=h2", "ix.d;q=a&b=c+d;path=/var/log"}

// interopLines are 10 points of each series, 10 s apart from base (the
// finest archive's step, aligned), value i*1.5 + series index.
func interopLines(base int64) []string {
	var lines []string
	for k, name := range interopSeries {
		for i := 0; i < 10; i++ {
			lines = append(lines, fmt.Sprintf("%s %g %d", name, float64(i)*1.5+float64(k), base+int64(10*i)))
		}
	}
	return lines
}

// unpickle decodes graphite-clickhouse's pickle answers with Python's own
// pickle module: find answers as "path leaf|branch" lines, render answers
// as "name ts value" lines of the non-null points.
func unpickle(t *testing.T, kind string, data string) string {
	t.Helper()
	py := testenv.Python(t, "apt python3")
	prog := `import pickle, sys
d = pickle.loads(sys.stdin.buffer.read())
out = []
if sys.argv[1] == "find":
    out = ["%s %s" % (n["metric_path"], "leaf" if n["isLeaf"] else "branch") for n in d]
else:
    for s in d:
        for i, v in enumerate(s["values"]):
            if v is not None:
                out.append("%s %d %.6f" % (s["name"], s["start"] + i * s["step"], v))
print("\n".join(sorted(out)))
`
	cmd := exec.Command(py, "-c", prog, kind)
	cmd.Stdin = strings.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unpickling %q: %v\n%s", data, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestCarbonClickHouseInterop runs the real carbon-clickhouse and
// graphite-clickhouse against Plumbago on one ClickHouse: the same carbon
// lines go to carbon-clickhouse (database cc) and to a Plumbago node
// (database pb). Both databases then hold the same paths, index rows and
// tagged rows; a Plumbago node serving cc answers render, find and the
// tag endpoints exactly as a pebble node fed the same lines; and
// graphite-clickhouse answers the same points and finds from pb as from
// cc, equal to the lines sent.
func TestCarbonClickHouseInterop(t *testing.T) {
	ccBin, gcBin := chTool(t, "carbon-clickhouse"), chTool(t, "graphite-clickhouse")
	e := newCHEnv(t)
	rollup := writeFile(t, t.TempDir(), "rollup.xml", chRollup(t, e.bin, e.schemas, e.aggregation))
	cc, pb := chDatabase("cc"), chDatabase("pb")
	applyDDL(t, e.bin, e.srv, cc)
	applyDDL(t, e.bin, e.srv, pb)

	now := time.Now().Unix()
	base := now - now%60 - 600
	lines := interopLines(base)
	n := len(lines)

	// carbon-clickhouse writes cc.
	ccTool := startTool(t, "carbon-clickhouse", ccBin, carbonClickHouseConf(t.TempDir(), e.srv.URL, cc))
	sendCarbon(t, ccTool.addr, lines...)
	e.srv.WaitQuery(t, "SELECT count() FROM "+cc+".graphite FORMAT TabSeparated", fmt.Sprint(n), 60*time.Second)
	e.srv.WaitQuery(t, "SELECT uniqExact(Path) FROM "+cc+".graphite_tagged FORMAT TabSeparated", "3", 60*time.Second)
	e.srv.WaitQuery(t, "SELECT uniqExact(Path) FROM "+cc+".graphite_index WHERE Level = 20003 FORMAT TabSeparated", "3", 60*time.Second)

	// Plumbago writes pb; a pebble node is the oracle.
	oracle := startPlumbago(t, e.bin, append([]string{"--backend", "pebble", "--data-dir", t.TempDir()}, e.common...)...)
	writer := startPlumbago(t, e.bin, append([]string{"--backend", "clickhouse", "--data-dir", t.TempDir(),
		"--clickhouse-url", e.srv.URL, "--clickhouse-database", pb}, e.common...)...)
	sendCarbon(t, oracle.carbon, lines...)
	sendCarbon(t, writer.carbon, lines...)
	oracle.waitMetric(t, "plumbago_points_committed_total", float64(n))
	writer.waitMetric(t, "plumbago_points_committed_total", float64(n))

	// The rows agree (versions aside): points, index rows and tagged rows,
	// dated by their points' days.
	for _, q := range []string{
		"SELECT Path, Time, Value FROM %s.graphite ORDER BY Path, Time FORMAT TabSeparated",
		"SELECT Date, Level, Path FROM %s.graphite_index GROUP BY Date, Level, Path ORDER BY Date, Level, Path FORMAT TabSeparated",
		"SELECT Date, Tag1, Path, arraySort(Tags) FROM %s.graphite_tagged GROUP BY Date, Tag1, Path, Tags ORDER BY Date, Tag1, Path FORMAT TabSeparated",
	} {
		want := e.srv.Query(t, fmt.Sprintf(q, cc))
		if got := e.srv.Query(t, fmt.Sprintf(q, pb)); got != want {
			t.Errorf("%s:\nPlumbago wrote\n%s\ncarbon-clickhouse wrote\n%s", fmt.Sprintf(q, "*"), got, want)
		}
	}
	if got, want := e.srv.Query(t, "SELECT DISTINCT Path FROM "+pb+".graphite_tagged ORDER BY Path FORMAT TabSeparated"),
		"ix.d?path=%2Fvar%2Flog&q=a%26b%3Dc%2Bd\nix.t?dc=x&host=h1\nix.t?dc=x&host=h2\n"; got != want {
		t.Errorf("tagged paths:\n%s\nwant\n%s", got, want)
	}

	// (a) Plumbago serves what carbon-clickhouse wrote.
	reader := startPlumbago(t, e.bin, append([]string{"--backend", "clickhouse", "--data-dir", t.TempDir(),
		"--clickhouse-url", e.srv.URL, "--clickhouse-database", cc}, e.common...)...)
	from, until := base-10, base+100
	render := fmt.Sprintf("/render?target=ix.*.*&target=seriesByTag('dc=x')&target=seriesByTag('path=/var/log')&from=%d&until=%d&now=%d&format=json&noCache=1", from, until, now)
	for _, q := range []string{render, "/metrics/find?query=ix.*", "/metrics/find?query=ix.*.*",
		"/tags/findSeries?expr=dc=x", "/tags/findSeries?expr=path=/var/log", "/tags/host", "/tags/q"} {
		want := tagIDs.ReplaceAllString(readAll(t, "http://"+oracle.http+q), `"id": N`)
		if q == render && (!strings.Contains(want, `"ix.d;path=/var/log;q=a&b=c+d"`) || !strings.Contains(want, `"ix.t;dc=x;host=h2"`) || !strings.Contains(want, `"ix.b.max"`)) {
			t.Fatalf("pebble render %s: %s", q, want)
		}
		if got := tagIDs.ReplaceAllString(readAll(t, "http://"+reader.http+q), `"id": N`); got != want {
			t.Errorf("Plumbago on carbon-clickhouse's tables: %s:\n%s\npebble:\n%s", q, got, want)
		}
	}
	want := `[{"target": "ix.a.avg", "tags": {"name": "ix.a.avg"}, "datapoints": [`
	for i := 0; i < 10; i++ {
		v := strconv.FormatFloat(float64(i)*1.5, 'f', -1, 64)
		if !strings.Contains(v, ".") {
			v += ".0" // graphite-web's JSON writes floats as Python does
		}
		want += fmt.Sprintf("[%s, %d], ", v, base+int64(10*i))
	}
	want += fmt.Sprintf("[null, %d]]}]", base+100)
	if got := readAll(t, fmt.Sprintf("http://%s/render?target=ix.a.avg&from=%d&until=%d&now=%d&format=json&noCache=1", reader.http, from, until, now)); got != want {
		t.Errorf("render ix.a.avg from carbon-clickhouse's tables:\n%s\nwant\n%s", got, want)
	}

	// (b) graphite-clickhouse serves what Plumbago wrote as it serves what
	// carbon-clickhouse wrote, and both are the lines sent.
	var points []string
	for k, name := range interopSeries {
		for i := 0; i < 10; i++ {
			points = append(points, fmt.Sprintf("%s %d %.6f", canonicalTagged(name), base+int64(10*i), float64(i)*1.5+float64(k)))
		}
	}
	wantRender := sortedLines(points)
	for _, db := range []string{pb, cc} {
		gc := startTool(t, "graphite-clickhouse", gcBin, graphiteClickHouseConf(e.srv.URL, db, rollup))
		q := fmt.Sprintf("http://%s/render/?target=ix.*.*&target=seriesByTag('dc=x')&target=seriesByTag('path=/var/log')&from=%d&until=%d&format=pickle", gc.addr, from, until)
		if got := unpickle(t, "render", readAll(t, q)); got != wantRender {
			t.Errorf("graphite-clickhouse render on %s:\n%s\nwant\n%s\n%s", db, got, wantRender, gc.log)
		}
		for q, want := range map[string]string{
			"ix.*":   "ix.a branch\nix.b branch",
			"ix.*.*": "ix.a.avg leaf\nix.a.sum leaf\nix.b.max leaf",
		} {
			if got := unpickle(t, "find", readAll(t, fmt.Sprintf("http://%s/metrics/find/?query=%s&format=pickle&from=%d&until=%d", gc.addr, q, from, until))); got != want {
				t.Errorf("graphite-clickhouse find %s on %s:\n%s\nwant\n%s", q, db, got, want)
			}
		}
	}
	reader.stop(t)
	writer.stop(t)
	oracle.stop(t)
}

// canonicalTagged is name in Plumbago's canonical form (tags sorted by
// "k=v"), as graphite-clickhouse names tagged series too.
func canonicalTagged(name string) string {
	segs := strings.Split(name, ";")
	slices.Sort(segs[1:])
	return strings.Join(segs, ";")
}

func sortedLines(lines []string) string {
	s := slices.Clone(lines)
	slices.Sort(s)
	return strings.Join(s, "\n")
}
