package query_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/attime"
	"github.com/plumbago/plumbago/query/oracletest"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

var record = flag.Bool("record", false, "re-record testdata/golden with Debian's graphite-web (see golden_cases_test.go)")

const (
	goldenDir     = "testdata/golden"
	goldenFixture = goldenDir + "/fixture.json"
	goldenCaseDir = goldenDir + "/cases"
	// The graphite-web harness shared with query/api's oracle tests.
	oracleScript    = "api/testdata/oracle/oracle.py"
	mkwhisperScript = "api/testdata/oracle/mkwhisper.py"
	graphiteWeb     = "/usr/lib/python3/dist-packages/graphite/render/views.py"
)

// goldenCase is one render request of goldenCases.
type goldenCase struct {
	targets []string
	extra   string // more query parameters (from, until, maxDataPoints, ...)
	// status is our status where we deliberately differ from graphite-web
	// (graphite-web answers 500 for some invalid input; we answer 400, or
	// 200 where graphite-web fails on a gap).
	status int
	// approx, if set, is the relative tolerance for comparing values
	// (libm differences between Go and glibc).
	approx float64
}

// fixtureMetric is one whisper file of the fixture: a single archive of
// len(Values) points of Step seconds, the oldest at First (null = no
// point written).
type fixtureMetric struct {
	Name   string     `json:"name"`
	Step   int64      `json:"step"`
	XFF    float64    `json:"xff"`
	Agg    string     `json:"agg"`
	First  int64      `json:"first"`
	Values []*float64 `json:"values"`
}

// fixture is the whisper data every golden case reads.
type fixture struct {
	Now     int64           `json:"now"`
	Metrics []fixtureMetric `json:"metrics"`
}

// goldenFile is one recorded case: the request graphite-web answered and
// its answer.
type goldenFile struct {
	Targets []string `json:"targets"` // as sent ({now-2h} & co. resolved)
	Params  string   `json:"params"`  // the other query parameters, now= included
	Status  int      `json:"status"`  // graphite-web's status
	// OurStatus is set where we deliberately differ from graphite-web.
	OurStatus int     `json:"our_status,omitempty"`
	Approx    float64 `json:"approx,omitempty"`
	// Error is the start of graphite-web's error page (status != 200).
	Error string `json:"error,omitempty"`
	// Body is graphite-web's JSON, byte for byte (status 200).
	Body json.RawMessage `json:"body,omitempty"`
}

// caseFileName names a case's golden file after its first target, with a
// hash of the whole case to keep names unique.
func caseFileName(c goldenCase) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%q %q", c.targets, c.extra)
	slug := regexp.MustCompile(`[^A-Za-z0-9.-]+`).ReplaceAllString(c.targets[0], "_")
	if len(slug) > 48 {
		slug = slug[:48]
	}
	return fmt.Sprintf("%s-%08x.json", strings.Trim(slug, "_"), h.Sum32())
}

// TestGolden evaluates every golden case with the query package alone
// (whisper files written by Plumbago's own backend from the fixture) and
// compares the JSON with graphite-web's recorded answer. With -record it
// first re-records the fixture and every answer with Debian's
// graphite-web.
func TestGolden(t *testing.T) {
	if *record {
		recordGolden(t)
	}
	var fx fixture
	readJSON(t, goldenFixture, &fx)
	st := fixtureStore(t, fx)
	ev := query.NewEvaluator(st, query.Limits{})

	want := map[string]bool{}
	for _, c := range goldenCases {
		name := caseFileName(c)
		if want[name] {
			t.Fatalf("duplicate golden case %q", c.targets)
		}
		want[name] = true
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			var g goldenFile
			readJSON(t, filepath.Join(goldenCaseDir, name), &g)
			checkGolden(t, ev, fx.Now, g)
		})
	}
	files, _ := filepath.Glob(filepath.Join(goldenCaseDir, "*.json"))
	for _, f := range files {
		if !want[filepath.Base(f)] {
			t.Errorf("%s: no such case in goldenCases (re-record with -record)", f)
		}
	}
}

func checkGolden(t *testing.T, ev *query.Evaluator, now int64, g goldenFile) {
	t.Helper()
	req, mdp, noNull := goldenRequest(t, g.Params, now)
	list, err := ev.Eval(context.Background(), req, g.Targets)
	status := g.Status
	if g.OurStatus != 0 {
		status = g.OurStatus
	}
	if status != 200 {
		if err == nil {
			t.Fatalf("%q: no error; graphite-web answered %d: %s", g.Targets, g.Status, g.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("%q: %v", g.Targets, err)
	}
	if g.Status != 200 {
		return // we deliberately answer where graphite-web fails
	}
	query.ApplyMaxDataPoints(list, mdp)
	got := query.AppendJSON(nil, list, noNull)
	if bytes.Equal(got, g.Body) {
		return
	}
	if g.Approx > 0 && oracletest.JSONEqual(got, g.Body, g.Approx) {
		return
	}
	if oracletest.JSONEqual(got, g.Body, 0) {
		t.Logf("%q: equal as JSON, bytes differ", g.Targets)
		return
	}
	t.Errorf("%q %s:\n ours %s\n want %s", g.Targets, g.Params, diffCtx(got, g.Body), diffCtx(g.Body, got))
}

// goldenRequest turns a case's parameters into the evaluator's request
// the way /render does (query/api's parseRender).
func goldenRequest(t *testing.T, params string, now int64) (query.Request, int, bool) {
	t.Helper()
	v, err := url.ParseQuery(params)
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Unix(now, 0).UTC()
	at := func(k, def string) int64 {
		s := v.Get(k)
		if s == "" {
			s = def
		}
		tm, err := attime.Parse(s, wall, time.UTC)
		if err != nil {
			t.Fatalf("%s=%s: %v", k, s, err)
		}
		return tm.Unix()
	}
	req := query.Request{From: at("from", "-1d"), Until: at("until", "now"), Now: now, Loc: time.UTC}
	if req.Until < req.From {
		req.From, req.Until = req.Until, req.From
	}
	if x := v.Get("xFilesFactor"); x != "" {
		if req.XFilesFactor, err = strconv.ParseFloat(x, 64); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, "template["); ok && strings.HasSuffix(name, "]") {
			req.Template = append(req.Template, [2]string{strings.TrimSuffix(name, "]"), v.Get(k)})
		}
	}
	mdp, _ := strconv.Atoi(v.Get("maxDataPoints"))
	return req, mdp, v.Has("noNullPoints")
}

// fixtureStore writes the fixture with Plumbago's whisper backend (one
// schema per metric, the clock stopped at the fixture's now).
func fixtureStore(t *testing.T, fx fixture) *whisper.Store {
	t.Helper()
	rules := &schema.Rules{}
	var b storage.Batch
	for _, m := range fx.Metrics {
		pat := regexp.MustCompile("^" + regexp.QuoteMeta(m.Name) + "$")
		method, err := schema.ParseMethod(m.Agg)
		if err != nil {
			t.Fatal(err)
		}
		rules.Schemas = append(rules.Schemas, schema.Schema{Name: m.Name, Pattern: pat,
			Retentions: []schema.Retention{{SecondsPerPoint: m.Step, Points: int64(len(m.Values))}}})
		rules.Aggregations = append(rules.Aggregations, schema.Aggregation{Name: m.Name, Pattern: pat, Method: method, XFilesFactor: m.XFF})
		sp := storage.SeriesPoints{Name: m.Name}
		for i, v := range m.Values {
			if v != nil {
				sp.Points = append(sp.Points, storage.Point{Timestamp: m.First + int64(i)*m.Step, Value: *v})
			}
		}
		if len(sp.Points) == 0 {
			// whisper.create without points: an empty file must exist.
			sp.Points = []storage.Point{{Timestamp: fx.Now - int64(len(m.Values))*m.Step - 1, Value: 0}}
		}
		b.Series = append(b.Series, sp)
	}
	opts := whisper.DefaultOptions(t.TempDir(), index.New())
	opts.Rules = rules
	opts.Sparse = true
	opts.Now = func() int64 { return fx.Now }
	st, err := whisper.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	<-st.ScanDone()
	if err := st.Write(&b); err != nil {
		t.Fatal(err)
	}
	return st
}

// fixtureMetrics is the data the cases read: oracletest's series, as
// python3-whisper writes them.
func fixtureMetrics(now int64) []fixtureMetric {
	var ms []fixtureMetric
	for _, f := range oracletest.Metrics() {
		m := fixtureMetric{Name: f.Name, Step: f.Step, XFF: 0.5, Agg: "average", First: now - now%f.Step - (f.N-1)*f.Step}
		for j := int64(0); j < f.N; j++ {
			if v, ok := f.Value(f.N - 1 - j); ok {
				if v == 0 {
					v = 0 // -0 would reach python3-whisper as the JSON integer 0
				}
				m.Values = append(m.Values, &v)
			} else {
				m.Values = append(m.Values, nil)
			}
		}
		ms = append(ms, m)
	}
	return ms
}

// caseRequest resolves a case's {now-Nh} placeholders and builds the
// query parameters graphite-web is asked with (20 minutes unless from= is
// given, now= pinned).
func caseRequest(c goldenCase, now int64) ([]string, string) {
	r := strings.NewReplacer("{now-3h}", fmt.Sprint(now-3*3600), "{now-2h}", fmt.Sprint(now-2*3600))
	var targets []string
	for _, tg := range c.targets {
		targets = append(targets, r.Replace(tg))
	}
	params := fmt.Sprintf("now=%d", now)
	if !strings.Contains(c.extra, "from=") {
		params += "&from=-20min"
	}
	return targets, params + r.Replace(c.extra)
}

// recordGolden re-records the fixture and every case's answer with
// Debian's graphite-web, replacing testdata/golden.
func recordGolden(t *testing.T) {
	for _, p := range []string{graphiteWeb, "/usr/lib/python3/dist-packages/whisper.py", "/usr/bin/python3"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("-record needs Debian's graphite-web and python3-whisper (scripts/test-deps.sh): %v", err)
		}
	}
	now := time.Now().Unix()
	fx := fixture{Now: now, Metrics: fixtureMetrics(now)}
	dir := t.TempDir()
	// mkwhisper.py's input: points as [ts, value].
	type pyMetric struct {
		Name       string       `json:"name"`
		Retentions [][2]int64   `json:"retentions"`
		XFF        float64      `json:"xff"`
		Agg        string       `json:"agg"`
		Points     [][2]float64 `json:"points"`
	}
	var pms []pyMetric
	for _, m := range fx.Metrics {
		pm := pyMetric{Name: m.Name, Retentions: [][2]int64{{m.Step, int64(len(m.Values))}}, XFF: m.XFF, Agg: m.Agg}
		for i, v := range m.Values {
			if v != nil {
				pm.Points = append(pm.Points, [2]float64{float64(m.First + int64(i)*m.Step), *v})
			}
		}
		pms = append(pms, pm)
	}
	in, _ := json.Marshal(map[string]any{"dir": filepath.Join(dir, "whisper"), "metrics": pms})
	oracletest.RunPython(t, mkwhisperScript, in, "ORACLE_DIR="+dir)

	var reqs []string
	files := make([]goldenFile, len(goldenCases))
	for i, c := range goldenCases {
		targets, params := caseRequest(c, now)
		v := url.Values{"target": targets}
		reqs = append(reqs, "/render?"+v.Encode()+"&"+params+"&format=json")
		files[i] = goldenFile{Targets: targets, Params: params, OurStatus: c.status, Approx: c.approx}
	}
	in, _ = json.Marshal(map[string]any{"requests": reqs})
	var resp []struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.Unmarshal(oracletest.RunPython(t, oracleScript, in, "ORACLE_DIR="+dir), &resp); err != nil || len(resp) != len(reqs) {
		t.Fatalf("oracle answered %d of %d requests: %v", len(resp), len(reqs), err)
	}
	if err := os.RemoveAll(goldenCaseDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(goldenCaseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, c := range goldenCases {
		g := &files[i]
		g.Status = resp[i].Status
		if g.Status == 200 {
			if !json.Valid([]byte(resp[i].Body)) {
				t.Fatalf("%q: graphite-web's body is not JSON: %.200s", c.targets, resp[i].Body)
			}
			g.Body = json.RawMessage(resp[i].Body)
		} else {
			g.Error = firstLine(resp[i].Body)
		}
		writeFile(t, filepath.Join(goldenCaseDir, caseFileName(c)), encodeGolden(g))
	}
	fb, _ := json.Marshal(fx)
	writeFile(t, goldenFixture, append(fb, '\n'))
	t.Logf("recorded %d cases at now=%d", len(goldenCases), now)
}

// encodeGolden writes one field per line with graphite-web's body kept
// byte for byte (json.MarshalIndent would reformat it).
func encodeGolden(g *goldenFile) []byte {
	body := g.Body
	g.Body = nil
	b, _ := json.MarshalIndent(g, "", " ")
	if body != nil {
		b = append(b[:len(b)-2], []byte(",\n \"body\": ")...)
		b = append(append(b, body...), "\n}"...)
	}
	return append(b, '\n')
}

// firstLine is the start of an error page, enough to say what failed.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "<") {
			if len(l) > 200 {
				l = l[:200]
			}
			return l
		}
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s missing: re-record with go test ./query -run TestGolden -record", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// diffCtx returns a from shortly before its first difference with b.
func diffCtx(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	s := a[max(0, i-80):]
	if len(s) > 400 {
		s = s[:400]
	}
	return fmt.Sprintf("@%d: %s", i, s)
}
