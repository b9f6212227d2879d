package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/storage/clickhouse/chtest"

	"golang.org/x/crypto/bcrypt"

	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

// builtBinary is the plumbago binary every end-to-end test of this package
// runs: linking it takes tens of seconds on a loaded machine, so it is
// built once per test process (buildBinary) and removed by TestMain.
var builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// buildBinary returns the plumbago binary, compiled on the first call as
// it ships (scripts/build-plumbago.sh: CGO_ENABLED=0, -trimpath). A plain
// `go build` with gcc present is a cgo build, where pebble's memtables and
// block cache live in C malloc's arenas: the memory tests would then measure
// a process that does not ship (TestMemoryReturnsAfterSeriesBurst kept
// about 65 MB there after its burst and failed under load).
func buildBinary(t *testing.T) string {
	t.Helper()
	b := &builtBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "plumbago-e2e-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "plumbago")
		if out, err := exec.Command("../../scripts/build-plumbago.sh", b.path).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("scripts/build-plumbago.sh: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	chtest.StopShared() // the clickhouse tests' server, if they started it
	if builtBinary.dir != "" {
		os.RemoveAll(builtBinary.dir)
	}
	os.Exit(code)
}

type proc struct {
	cmd    *exec.Cmd
	http   string
	carbon string
	log    *procLog
}

// procLog holds a child's combined output. exec copies the output in from
// its own goroutine while a test reads it, so both go through a lock.
type procLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *procLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *procLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog reports whether the child's output contains s within 30 s: a line
// logged before /healthz answered may still be on its way through the pipe.
func (p *proc) waitLog(s string) bool {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.log.String(), s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// waitFor polls ok until it holds (60 s), and fails with the child's
// output otherwise.
func (p *proc) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s:\n%s", what, p.log)
		}
	}
}

// startPlumbago runs the binary with loopback ports and waits for /healthz.
func startPlumbago(t *testing.T, bin string, extra ...string) *proc {
	t.Helper()
	p := launchPlumbago(t, bin, extra...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + p.http + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("plumbago did not become healthy:\n%s", p.log)
	return nil
}

// serveArgs are the arguments of `plumbago serve` on the given HTTP and
// carbon addresses with every other listener off and a 100 ms flush
// interval, then extra.
func serveArgs(httpAddr, carbonAddr string, extra ...string) []string {
	return append([]string{"serve",
		"--http-addr", httpAddr, "--carbon-addr", carbonAddr,
		"--pickle-addr", "", "--statsd-addr", "", "--statsd-admin-addr", "", "--carbonlink-addr", "",
		"--flush-interval", "100ms",
	}, extra...)
}

// launchPlumbago starts the binary with loopback ports; it is killed when
// the test ends if still running.
func launchPlumbago(t *testing.T, bin string, extra ...string) *proc {
	t.Helper()
	p := &proc{
		http:   fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t)),
		carbon: fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t)),
		log:    &procLog{},
	}
	p.cmd = exec.Command(bin, serveArgs(p.http, p.carbon, extra...)...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

func (p *proc) metric(t *testing.T, name string) float64 {
	t.Helper()
	r, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	t.Fatalf("metric %s not exposed", name)
	return 0
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("plumbago exited with %v:\n%s", err, p.log)
	}
}

// TestSIGTERMWritesEverythingAccepted sends points over TCP and UDP, stops
// the server with SIGTERM at once, and checks every point is in the whisper
// files afterwards (read back by the whisper backend on a fresh open).
func TestSIGTERMWritesEverythingAccepted(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 1s:1h,1m:1d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A long flush interval: everything is still buffered when SIGTERM comes.
	p := startPlumbago(t, bin, "--backend", "whisper", "--data-dir", dir, "--schemas", schemas, "--flush-interval", "1h")
	now := time.Now().Unix()
	const series, points = 200, 30
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(c)
	for i := 0; i < points; i++ {
		for s := 0; s < series; s++ {
			fmt.Fprintf(w, "e2e.s%03d.v %d %d\n", s, s*1000+i, now-int64(points)+int64(i))
		}
	}
	w.Flush()
	c.Close()
	u, err := net.Dial("udp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(u, "e2e.udp.v 7 %d\ne2e.udp.v 8 %d\n", now-2, now-1)
	u.Close()
	// Wait until the server accepted everything (received), then stop it
	// while the points are still only in the write buffer.
	want := float64(series*points + 2)
	deadline := time.Now().Add(10 * time.Second)
	for p.metric(t, "plumbago_points_received_total") < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := p.metric(t, "plumbago_points_received_total"); got != want {
		t.Fatalf("received %v points; want %v", got, want)
	}
	if got := p.metric(t, "plumbago_points_committed_total"); got != 0 {
		t.Fatalf("committed %v points before SIGTERM; the test needs them buffered", got)
	}
	p.stop(t)
	if !regexp.MustCompile(`plumbago stopped.*received=6002 committed=6002`).MatchString(p.log.String()) {
		t.Fatalf("shutdown log does not report every point committed:\n%s", p.log)
	}

	rules, err := schema.Load(schemas, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := whisper.Open(whisper.Options{Dir: filepath.Join(dir, "whisper"), Rules: rules, Index: index.New()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fetchNow := now + 1
	for s := 0; s < series; s++ {
		name := fmt.Sprintf("e2e.s%03d.v", s)
		got, err := st.Fetch(name, now-int64(points)-1, fetchNow, fetchNow)
		if err != nil {
			t.Fatalf("fetch %s: %v", name, err)
		}
		for i := 0; i < points; i++ {
			ts := now - int64(points) + int64(i)
			idx := (ts - got.Start) / got.Step
			if v := got.Values[idx]; v != float64(s*1000+i) {
				t.Fatalf("%s at %d = %v; want %d", name, ts, v, s*1000+i)
			}
		}
	}
	got, err := st.Fetch("e2e.udp.v", now-3, fetchNow, fetchNow)
	if err != nil {
		t.Fatal(err)
	}
	if v1, v2 := got.Values[(now-2-got.Start)/got.Step], got.Values[(now-1-got.Start)/got.Step]; v1 != 7 || v2 != 8 || math.IsNaN(v1) {
		t.Fatalf("udp points = %v, %v; want 7, 8", v1, v2)
	}
}

// TestRenderSeesPointsAsSoonAsAccepted sends lines over TCP and UDP and checks
// /render and /metrics/find point by point, before the points reached disk
// (flush interval of an hour) and again after a restart from disk.
func TestRenderSeesPointsAsSoonAsAccepted(t *testing.T) {
	eachBackend(t, testRenderSeesPoints)
}

func testRenderSeesPoints(t *testing.T, bin, backend string) {
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 10s:1h,1m:1d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--backend", backend, "--data-dir", dir, "--schemas", schemas, "--flush-interval", "1h"}
	p := startPlumbago(t, bin, args...)
	now := time.Now().Unix()
	base := now - now%10 - 60 // six whole 10 s slots ago
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "r.tcp.a 1 %d\nr.tcp.a 2.5 %d\nr.tcp.b -3 %d\nnot a valid line\n", base, base+10, base+10)
	c.Close()
	u, err := net.Dial("udp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(u, "r.udp.a 42 %d", base+20)
	u.Close()
	deadline := time.Now().Add(10 * time.Second)
	for p.metric(t, "plumbago_points_received_total") < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Wait for the shard consumers to file the points (visibility).
	check := func(phase string) {
		t.Helper()
		from, until := base-10, base+30
		url := fmt.Sprintf("http://%s/render?noCache=1&target=r.*.a&target=r.tcp.b&from=%d&until=%d&format=json", p.http, from, until)
		want := fmt.Sprintf(`[{"target": "r.tcp.a", "tags": {"name": "r.tcp.a"}, "datapoints": [[1.0, %d], [2.5, %d], [null, %d], [null, %d]]}, `+
			`{"target": "r.udp.a", "tags": {"name": "r.udp.a"}, "datapoints": [[null, %d], [null, %d], [42.0, %d], [null, %d]]}, `+
			`{"target": "r.tcp.b", "tags": {"name": "r.tcp.b"}, "datapoints": [[null, %d], [-3.0, %d], [null, %d], [null, %d]]}]`,
			base, base+10, base+20, base+30, base, base+10, base+20, base+30, base, base+10, base+20, base+30)
		var got string
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if got = readAll(t, url); got == want {
				break
			}
		}
		if got != want {
			t.Fatalf("%s: render =\n%s\nwant\n%s", phase, got, want)
		}
		find := readAll(t, fmt.Sprintf("http://%s/metrics/find?query=r.*&format=completer", p.http))
		wantFind := `{"metrics": [{"path": "r.tcp.", "name": "tcp", "is_leaf": "0"}, {"path": "r.udp.", "name": "udp", "is_leaf": "0"}]}`
		if find != wantFind {
			t.Fatalf("%s: find = %s; want %s", phase, find, wantFind)
		}
	}
	check("buffered")
	// Pebble's write buffer flushes at least every half sync interval (to
	// bound crash loss), so only whisper's points are surely still buffered.
	if got := p.metric(t, "plumbago_points_committed_total"); backend == "whisper" && got != 0 {
		t.Fatalf("points reached disk (%v) before the test expected", got)
	}
	if got := p.metric(t, `plumbago_points_dropped_total{reason="bad_fields"}`); got != 1 {
		t.Fatalf("bad_fields drops = %v; want 1", got)
	}
	p.stop(t)
	// A fresh server over the same files: the index comes from the startup
	// scan and the values from disk.
	p = startPlumbago(t, bin, args...)
	check("after restart")
	p.stop(t)
}

// TestKill9LosesAtMostTheSyncInterval kills the server with SIGKILL while
// every point is still in the write buffer (flush interval of an hour) and
// checks, after a restart, that everything accepted more than a sync
// interval before the kill is served.
func TestKill9LosesAtMostTheSyncInterval(t *testing.T) {
	bin := buildBinary(t)
	for _, backend := range []string{"whisper", "pebble"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			schemas := filepath.Join(dir, "schemas.conf")
			if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 1s:1h,1m:1d\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"--backend", backend, "--data-dir", dir, "--schemas", schemas, "--sync-interval", "100ms"}
			p := startPlumbago(t, bin, append(args, "--flush-interval", "1h")...)
			now := time.Now().Unix()
			c, err := net.Dial("tcp", p.carbon)
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(c)
			for i := 0; i < 50; i++ {
				for s := 0; s < 20; s++ {
					fmt.Fprintf(w, "k9.s%02d %d %d\n", s, s*100+i, now-50+int64(i))
				}
			}
			w.Flush()
			c.Close()
			for end := time.Now().Add(10 * time.Second); p.metric(t, "plumbago_points_received_total") < 1000 && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // five sync intervals
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			p.cmd.Wait()

			p = startPlumbago(t, bin, args...)
			defer p.stop(t)
			for s := 0; s < 20; s++ {
				url := fmt.Sprintf("http://%s/render?noCache=1&target=k9.s%02d&from=%d&until=%d&format=json", p.http, s, now-51, now-1)
				var sb strings.Builder
				fmt.Fprintf(&sb, `[{"target": "k9.s%02d", "tags": {"name": "k9.s%02d"}, "datapoints": [`, s, s)
				for i := 0; i < 50; i++ {
					if i > 0 {
						sb.WriteString(", ")
					}
					fmt.Fprintf(&sb, "[%d.0, %d]", s*100+i, now-50+int64(i))
				}
				sb.WriteString("]}]")
				if got := readAll(t, url); got != sb.String() {
					t.Fatalf("after kill -9, render =\n%s\nwant\n%s\nlog:\n%s", got, sb.String(), p.log)
				}
			}
		})
	}
}

// TestOnlineCheckpointRestores takes a checkpoint of a running pebble server
// through POST /admin/checkpoint and serves it as a new data dir.
func TestOnlineCheckpointRestores(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	p := startPlumbago(t, bin, "--data-dir", filepath.Join(dir, "live"))
	now := time.Now().Unix()
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "bk.a 11 %d\nbk.b 22 %d\n", now-now%10-20, now-now%10-20)
	c.Close()
	for end := time.Now().Add(10 * time.Second); p.metric(t, "plumbago_points_received_total") < 2 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	backup := filepath.Join(dir, "backup")
	r, err := http.PostForm("http://"+p.http+"/admin/checkpoint", map[string][]string{"dest": {backup}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("checkpoint: %d %s", r.StatusCode, body)
	}
	// A second checkpoint to the same place is refused, not merged.
	r, err = http.PostForm("http://"+p.http+"/admin/checkpoint", map[string][]string{"dest": {backup}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode == 200 {
		t.Fatal("checkpoint over an existing copy succeeded")
	}
	p.stop(t)
	q := startPlumbago(t, bin, "--data-dir", backup)
	defer q.stop(t)
	ts := now - now%10 - 20
	got := readAll(t, fmt.Sprintf("http://%s/render?noCache=1&target=bk.*&from=%d&until=%d&format=json", q.http, ts-10, ts))
	want := fmt.Sprintf(`[{"target": "bk.a", "tags": {"name": "bk.a"}, "datapoints": [[11.0, %d]]}, {"target": "bk.b", "tags": {"name": "bk.b"}, "datapoints": [[22.0, %d]]}]`, ts, ts)
	if got != want {
		t.Fatalf("restored render = %s; want %s", got, want)
	}
}

// TestBasicAuth runs the server with --http-auth-file and checks every
// endpoint but /healthz asks for credentials.
func TestBasicAuth(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(pw, []byte("grafana:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPlumbago(t, bin, "--data-dir", dir, "--http-auth-file", pw)
	defer p.stop(t)
	get := func(path, user, pass string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+p.http+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	for _, path := range []string{"/render?noCache=1&target=x&format=json", "/metrics/find?query=*", "/metrics"} {
		if c := get(path, "", ""); c != 401 {
			t.Errorf("%s without credentials: %d; want 401", path, c)
		}
		if c := get(path, "grafana", "wrong"); c != 401 {
			t.Errorf("%s with a wrong password: %d; want 401", path, c)
		}
		if c := get(path, "grafana", "s3cret"); c != 200 {
			t.Errorf("%s with credentials: %d; want 200", path, c)
		}
	}
	if c := get("/healthz", "", ""); c != 200 {
		t.Errorf("/healthz without credentials: %d; want 200", c)
	}
}

// TestVersionIsGraphiteWebs checks /version reports a graphite-web 1.1
// version, which is what makes Grafana turn on tags and /functions.
func TestVersionIsGraphiteWebs(t *testing.T) {
	bin := buildBinary(t)
	p := startPlumbago(t, bin, "--data-dir", t.TempDir())
	defer p.stop(t)
	v := strings.TrimSpace(readAll(t, "http://"+p.http+"/version"))
	if !regexp.MustCompile(`^"?1\.1\.\d+"?$`).MatchString(v) {
		t.Fatalf("/version = %q; want graphite-web's 1.1.x", v)
	}
}

// TestCheckConfig runs `plumbago check-config`: it must refuse what serve
// would refuse at start, through the same loaders.
func TestCheckConfig(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"check-config"}, args...)...).CombinedOutput()
		return string(out), err
	}
	good := write("agg.conf", "app.<host>.total (60) = sum app.<host>.*\n")
	out, err := run("--aggregation-rules", good)
	if err != nil || !strings.Contains(out, "config ok") || !strings.Contains(out, "aggregation rules: 1") {
		t.Fatalf("good rules: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"aggregation rule without '='", []string{"--aggregation-rules", write("bad-agg.conf", "no equals sign here\n")}},
		{"[statsd] with a bad percentThreshold", []string{"--config", write("bad.toml", "[statsd]\npercentThreshold = [\"x\"]\n")}},
		{"[statsd] with a misspelt key", []string{"--config", write("typo.toml", "[statsd]\npercentThreshhold = [90]\n")}},
		{"rewrite rules with an invalid regex line", []string{"--rewrite-rules", write("rw.conf", "[pre]\n^a( = b\n^c = d\n")}},
		{"htpasswd with a malformed MD5 entry", []string{"--http-auth-file", write("htpasswd", "u:$apr1$abc$def\n")}},
		{"htpasswd with a yescrypt entry", []string{"--http-auth-file", write("htpasswd2", "u:$y$j9T$abc$def\n")}},
	} {
		if out, err := run(tc.args...); err == nil {
			t.Errorf("%s: check-config passed:\n%s", tc.name, out)
		}
	}
}
