package loadtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// startCarbonCache runs Debian's carbon-cache on loopback with a throwaway
// config (schema 1s:15m,1m:1d, self-metrics every second, no create or update
// limits) and returns its line and pickle addresses and whisper directory.
func startCarbonCache(t *testing.T) (lineAddr, pickleAddr, whisperDir string, pid int) {
	bin := testenv.Command(t, "carbon-cache", "apt graphite-carbon")
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf")
	for _, d := range []string{conf, filepath.Join(dir, "log"), filepath.Join(dir, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	linePort, picklePort, queryPort := ingesttest.FreePort(t), ingesttest.FreePort(t), ingesttest.FreePort(t)
	whisperDir = filepath.Join(dir, "storage", "whisper")
	files := map[string]string{
		"carbon.conf": fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/storage
LOCAL_DATA_DIR = %[2]s
WHITELISTS_DIR = %[1]s/storage/lists
CONF_DIR = %[3]s
LOG_DIR = %[1]s/log
PID_DIR = %[1]s/run
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[4]d
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[5]d
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = %[6]d
CARBON_METRIC_INTERVAL = 1
LOG_UPDATES = False
LOG_CREATES = False
LOG_LISTENER_CONNECTIONS = False
ENABLE_TAGS = False
`, dir, whisperDir, conf, linePort, picklePort, queryPort),
		"storage-schemas.conf":     "[carbon]\npattern = ^carbon\\.\nretentions = 1s:1h\n\n[default]\npattern = .*\nretentions = 1s:15m,1m:1d\n",
		"storage-aggregation.conf": "[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "--config="+filepath.Join(conf, "carbon.conf"), "--nodaemon", "start")
	logf, err := os.Create(filepath.Join(dir, "log", "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	lineAddr = fmt.Sprintf("127.0.0.1:%d", linePort)
	pickleAddr = fmt.Sprintf("127.0.0.1:%d", picklePort)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := net.Dial("tcp", pickleAddr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "log", "console.log"))
			t.Fatalf("carbon-cache did not start: %v\n%s", err, b)
		}
	}
	return lineAddr, pickleAddr, whisperDir, cmd.Process.Pid
}

// TestCarbonCacheOracle drives Debian's carbon-cache with small W1-shaped
// loads over line and pickle, reads its committedPoints self-metric from
// whisper, and checks every generated series landed with exactly its points.
func TestCarbonCacheOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts carbon-cache")
	}
	lineAddr, pickleAddr, wdir, pid := startCarbonCache(t)
	for _, tc := range []struct {
		proto  Protocol
		addr   string
		prefix string
	}{{CarbonTCP, lineAddr, "lt.line"}, {Pickle, pickleAddr, "lt.pickle"}} {
		const metrics, points = 500, 10
		rep, err := Run(context.Background(), Config{Proto: tc.proto, Addr: tc.addr, Conns: 4, Points: points,
			Shape:     Shape{Prefix: tc.prefix, Metrics: metrics},
			Committed: "whisper:" + wdir + "#carbon.agents.*.committedPoints", Settle: 20 * time.Second, Wait: time.Minute,
			ServerPID: pid, ServerDataDir: wdir, VerifyWhisperDir: wdir})
		if err != nil {
			t.Fatal(err)
		}
		if rep.PointsSent != metrics*points || len(rep.Errors) > 0 {
			t.Fatalf("%s: sent %d errors %v", tc.proto, rep.PointsSent, rep.Errors)
		}
		if rep.StoredPoints != metrics*points || rep.StoredFiles != metrics {
			t.Fatalf("%s: %d points in %d files, want %d in %d", tc.proto, rep.StoredPoints, rep.StoredFiles, metrics*points, metrics)
		}
		// committedPoints also counts carbon's own self-metric points (a few
		// dozen per second), and a busy carbon can record two intervals in
		// the same second, the second overwriting the first: allow 1% low.
		if d := rep.Committed - metrics*points; d < -metrics*points/100 || d > 2000 {
			t.Fatalf("%s: carbon committed %v for %d sent", tc.proto, rep.Committed, metrics*points)
		}
		// Each new file: 16 + 2×12 header bytes, (900 + 1440) 12-byte slots.
		const fileBytes = 16 + 2*12 + (900+1440)*12
		if rep.DiskBytes < metrics*fileBytes || rep.ServerCPUSeconds <= 0 || rep.ServerPeakRSS < 1<<20 {
			t.Fatalf("%s: server stats: disk %d (want >= %d), cpu %v s, peak rss %d", tc.proto, rep.DiskBytes, metrics*fileBytes, rep.ServerCPUSeconds, rep.ServerPeakRSS)
		}
		files, err := filepath.Glob(filepath.Join(wdir, strings.ReplaceAll(tc.prefix, ".", "/"), "*.wsp"))
		if err != nil || len(files) != metrics {
			t.Fatalf("%s: %d whisper files, want %d (%v)", tc.proto, len(files), metrics, err)
		}
		total := 0
		for _, f := range files {
			pts, err := readWhisperPoints(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != points {
				t.Fatalf("%s: %s holds %d points, want %d", tc.proto, f, len(pts), points)
			}
			var i int
			if _, err := fmt.Sscanf(filepath.Base(f), "m%d.wsp", &i); err != nil {
				t.Fatal(err)
			}
			sort.Slice(pts, func(a, b int) bool { return pts[a].ts < pts[b].ts })
			for p, pt := range pts {
				if pt.ts != pts[0].ts+int64(p) || pt.v != float64(value(i, p)) {
					t.Fatalf("%s: %s point %d = (%d, %v), want 1 s steps and value %d", tc.proto, f, p, pt.ts, pt.v, value(i, p))
				}
			}
			total += len(pts)
		}
		if total != metrics*points {
			t.Fatalf("%s: %d points in files, want %d", tc.proto, total, metrics*points)
		}
	}
}
