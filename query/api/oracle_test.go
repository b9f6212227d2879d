package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/query/oracletest"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/whisper"
)

const graphiteWeb = "/usr/lib/python3/dist-packages/graphite/render/views.py"

func needOracle(t testing.TB) {
	t.Helper()
	testenv.Files(t, "apt graphite-web python3-whisper", graphiteWeb, "/usr/lib/python3/dist-packages/whisper.py", "/usr/bin/python3")
}

type oracleMetric struct {
	Name       string       `json:"name"`
	Retentions [][2]int64   `json:"retentions"`
	XFF        float64      `json:"xff"`
	Agg        string       `json:"agg"`
	Points     [][2]float64 `json:"points"`
}

var (
	fixtureOnce sync.Once
	fixtureSrc  *whisper.Store
	fixtureDir  string
	fixtureNow  int64
	fixtureErr  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureSrc != nil {
		fixtureSrc.Close()
	}
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// sharedFixture builds the whisper fixture once per test binary.
func sharedFixture(t testing.TB) (*whisper.Store, string, int64) {
	t.Helper()
	needOracle(t)
	fixtureOnce.Do(func() {
		fixtureNow = time.Now().Unix()
		dir, err := os.MkdirTemp("", "plumbago-oracle")
		if err != nil {
			fixtureErr = err.Error()
			return
		}
		fixtureDir = dir
		fixtureSrc, fixtureErr = oracleFixture(dir, fixtureNow)
	})
	if fixtureErr != "" {
		t.Fatal(fixtureErr)
	}
	return fixtureSrc, fixtureDir, fixtureNow
}

// oracleFixture creates whisper files under dir with python3-whisper and
// opens them with Plumbago's whisper backend.
func oracleFixture(dir string, now int64) (*whisper.Store, string) {
	wdir := filepath.Join(dir, "whisper")
	var ms []oracleMetric
	for _, f := range oracletest.Metrics() {
		m := oracleMetric{Name: f.Name, Retentions: [][2]int64{{f.Step, f.N}}, XFF: 0.5, Agg: "average"}
		for i := int64(0); i < f.N; i++ {
			if v, ok := f.Value(i); ok {
				m.Points = append(m.Points, [2]float64{float64(now - now%f.Step - i*f.Step), v})
			}
		}
		ms = append(ms, m)
	}
	req, _ := json.Marshal(map[string]any{"dir": wdir, "metrics": ms})
	cmd := exec.Command("/usr/bin/python3", "testdata/oracle/mkwhisper.py")
	cmd.Stdin = bytes.NewReader(req)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("mkwhisper: %v: %s", err, out)
	}
	st, err := whisper.Open(whisper.Options{Dir: wdir, Index: index.New()})
	if err != nil {
		return nil, err.Error()
	}
	<-st.ScanDone()
	return st, ""
}

type oracleResponse struct {
	Status      int    `json:"status"`
	Body        string `json:"body"`
	ContentType string `json:"content_type"`
}

// runOracle answers the requests (GET paths with query) with graphite-web.
func runOracle(t testing.TB, dir string, reqs []string) []oracleResponse {
	t.Helper()
	var list []any
	for _, r := range reqs {
		list = append(list, r)
	}
	return runOracleAny(t, dir, list)
}

// runOracleAny accepts GET paths (strings) and POSTs ({"path", "form"}).
func runOracleAny(t testing.TB, dir string, reqs []any) []oracleResponse {
	t.Helper()
	var resp []oracleResponse
	runPython(t, "testdata/oracle/oracle.py", map[string]any{"requests": reqs}, &resp, "ORACLE_DIR="+dir)
	return resp
}

// runPython runs a Python oracle script with in as JSON on its stdin (nil:
// none) and env added to its environment, and decodes its JSON output
// into out.
func runPython(t testing.TB, script string, in, out any, env ...string) {
	t.Helper()
	var stdin []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		stdin = b
	}
	b := oracletest.RunPython(t, script, stdin, env...)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s output: %v", script, err)
	}
}

// renderCase is one /render request compared with graphite-web.
type renderCase struct {
	targets []string
	extra   string // more query parameters
	// status overrides graphite-web's status where we deliberately differ
	// (graphite-web answers 500 for some invalid input; we answer 400).
	status int
	// approx, if set, is the relative tolerance for comparing values
	// (libm differences between Go and glibc).
	approx float64
}

var renderCases = []renderCase{
	// The function cases are golden files in query/testdata/golden
	// (query/golden_cases_test.go), recorded from graphite-web and checked by
	// the query package on any machine; these are the cases of the HTTP layer:
	// paths, parameters, output formats and request errors.
	{targets: []string{"a.b.c1"}},
	{targets: []string{"a.b.*"}},
	{targets: []string{"a.b.c[12]"}, extra: "&from=-30min&until=-10min"},
	{targets: []string{"nonexistent.*"}},
	{targets: []string{"a.empty"}},
	{targets: []string{"sumSeries(a.b.sparse)"}, extra: "&xFilesFactor=0.5"},
	{targets: []string{"derivative(a.b.c1)"}, extra: "&maxDataPoints=50"},
	{targets: []string{"constantLine(100)"}, extra: "&maxDataPoints=300"},
	{targets: []string{"summarize(a.b.c2,'30s','sum')"}, extra: "&from=-10min&xFilesFactor=0.9"},
	{targets: []string{"consolidateBy(a.b.c1,'max')"}, extra: "&maxDataPoints=30"},
	{targets: []string{"consolidateBy(a.b.c*,'sum')"}, extra: "&maxDataPoints=100"},
	{targets: []string{"consolidateBy(a.b.sparse,'first')", "consolidateBy(a.b.sparse,'last')", "consolidateBy(a.b.sparse,'avg_zero')", "consolidateBy(a.b.sparse,'min')"}, extra: "&maxDataPoints=50"},
	{targets: []string{"cumulative(a.b.c1)"}, extra: "&maxDataPoints=40"},
	{targets: []string{"setXFilesFactor(a.b.sparse,0.5)"}, extra: "&maxDataPoints=50"},
	{targets: []string{"template(a.b.$x)", "template(scale(a.b.c2,$n),n=1)"}, extra: "&from=-5min&template[x]=neg&template[n]=3"},
	{targets: []string{"events('*')"}, extra: "&from=-10min&maxDataPoints=20"},
	{targets: []string{"a.b.c1"}, extra: "&maxDataPoints=100"},
	{targets: []string{"a.b.*"}, extra: "&maxDataPoints=7"},
	{targets: []string{"a.b.c1", "a.x.minute"}, extra: "&maxDataPoints=50"},
	{targets: []string{"a.b.c1"}, extra: "&maxDataPoints=1"},
	{targets: []string{"a.b.c1"}, extra: "&maxDataPoints=100000"},
	{targets: []string{"a.b.sparse"}, extra: "&noNullPoints"},
	{targets: []string{"a.empty", "a.b.c1"}, extra: "&noNullPoints&maxDataPoints=20"},
	{targets: []string{"a.b.c1"}, extra: "&jsonp=cb"},
	{targets: []string{"a.b.sparse", "countSeries(a.b.*)"}, extra: "&from=-2min&pretty=1"},
	{targets: []string{"a.b.sparse"}, extra: "&from=-2min&pretty=1&noNullPoints&jsonp=f"},
	{targets: []string{"a.b.c1"}, extra: "&from=-1h&until=-30min&format=raw"},
	{targets: []string{"a.b.*"}, extra: "&from=-5min&format=raw"},
	{targets: []string{"sumSeries(a.b.*)"}, extra: "&from=-5min&format=csv"},
	{targets: []string{"alias(a.b.c1,'x,\"y')"}, extra: "&from=-5min&format=csv"},
	{targets: []string{"a.b.c1"}, extra: "&from=-5min&format=csv&tz=Europe/Berlin"},
	{targets: []string{"a.b.c1"}, extra: "&from=-2d"},
	{targets: []string{"a.b.c1"}, extra: "&from=-1h&until=-2h"},
	{targets: []string{"unknownFunc(a.b.c1)"}},
	{targets: []string{"scale(a.b.c1)"}, status: 400},
	{targets: []string{"a.b.c1"}, extra: "&from=-1h&until=-1h"},
}

func renderURL(c renderCase, now int64) string {
	c.extra = strings.ReplaceAll(c.extra, "{now-3h}", fmt.Sprint(now-3*3600))
	c.extra = strings.ReplaceAll(c.extra, "{now-2h}", fmt.Sprint(now-2*3600))
	for i, t := range c.targets {
		t = strings.ReplaceAll(t, "{now-3h}", fmt.Sprint(now-3*3600))
		c.targets[i] = strings.ReplaceAll(t, "{now-2h}", fmt.Sprint(now-2*3600))
	}
	v := url.Values{}
	for _, t := range c.targets {
		v.Add("target", t)
	}
	q := v.Encode() + fmt.Sprintf("&now=%d", now)
	if !strings.Contains(c.extra, "from=") {
		q += "&from=-6h"
	}
	if !strings.Contains(c.extra, "format=") && !strings.Contains(c.extra, "jsonp") {
		q += "&format=json"
	}
	if strings.Contains(c.extra, "jsonp") {
		q += "&format=json"
	}
	return "/render?" + q + c.extra
}

func TestRenderOracle(t *testing.T) {
	src, dir, now := sharedFixture(t)
	srv := startServer(t, src, time.Unix(now, 0))
	var paths []string
	for _, c := range renderCases {
		paths = append(paths, renderURL(c, now))
	}
	want := runOracle(t, dir, paths)
	for i, p := range paths {
		status, ct, body := srv.get(t, p)
		w := want[i]
		if renderCases[i].status != 0 {
			if status != renderCases[i].status {
				t.Errorf("%s: status %d, want %d (%s)", p, status, renderCases[i].status, body)
			}
			continue
		}
		if !okLikeOracle(t, p, w, status, ct, body) {
			continue
		}
		if string(body) != w.Body {
			if renderCases[i].approx > 0 && oracletest.JSONEqual(body, []byte(w.Body), renderCases[i].approx) {
				continue
			}
			if base(ct) == "application/json" && oracletest.JSONEqual(body, []byte(w.Body), 0) {
				t.Logf("%s: equal as JSON, bytes differ:\n ours %s\n want %s", p, trunc(diffCtx(string(body), w.Body)), trunc(diffCtx(w.Body, string(body))))
				continue
			}
			t.Errorf("%s:\n ours %s\n want %s", p, trunc(diffCtx(string(body), w.Body)), trunc(diffCtx(w.Body, string(body))))
		}
	}
}

// okLikeOracle reports whether our answer to p and graphite-web's (w) are
// both 200, so that their bodies are to be compared; it reports a status
// that differs from graphite-web's, and then a content type that does.
func okLikeOracle(t *testing.T, p string, w oracleResponse, status int, ct string, body []byte) bool {
	t.Helper()
	if w.Status != status {
		t.Errorf("%s: status %d, graphite-web %d (%s; ours %s)", p, status, w.Status, trunc(w.Body), trunc(string(body)))
		return false
	}
	if status != 200 {
		return false
	}
	if base(ct) != base(w.ContentType) {
		t.Errorf("%s: content type %q, graphite-web %q", p, ct, w.ContentType)
	}
	return true
}

func base(ct string) string {
	b, _, _ := strings.Cut(ct, ";")
	return b
}

func trunc(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

// diffCtx returns a from shortly before its first difference with b.
func diffCtx(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("@%d: %s", i, a[max(0, i-80):])
}
