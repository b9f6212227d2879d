package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// freeTCPUDPPort returns a port free for both TCP and UDP on loopback.
func freeTCPUDPPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		p := ingesttest.FreePort(t)
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			pc.Close()
			return p
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// builtBinary is cmd/plumbago built once per test process for every test
// that runs it (linking takes tens of seconds on a loaded machine);
// TestMain removes it.
var builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// plumbagoBinary returns cmd/plumbago from this module, built on the first
// call as it ships and as the benchmark scripts build it
// (scripts/build-plumbago.sh: CGO_ENABLED=0, -trimpath).
func plumbagoBinary(t *testing.T) string {
	t.Helper()
	testenv.Command(t, "go", "the Go toolchain, to build cmd/plumbago")
	b := &builtBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "plumbago-loadtest-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "plumbago")
		if out, err := exec.Command("../scripts/build-plumbago.sh", b.path).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building plumbago: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary.dir != "" {
		os.RemoveAll(builtBinary.dir)
	}
	os.Exit(code)
}

type plumbagoServer struct {
	pid                              int
	carbon, pickle, statsd, httpBase string
	dataDir                          string
	log                              *bytes.Buffer
}

// startPlumbago builds cmd/plumbago from this module and serves on loopback
// with the W1 schema (1s:15m,1m:1d, average, xFilesFactor 0).
func startPlumbago(t *testing.T, backend string) *plumbagoServer {
	t.Helper()
	bin := plumbagoBinary(t)
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	agg := filepath.Join(dir, "aggregation.conf")
	os.WriteFile(schemas, []byte("[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n"), 0o644)
	os.WriteFile(agg, []byte("[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"), 0o644)
	s := &plumbagoServer{dataDir: filepath.Join(dir, "data"), log: &bytes.Buffer{}}
	port := func() string { return fmt.Sprintf("127.0.0.1:%d", freeTCPUDPPort(t)) }
	s.carbon, s.pickle, s.statsd = port(), port(), port()
	httpAddr := port()
	s.httpBase = "http://" + httpAddr
	cmd := exec.Command(bin, "serve", "--backend", backend, "--data-dir", s.dataDir,
		"--carbon-addr", s.carbon, "--pickle-addr", s.pickle, "--statsd-addr", s.statsd,
		"--statsd-admin-addr", port(), "--carbonlink-addr", port(), "--protobuf-addr", "",
		"--http-addr", httpAddr, "--schemas", schemas, "--aggregation", agg, "--statsd-flush-interval", "1s")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.pid = cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("plumbago exited:\n%s", s.log.String())
		default:
		}
		resp, err := http.Get(s.httpBase + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("plumbago did not come up: %v\n%s", err, s.log.String())
		}
	}
}

// TestPlumbagoExactCounts runs small W1-shaped loads against a real
// Plumbago on loopback and checks that the points it reports committed (and
// received) are exactly the points the generator sent.
func TestPlumbagoExactCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts plumbago")
	}
	for _, backend := range []string{"whisper", "pebble"} {
		t.Run(backend, func(t *testing.T) {
			srv := startPlumbago(t, backend)
			cases := []struct {
				name string
				cfg  Config
			}{
				{"carbon-tcp", Config{Proto: CarbonTCP, Addr: srv.carbon, Conns: 4, Points: 10, Shape: Shape{Prefix: "lt.tcp", Metrics: 1000}}},
				{"pickle", Config{Proto: Pickle, Addr: srv.pickle, Conns: 2, Points: 10, Shape: Shape{Prefix: "lt.pickle", Metrics: 1000}}},
				{"carbon-udp", Config{Proto: CarbonUDP, Addr: srv.carbon, Conns: 2, Points: 10, Rate: 20000, Shape: Shape{Prefix: "lt.udp", Metrics: 1000}}},
				{"carbon-tcp tree", Config{Proto: CarbonTCP, Addr: srv.carbon, Conns: 3, Points: 5, Shape: Shape{Prefix: "lt.tree", Metrics: 999, Tree: true, Fanout: 10}}},
			}
			mix := StatsdMix{Counter: 60, Timer: 20, Gauge: 15, Set: 5, SampleRate: 0.5, Tags: 1}
			cases = append(cases,
				struct {
					name string
					cfg  Config
				}{"statsd-udp", Config{Proto: StatsdUDP, Addr: srv.statsd, Conns: 2, Points: 4, PerDatagram: 10, Rate: 20000, Mix: mix, Shape: Shape{Prefix: "lt.su", Metrics: 500}}},
				struct {
					name string
					cfg  Config
				}{"statsd-tcp", Config{Proto: StatsdTCP, Addr: srv.statsd, Conns: 2, Points: 3, Mix: mix, Shape: Shape{Prefix: "lt.st", Metrics: 500}}},
			)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					cfg := c.cfg
					if cfg.Proto.stream() {
						conn, err := net.Dial("tcp", cfg.Addr)
						if err != nil {
							t.Fatalf("plumbago does not listen for %s: %v", cfg.Proto, err)
						}
						conn.Close()
					}
					cfg.Committed = "prom:" + srv.httpBase + "/metrics#" + MetricCommitted
					cfg.Received = "prom:" + srv.httpBase + "/metrics#" + MetricReceived
					cfg.Dropped = "prom:" + srv.httpBase + "/metrics#" + MetricDropped
					if cfg.Proto.statsd() {
						// Lines are aggregated: count what statsd says it received.
						cfg.Committed = "render:" + srv.httpBase + "/render#" + StatsdReceivedTarget
						cfg.Received = ""
					}
					cfg.ServerPID, cfg.ServerDataDir = srv.pid, srv.dataDir
					cfg.Settle, cfg.Wait = 10*time.Second, time.Minute
					rep, err := Run(context.Background(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					want := float64(cfg.Shape.Metrics * cfg.Points)
					if float64(rep.PointsSent) != want || !rep.AllCommitted || rep.Dropped != 0 || len(rep.Errors) > 0 {
						t.Fatalf("sent %d committed %v dropped %v all %v errors %v; want %v sent and committed",
							rep.PointsSent, rep.Committed, rep.Dropped, rep.AllCommitted, rep.Errors, want)
					}
					if cfg.Proto.statsd() {
						// statsd.metrics_received counts exactly our lines.
						if rep.Committed != want {
							t.Fatalf("statsd received %v lines, sent %v", rep.Committed, want)
						}
						return
					}
					// The server's global counters also count its own
					// self-metrics (a few per second), so they may run ahead
					// by a little; the exact check is the data itself.
					if rep.Committed < want || rep.Committed > want+200 || rep.Received < want || rep.Received > want+200 {
						t.Fatalf("committed %v received %v for %v sent", rep.Committed, rep.Received, want)
					}
					if got := renderCount(t, srv.httpBase, cfg.Shape); got != int(want) {
						t.Fatalf("/render returns %d points under %s, want %v", got, cfg.Shape.Prefix, want)
					}
					// New whisper files always grow the data dir; pebble's
					// preallocated WAL may absorb a small run. (CPU time is
					// counted in 10 ms ticks: a fast run may show none.)
					if rep.ServerCPUSeconds < 0 || rep.ServerPeakRSS <= 0 || (backend == "whisper" && rep.DiskBytes <= 0) {
						t.Fatalf("server stats missing: %+v", rep)
					}
				})
			}
		})
	}
}

// renderCount asks /render for every series of the shape and counts the
// non-null datapoints: the points stored and queryable.
func renderCount(t *testing.T, base string, sh Shape) int {
	t.Helper()
	levels := strings.Count(string(sh.name(nil, 0)), ".") - strings.Count(sh.Prefix, ".")
	target := sh.Prefix + strings.Repeat(".*", levels)
	now := time.Now().Unix()
	series, err := render(context.Background(), httpClient(), base+"/render", target, now-800, now+60)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range series {
		for _, dp := range s.Datapoints {
			if dp[0] != nil && !math.IsNaN(float64(*dp[0])) {
				n++
			}
		}
	}
	if len(series) != sh.Metrics {
		t.Fatalf("/render of %s returned %d series, want %d", target, len(series), sh.Metrics)
	}
	return n
}
