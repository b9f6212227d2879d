package aggregator

import (
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

const oracleRules = `# every method, both capture kinds, * nodes and regex fragments
agg.<env>.requests.sum (3) = sum <env>.app.*.requests
agg.<env>.requests.avg (3) = avg <env>.app.*.requests
agg.<env>.requests.min (3) = min <env>.app.*.requests
agg.<env>.requests.max (3) = max <env>.app.*.requests
agg.<env>.requests.count (3) = count <env>.app.*.requests
agg.<env>.requests.p50 (3) = p50 <env>.app.*.requests
agg.<env>.requests.p75 (3) = p75 <env>.app.*.requests
agg.<env>.requests.p80 (3) = p80 <env>.app.*.requests
agg.<env>.requests.p90 (3) = p90 <env>.app.*.requests
agg.<env>.requests.p95 (3) = p95 <env>.app.*.requests
agg.<env>.requests.p99 (3) = p99 <env>.app.*.requests
agg.<env>.requests.p999 (3) = p999 <env>.app.*.requests
deep.<path>.total (6) = sum deep.<<path>>.leaf
hosts.<dc>.cpu (3) = avg srv-<dc>-*.cpu
web.all (3) = sum web(0[1-3]|10).hits
`

type key = ingesttest.NameTS

// TestAgainstCarbonAggregator feeds the same lines to Debian's
// carbon-aggregator and to two Loops + a Merger, and compares the last value
// carbon emitted for every (aggregate, interval) with ours.
func TestAgainstCarbonAggregator(t *testing.T) {
	bin := testenv.Command(t, "carbon-aggregator", "apt graphite-carbon")
	if testing.Short() {
		t.Skip("oracle test takes ~6 s")
	}
	dir := t.TempDir()
	linePort, picklePort, destPort := ingesttest.FreePort(t), ingesttest.FreePort(t), ingesttest.FreePort(t)
	conf := fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/storage
LOCAL_DATA_DIR = %[1]s/storage/whisper
LOG_DIR = %[1]s/log
PID_DIR = %[1]s
[aggregator]
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[2]d
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[3]d
DESTINATIONS = 127.0.0.1:%[4]d
FORWARD_ALL = False
MAX_AGGREGATION_INTERVALS = 5
CARBON_METRIC_INTERVAL = 0
LOG_DIR = %[1]s/log
PID_DIR = %[1]s
`, dir, linePort, picklePort, destPort)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "carbon.conf"), []byte(conf), 0o644))
	must(os.WriteFile(filepath.Join(dir, "storage-schemas.conf"), []byte("[d]\npattern = .*\nretentions = 60s:1d\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "rules.conf"), []byte(oracleRules), 0o644))

	// Our destination: collect carbon's pickled output.
	dest, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", destPort))
	must(err)
	defer dest.Close()
	carbonOut := ingesttest.CollectPickle(t, dest)

	cmd := exec.Command(bin, "--config="+filepath.Join(dir, "carbon.conf"), "--rules="+filepath.Join(dir, "rules.conf"),
		"--pidfile="+filepath.Join(dir, "agg.pid"), "--logdir="+filepath.Join(dir, "log"), "--nodaemon", "start")
	cmd.Dir = dir
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	must(cmd.Start())
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var conn net.Conn
	for i := 0; i < 100; i++ {
		if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", linePort)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if conn == nil {
		t.Fatalf("carbon-aggregator did not start: %v\n%s", err, log.String())
	}

	// Input: half-integer values so sums are exact in any order.
	rng := rand.New(rand.NewSource(1))
	base := time.Now().Unix() - 600
	var lines []string
	names := []string{"prod.app.a.requests", "prod.app.b.requests", "dev.app.a.requests",
		"deep.x.y.z.leaf", "deep.q.leaf", "srv-eu-1.cpu", "srv-eu-22.cpu", "srv-us-3.cpu",
		"web01.hits", "web10.hits", "web04.hits", "prod.app..requests", "unmatched.metric"}
	for i := 0; i < 400; i++ {
		ts := base + int64(rng.Intn(12))
		v := float64(rng.Intn(2001)-1000) / 2
		lines = append(lines, fmt.Sprintf("%s %s %d", names[rng.Intn(len(names))], strconv.FormatFloat(v, 'f', -1, 64), ts))
	}
	_, err = io.WriteString(conn, strings.Join(lines, "\n")+"\n")
	must(err)
	conn.Close()

	// Ours: the same lines over two loops.
	rules, err := Parse(strings.NewReader(oracleRules))
	must(err)
	loops := []*Loop{NewLoop(rules), NewLoop(rules)}
	for i, l := range lines {
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[1], 64)
		ts, _ := strconv.ParseInt(f[2], 10, 64)
		loops[i%2].Add([]byte(f[0]), ts, v)
	}
	m := NewMerger(rules)
	for _, l := range loops {
		m.Merge(l.Swap())
	}
	ours := map[key]float64{}
	m.Emit(time.Now().Unix(), func(name string, ts int64, v float64) { ours[key{Name: name, TS: ts}] = v })

	// carbon emits 6 s after the first point at the latest (largest
	// frequency); wait until it has sent as many aggregates as we have.
	var carbon map[key]float64
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if carbon = carbonOut(); len(carbon) >= len(ours) {
			time.Sleep(300 * time.Millisecond)
			carbon = carbonOut()
			break
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Logf("%d aggregates from carbon, %d ours", len(carbon), len(ours))
	if len(ours) < 40 {
		t.Fatalf("only %d aggregates: test input too thin", len(ours))
	}
	diffs := ingesttest.DiffPoints(carbon, ours, "carbon", "ours")
	if len(diffs) > 0 {
		t.Errorf("%d differences (of %d carbon, %d ours):\n%s\ncarbon log:\n%s", len(diffs), len(carbon), len(ours), strings.Join(diffs, "\n"), log.String())
	}
}
