package statsd

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// etsyStatsd locates (installing if needed) etsy statsd's stats.js.
func etsyStatsd(t *testing.T) (node, script string) {
	t.Helper()
	node = testenv.Command(t, "node", "apt nodejs")
	dir := os.Getenv("ETSY_STATSD_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			testenv.Missing(t, "etsy statsd: no cache directory to install it in (set ETSY_STATSD_DIR): %v", err)
		}
		dir = filepath.Join(cache, "plumbago", "etsy-statsd")
	}
	script = filepath.Join(dir, "node_modules", "statsd", "stats.js")
	if _, err := os.Stat(script); err != nil {
		if out, err := exec.Command("sh", "testdata/install-etsy-statsd.sh", dir).CombinedOutput(); err != nil {
			testenv.Missing(t, "etsy statsd (npm statsd) not installed and installing it failed: %v\n%s", err, out)
		}
	}
	return node, script
}

// etsyRun is one etsy statsd process whose graphite backend points at a
// TCP listener of the test.
type etsyRun struct {
	cmd       *exec.Cmd
	udp       *net.UDPConn
	mgmtPort  int
	flushes   chan string
	graphite  net.Listener
	logOutput *strings.Builder
}

func startEtsy(t *testing.T, node, script, jsConfig string) *etsyRun {
	t.Helper()
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &etsyRun{graphite: gl, flushes: make(chan string, 16), mgmtPort: ingesttest.FreePort(t), logOutput: &strings.Builder{}}
	go func() {
		for {
			c, err := gl.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			e.flushes <- string(b)
		}
	}()
	udpPort := ingesttest.FreePort(t)
	cfg := fmt.Sprintf(`{ port: %d, address: "127.0.0.1", mgmt_port: %d, mgmt_address: "127.0.0.1",
  graphiteHost: "127.0.0.1", graphitePort: %d, backends: ["./backends/graphite"], %s }`,
		udpPort, e.mgmtPort, gl.Addr().(*net.TCPAddr).Port, jsConfig)
	cfgFile := filepath.Join(t.TempDir(), "config.js")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	preload, err := filepath.Abs("testdata/etsy-manual-flush.js")
	if err != nil {
		t.Fatal(err)
	}
	e.cmd = exec.Command(node, "--require", preload, script, cfgFile)
	e.cmd.Dir = filepath.Dir(script)
	e.cmd.Stdout, e.cmd.Stderr = e.logOutput, e.logOutput
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.cmd.Process.Kill()
		e.cmd.Wait()
		gl.Close()
		if t.Failed() {
			t.Logf("etsy statsd output:\n%s", e.logOutput.String())
		}
	})
	// Wait for the admin port, i.e. the server is up.
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(e.mgmtPort))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("etsy statsd did not start:\n%s", e.logOutput.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.udp, err = net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: udpPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.udp.Close() })
	return e
}

var etsyPacketsRe = regexp.MustCompile(`'[a-z]+\.packets_received': (\d+)`)

// admin sends one command to etsy's admin console and reads up to END.
func (e *etsyRun) admin(t *testing.T, cmd string) string {
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(e.mgmtPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(cmd))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var all string
	r := bufio.NewReader(c)
	for !strings.HasSuffix(all, "END\n\n") {
		line, err := r.ReadString('\n')
		all += line
		if err != nil {
			break
		}
	}
	return all
}

// packetsThisInterval asks etsy's admin console for the packets received in
// the current interval.
func (e *etsyRun) packetsThisInterval(t *testing.T) int {
	all := e.admin(t, "counters")
	m := etsyPacketsRe.FindStringSubmatch(all)
	if m == nil {
		t.Fatalf("no packets_received in %q", all)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// randomStream returns n packets of 1-5 lines mixing every type, sample
// rates, deltas, multi-value lines, tags and bad lines.
func randomStream(r *rand.Rand, n int) []string {
	num := func() string {
		switch r.IntN(5) {
		case 0:
			return strconv.Itoa(r.IntN(1000))
		case 1:
			return strconv.FormatFloat(float64(r.IntN(10000))/100, 'f', -1, 64)
		case 2:
			return "0." + strconv.Itoa(r.IntN(1000))
		case 3:
			return strconv.Itoa(r.IntN(5))
		default:
			return strconv.FormatFloat(r.Float64()*1e4, 'g', 6, 64)
		}
	}
	rate := func() string {
		return []string{"", "", "", "|@0.5", "|@0.1", "|@0.25", "|@0.3"}[r.IntN(7)]
	}
	var pkts []string
	for i := 0; i < n; i++ {
		var lines []string
		for j := 0; j <= r.IntN(5); j++ {
			var l string
			switch r.IntN(12) {
			case 0, 1, 2:
				sign := ""
				if r.IntN(4) == 0 {
					sign = "-"
				}
				l = fmt.Sprintf("c%d:%s%s|c%s", r.IntN(8), sign, num(), rate())
			case 3, 4, 5:
				l = fmt.Sprintf("t%d:%s|ms%s", r.IntN(6), num(), rate())
			case 6, 7:
				v := num()
				switch r.IntN(3) {
				case 0:
					v = "+" + v
				case 1:
					v = "-" + v
				}
				l = fmt.Sprintf("g%d:%s|g", r.IntN(5), v)
			case 8:
				l = fmt.Sprintf("s%d:m%d|s", r.IntN(4), r.IntN(20))
			case 9:
				l = fmt.Sprintf("mv%d:%s|c:%s|ms", r.IntN(3), num(), num())
			case 10:
				if r.IntN(2) == 0 {
					l = fmt.Sprintf("tag%d:%s|c|#env:e%d", r.IntN(2), num(), r.IntN(2))
				} else { // names etsy sanitises; numeric names, which a JS object lists first
					names := []string{"we ird/na+me", "x  y\t", "été.v", "sl/ash", "a b", "42", "7", "007"}
					l = fmt.Sprintf("%s:%s|%s", names[r.IntN(len(names))], num(), []string{"c", "ms", "g", "s"}[r.IntN(4)])
				}
			default:
				l = []string{"bad", "x:abc|c", "y:1", "z:1|c|@x", "w:-1|ms", "p:1:2|ms"}[r.IntN(6)]
			}
			lines = append(lines, l)
		}
		pkts = append(pkts, strings.Join(lines, "\n"))
	}
	return pkts
}

// timingDependent lists output lines whose values depend on wall time.
func timingDependent(name string) bool {
	for _, s := range []string{"processing_time", "calculationtime", "graphiteStats.", "timestamp_lag"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func parseGraphite(payload string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(payload), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && !timingDependent(f[0]) {
			m[f[0]] = f[1]
		}
	}
	return m
}

func compareFlush(t *testing.T, round int, etsy map[string]string, ours *pointSink, minLines int) {
	t.Helper()
	got := map[string]string{}
	for _, p := range ours.list {
		if !timingDependent(p.name) {
			got[p.name] = jsNumberString(p.v)
		}
	}
	var names []string
	for n := range etsy {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := etsy[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	bad := 0
	for _, n := range names {
		if etsy[n] != got[n] {
			bad++
			if bad <= 20 {
				t.Errorf("round %d: %s: etsy %q, plumbago %q", round, n, etsy[n], got[n])
			}
		}
	}
	if len(etsy) < minLines {
		t.Errorf("round %d: only %d lines compared", round, len(etsy))
	}
	t.Logf("round %d: %d lines compared, %d differ", round, len(names), bad)
}

func TestDifferentialEtsy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etsy statsd")
	}
	node, script := etsyStatsd(t)
	for _, mode := range []struct {
		name string
		js   string
		cfg  func(*Config)
	}{
		{"legacy", `flushInterval: 2000, percentThreshold: [90, 50, -10, 99.5],
  histogram: [{metric: "t1", bins: [1, 5, 10.5, "inf"]}, {metric: "t", bins: [100]}]`,
			func(c *Config) {
				c.PercentThreshold = []float64{90, 50, -10, 99.5}
				c.Histogram = []HistogramConfig{{Metric: "t1", Bins: []any{int64(1), int64(5), 10.5, "inf"}}, {Metric: "t", Bins: []any{int64(100)}}}
			}},
		{"new-namespace-delete-idle", `flushInterval: 2000, deleteIdleStats: true, gaugesMaxTTL: 2, prefixStats: "sd",
  graphite: {legacyNamespace: false, globalPrefix: "pfx", prefixCounter: "", globalSuffix: "h1"}`,
			func(c *Config) {
				c.DeleteIdleStats = true
				c.GaugesMaxTTL = 2
				c.PrefixStats = "sd"
				c.Graphite = GraphiteConfig{GlobalPrefix: "pfx", PrefixTimer: "timers", PrefixGauge: "gauges", PrefixSet: "sets", GlobalSuffix: "h1"}
			}},
		{"whitelist-no-counts", `flushInterval: 2000, flush_counts: false, deleteTimers: true, deleteSets: true,
  percentThreshold: [95, -50], calculatedTimerMetrics: ["count", "upper_percent", "lower_percent", "mean", "histogram"],
  histogram: [{metric: "", bins: [10, 100, "inf"]}]`,
			func(c *Config) {
				c.FlushCounts = false
				c.DeleteTimers, c.DeleteSets = b(true), b(true)
				c.PercentThreshold = []float64{95, -50}
				c.CalculatedTimerMetrics = []string{"count", "upper_percent", "lower_percent", "mean", "histogram"}
				c.Histogram = []HistogramConfig{{Metric: "", Bins: []any{int64(10), int64(100), "inf"}}}
			}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.FlushInterval = 2 * time.Second
			mode.cfg(&cfg)
			e := startEtsy(t, node, script, mode.js)
			srv := startTestServer(t, cfg, 2)
			ours, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.udpPort})
			if err != nil {
				t.Fatal(err)
			}
			defer ours.Close()
			r := rand.New(rand.NewPCG(uint64(len(mode.name)), 42))
			// Both flush once first so both have seen one flush
			// (timestamp_lag, numStats). Etsy flushes only when told
			// (SIGUSR2), so every round's packets are in one interval of
			// both servers.
			srv.flush(flushTime(t, e.flush(t)))
			rounds := [][]string{randomStream(r, 300), randomStream(r, 300), nil, randomStream(r, 50)}
			for i, pkts := range rounds {
				sent := srv.packets.Load()
				// Batches of 25, each waited for on both sides: no
				// socket buffer overflows, and no sleeps.
				for j := 0; j < len(pkts); j += 25 {
					batch := pkts[j:min(j+25, len(pkts))]
					for _, p := range batch {
						e.udp.Write([]byte(p))
						ours.Write([]byte(p))
					}
					srv.waitPackets(t, sent+int64(j+len(batch)))
					e.waitPackets(t, j+len(batch))
				}
				if len(pkts) == 0 {
					e.waitPackets(t, 0)
				}
				// The admin console's live view must match etsy's too.
				for _, cmd := range []string{"counters", "timers", "gauges"} {
					if want, got := e.admin(t, cmd), adminCmd(t, srv, cmd, -1); got != want {
						t.Errorf("round %d: admin %s:\nplumbago %q\n    etsy %q", i, cmd, got, want)
					}
				}
				payload := e.flush(t)
				// Ours flushes at etsy's flush time, so the gauges that
				// depend on it (timestamp_lag) agree.
				out := srv.flush(flushTime(t, payload))
				compareFlush(t, i, parseGraphite(payload), out, min(len(pkts), 50))
			}
		})
	}
}

// flush makes etsy statsd flush now (testdata/etsy-manual-flush.js
// replaced its flush timer with SIGUSR2) and returns what it sent to
// graphite.
func (e *etsyRun) flush(t *testing.T) string {
	t.Helper()
	if err := e.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	return waitFlush(t, e)
}

// waitPackets polls etsy's admin console until it has counted n packets
// in the current interval.
func (e *etsyRun) waitPackets(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := e.packetsThisInterval(t)
		if got == n {
			return
		}
		if got > n || time.Now().After(deadline) {
			t.Fatalf("etsy saw %d packets this interval, sent %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// flushTime is the timestamp of etsy's flush: the third field of every
// line it sent to graphite.
func flushTime(t *testing.T, payload string) time.Time {
	t.Helper()
	line, _, _ := strings.Cut(payload, "\n")
	f := strings.Fields(line)
	if len(f) != 3 {
		t.Fatalf("etsy flush %.200q: no timestamp", payload)
	}
	ts, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		t.Fatalf("etsy flush timestamp: %v", err)
	}
	return time.Unix(ts, 0)
}

func waitFlush(t *testing.T, e *etsyRun) string {
	t.Helper()
	select {
	case p := <-e.flushes:
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("no flush from etsy statsd")
		return ""
	}
}
