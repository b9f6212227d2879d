package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// seedTree lays out a classic installation the way the seed's Docker image
// does (/opt/graphite/conf, /etc/statsd/config.js, /etc/graphite-api.yaml,
// /etc/nginx/basic_auth, /opt/graphite/storage/whisper) under root, from
// real artefacts: Debian's carbon.conf and storage-schemas.conf (its paths,
// user and ports pointed at root and free loopback ports so carbon-cache can
// run on it), carbon's storage-aggregation.conf example (its sections as
// the example documents them), and a
// graphite-api.yaml as graphite-api's documentation shows it.
type seedTree struct {
	root, conf, whisper, statsdJS, apiYAML, htpasswd string
	linePort                                         int
	// carbonConf is Debian's carbon.conf with the tree's paths; its three
	// ports are filled in by writeCarbonConf.
	carbonConf string
}

func newSeedTree(t *testing.T, root string) *seedTree {
	t.Helper()
	testenv.Files(t, "apt graphite-carbon", "/etc/carbon/carbon.conf", "/etc/carbon/storage-schemas.conf")
	s := &seedTree{root: root, conf: filepath.Join(root, "opt/graphite/conf"), whisper: filepath.Join(root, "opt/graphite/storage/whisper"),
		statsdJS: filepath.Join(root, "etc/statsd/config.js"), apiYAML: filepath.Join(root, "etc/graphite-api.yaml"),
		htpasswd: filepath.Join(root, "etc/nginx/basic_auth"), linePort: ingesttest.FreePort(t)}
	for _, d := range []string{s.conf, s.whisper, filepath.Dir(s.statsdJS), filepath.Dir(s.htpasswd), filepath.Join(root, "var/log/carbon")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("/etc/carbon/carbon.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	for _, r := range [][2]string{
		{"STORAGE_DIR    = /var/lib/graphite/", "STORAGE_DIR    = " + filepath.Join(root, "opt/graphite/storage")},
		{"LOCAL_DATA_DIR = /var/lib/graphite/whisper/", "LOCAL_DATA_DIR = " + s.whisper + "/"},
		{"CONF_DIR       = /etc/carbon/", "CONF_DIR       = " + s.conf + "/"},
		{"LOG_DIR        = /var/log/carbon/", "LOG_DIR        = " + filepath.Join(root, "var/log/carbon") + "/"},
		{"PID_DIR        = /var/run/", "PID_DIR        = " + root + "/"},
		{"USER = _graphite", "USER ="},
		{"LINE_RECEIVER_PORT = 2003", "LINE_RECEIVER_PORT = {line}"},
		{"PICKLE_RECEIVER_PORT = 2004", "PICKLE_RECEIVER_PORT = {pickle}"},
		{"CACHE_QUERY_PORT = 7002", "CACHE_QUERY_PORT = {query}"},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("Debian's carbon.conf has no line %q", r[0])
		}
		conf = strings.Replace(conf, r[0], r[1], 1) // the first is [cache]'s
	}
	s.carbonConf = conf
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.writeCarbonConf(t)
	copyFile("/etc/carbon/storage-schemas.conf", filepath.Join(s.conf, "storage-schemas.conf"))
	writeFile(t, s.conf, "storage-aggregation.conf", carbonAggregationExample)
	// graphite-api's documented configuration (its docs, "Configuration").
	writeFile(t, filepath.Dir(s.apiYAML), "graphite-api.yaml", `search_index: /srv/graphite/index
finders:
  - graphite_api.finders.whisper.WhisperFinder
functions:
  - graphite_api.functions.SeriesFunctions
  - graphite_api.functions.PieFunctions
whisper:
  directories:
    - `+s.whisper+`
time_zone: UTC
allowed_origins:
  - dashboard.example.com
cache:
  type: 'filesystem'
  dir: '/tmp/graphite-api-cache'
`)
	return s
}

// writeCarbonConf writes the tree's carbon.conf with free loopback ports:
// s.linePort for the line receiver, fresh ones for pickle and cache queries.
func (s *seedTree) writeCarbonConf(t *testing.T) {
	t.Helper()
	conf := strings.NewReplacer("{line}", fmt.Sprint(s.linePort), "{pickle}", fmt.Sprint(ingesttest.FreePort(t)),
		"{query}", fmt.Sprint(ingesttest.FreePort(t))).Replace(s.carbonConf)
	writeFile(t, s.conf, "carbon.conf", conf)
}

// carbonAggregationExample is carbon's documented storage-aggregation.conf
// example (storage-aggregation.conf.example, shipped in
// /usr/share/doc/graphite-carbon/examples/, which slim images leave out).
const carbonAggregationExample = `# Aggregation methods for whisper files. Entries are scanned in order,
# and first match wins. This file is scanned for changes every 60 seconds
[min]
pattern = \.min$
xFilesFactor = 0.1
aggregationMethod = min

[max]
pattern = \.max$
xFilesFactor = 0.1
aggregationMethod = max

[sum]
pattern = \.count$
xFilesFactor = 0
aggregationMethod = max

[default_average]
pattern = .*
xFilesFactor = 0.5
aggregationMethod = average
`

// carbonCacheWrites runs Debian's carbon-cache on the tree's carbon.conf,
// sends it lines and waits until its whisper files hold every point, then
// stops it.
func (s *seedTree) carbonCacheWrites(t *testing.T, lines []string, want map[string]int) {
	t.Helper()
	py := testenv.Python(t, "apt python3-whisper", "whisper")
	cmd, exited, conn, log := s.startCarbonCache(t)
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	if _, err := io.WriteString(conn, strings.Join(lines, "\n")+"\n"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	// Count the points each file holds in its finest archive.
	count := `import json, sys, time, whisper
out = {}
for name, path in json.loads(sys.argv[1]).items():
    try:
        (_, _, _), vals = whisper.fetch(path, int(time.time()) - 86000)
        out[name] = sum(v is not None for v in vals)
    except Exception:
        out[name] = -1
print(json.dumps(out))`
	paths := map[string]string{}
	for name := range want {
		paths[name] = filepath.Join(s.whisper, strings.ReplaceAll(name, ".", "/")+".wsp")
	}
	arg, _ := json.Marshal(paths)
	var got map[string]int
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := exec.Command(py, "-c", count, string(arg)).Output()
		if err != nil {
			t.Fatalf("counting whisper points: %v", err)
		}
		got = nil
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carbon-cache's whisper files hold %v points; want %v\n%s", got, want, log.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-exited
}

// startCarbonCache starts Debian's carbon-cache on the tree's carbon.conf
// and returns it, a channel closed when it has exited, and a connection to
// its line receiver. A free port can be
// taken by another process between FreePort and carbon-cache's bind: when
// carbon-cache exits with "Address already in use", the ports are chosen
// again and it is started again (three tries).
func (s *seedTree) startCarbonCache(t *testing.T) (*exec.Cmd, <-chan struct{}, net.Conn, *procLog) {
	t.Helper()
	bin := testenv.Command(t, "carbon-cache", "apt graphite-carbon")
	for try := 1; ; try++ {
		cmd := exec.Command(bin, "--config="+filepath.Join(s.conf, "carbon.conf"), "--pidfile="+filepath.Join(s.root, "carbon-cache.pid"),
			"--logdir="+filepath.Join(s.root, "var/log/carbon"), "--nodaemon", "start")
		log := &procLog{}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		var err error
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var conn net.Conn
			if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.linePort)); err == nil {
				return cmd, exited, conn, log
			}
			select {
			case <-exited:
				err = fmt.Errorf("carbon-cache exited: %v", cmd.ProcessState)
			default:
				continue
			}
			break
		}
		cmd.Process.Kill()
		<-exited
		if try == 3 || !strings.Contains(log.String(), "Address already in use") {
			t.Fatalf("carbon-cache did not listen: %v\n%s", err, log.String())
		}
		t.Logf("carbon-cache found a port taken (try %d); choosing ports again", try)
		s.linePort = ingesttest.FreePort(t)
		s.writeCarbonConf(t)
	}
}

// oracleRender answers render requests with Debian's graphite-web reading
// the whisper tree (query/api's oracle harness).
func oracleRender(t *testing.T, whisperDir string, reqs []string) []string {
	t.Helper()
	testenv.Files(t, "apt graphite-web python3-whisper", "/usr/lib/python3/dist-packages/graphite/render/views.py", "/usr/bin/python3")
	dir := t.TempDir()
	if err := os.Symlink(whisperDir, filepath.Join(dir, "whisper")); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"requests": reqs})
	cmd := exec.Command("/usr/bin/python3", "../../query/api/testdata/oracle/oracle.py")
	cmd.Env = append(os.Environ(), "ORACLE_DIR="+dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("graphite-web oracle: %v: %s", err, stderr.String())
	}
	var resp []struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	var bodies []string
	for i, r := range resp {
		if r.Status != 200 {
			t.Fatalf("graphite-web %s: %d %s", reqs[i], r.Status, r.Body)
		}
		bodies = append(bodies, r.Body)
	}
	return bodies
}

// TestMigrateSeedStack is issue #12's migration test: a tree shaped like
// the seed's Docker stack, built from real artefacts (Debian's carbon.conf
// and storage-schemas.conf, carbon's storage-aggregation example, a
// commented config.js with expressions, graphite-api.yaml as documented,
// htpasswd from htpasswd -m -s -B -d and openssl passwd -1 -5 -6, whisper
// files written by Debian's carbon-cache); `plumbago migrate`, then
// `serve` on the written config: the same render answers as graphite-web
// on that volume, the same users let in and out, config.js's statsd
// settings in force.
func TestMigrateSeedStack(t *testing.T) {
	t0 := time.Now()
	bin := buildBinary(t)
	t.Logf("built in %v", time.Since(t0))
	root := t.TempDir()
	s := newSeedTree(t, root)
	writeFile(t, filepath.Dir(s.statsdJS), "config.js", commentedStatsdConfig)
	users := writeToolHtpasswd(t, s.htpasswd)

	// carbon-cache writes the volume: 60 s steps (Debian's default schema),
	// .count kept by max and .min by min (the aggregation example).
	now := time.Now().Unix()
	now -= now % 60
	var lines []string
	for i := int64(0); i < 30; i++ {
		ts := now - 60*i
		lines = append(lines,
			fmt.Sprintf("app.web.requests.count %d %d", i*i%37, ts),
			fmt.Sprintf("app.web.latency.min %d.25 %d", i%9, ts),
			fmt.Sprintf("app.db.latency.min %d.5 %d", (i*7)%11, ts))
	}
	s.carbonCacheWrites(t, lines, map[string]int{"app.web.requests.count": 30, "app.web.latency.min": 30, "app.db.latency.min": 30})

	t.Logf("carbon-cache wrote the volume at %v", time.Since(t0))
	out := filepath.Join(root, "plumbago.toml")
	report, err := exec.Command(bin, "migrate", "--data-dir", filepath.Join(root, "data"), "--carbon-conf-dir", s.conf, "--statsd-config", s.statsdJS,
		"--graphite-api-config", s.apiYAML, "--htpasswd", s.htpasswd, "--out", out, "--report", filepath.Join(root, "report.txt")).CombinedOutput()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, report)
	}
	toml, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`backend = "whisper"`, `whisper-dir = "` + s.whisper, `carbon-udp-addr = "off"`,
		`schemas = "` + s.conf + `/storage-schemas.conf"`, `aggregation = "` + s.conf + `/storage-aggregation.conf"`,
		`statsd-flush-interval = "5s"`, `http-auth-file = "` + s.htpasswd + `"`, `http-allowed-origins = "dashboard.example.com"`,
		"[carbon]\n", "forward-all = true\n", "[statsd]\n", "percentThreshold = [90.0, 99.0]\n", "[statsd.graphite]\n", `globalPrefix = "stats.prod"`,
	} {
		if !strings.Contains(string(toml), want) {
			t.Errorf("written config lacks %q:\n%s", want, toml)
		}
	}
	for _, want := range []string{
		"unsupported (left out of the config) (0):\n",
		"carbon.conf:70: MAX_UPDATES_PER_SECOND = \"500\"",
		"config.js:9: keyFlush = \"map[interval:1000]\": top-key logging is not kept",
		"graphite-api.yaml:14: cache.type = \"filesystem\"",
		"htpasswd " + s.htpasswd + ": 9 users (apr1 1, bcrypt 1, des-crypt 1, md5-crypt 1, sha256-crypt 2, sha512-crypt 2, {SHA} 1)",
		"check-config on the written config: ok\n",
		"plumbago serve --config " + out + "\n",
		"plumbago import-whisper --from " + s.whisper + " ",
	} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "report.txt")); !bytes.Equal(b, report) {
		t.Errorf("--report file differs from what migrate printed")
	}

	// Serve the written config (loopback ports given by flag win).
	statsdAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	p := startPlumbago(t, bin, "--config", out, "--statsd-addr", statsdAddr)
	defer p.stop(t)
	user, pass := "ht5", users["ht5"]
	var reqs []string
	for _, q := range []string{
		"target=app.web.requests.count",
		"target=app.*.latency.min",
		"target=sumSeries(app.*.latency.min)&maxDataPoints=7",
		"target=summarize(app.web.requests.count,'10min','max')",
		"target=app.web.requests.count&from=" + fmt.Sprint(now-7*86400), // the 5-minute archive
	} {
		if !strings.Contains(q, "&from=") {
			q += fmt.Sprintf("&from=%d", now-3600)
		}
		reqs = append(reqs, fmt.Sprintf("/render?%s&until=%d&format=json", q, now+60))
	}
	t.Logf("plumbago serving at %v", time.Since(t0))
	want := oracleRender(t, s.whisper, reqs)
	t.Logf("graphite-web answered at %v", time.Since(t0))
	for i, r := range reqs {
		code, body := httpDo(t, "GET", "http://"+p.http+r, "", basicAuth(user, pass))
		var g, w any
		if code != 200 || json.Unmarshal([]byte(body), &g) != nil || json.Unmarshal([]byte(want[i]), &w) != nil || !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %d\n got  %s\n want %s (graphite-web)", r, code, body, want[i])
		}
	}
	// The same users in and out as nginx.
	find := "http://" + p.http + "/metrics/find?query=app.*"
	for u, pw := range users {
		if code, _ := httpDo(t, "GET", find, "", basicAuth(u, pw)); code != 200 {
			t.Errorf("%s with its password: %d; want 200", u, code)
		}
		// (DES crypt reads 8 characters, as nginx's crypt(3) does: change the first.)
		if code, _ := httpDo(t, "GET", find, "", basicAuth(u, "x"+pw)); code != 401 {
			t.Errorf("%s with a wrong password: %d; want 401", u, code)
		}
	}
	if code, _ := httpDo(t, "GET", find, "", basicAuth("nobody", "x")); code != 401 {
		t.Errorf("unknown user: %d; want 401", code)
	}
	t.Logf("users checked at %v", time.Since(t0))
	// config.js's statsd settings: a 5 s flush under stats.prod (a gauge:
	// it keeps its value each flush, where a counter's later flushes write
	// 0 into the same 60 s slot).
	c, err := net.Dial("udp", statsdAddr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "migrated.level:3|g")
	c.Close()
	target := url.QueryEscape("stats.prod.gauges.migrated.level")
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body := httpDo(t, "GET", "http://"+p.http+"/render?format=json&noCache=1&from=-5min&target="+target, "", basicAuth(user, pass))
		if strings.Contains(body, "[3.0, ") || strings.Contains(body, "[3, ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("statsd gauge never rendered under stats.prod: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
