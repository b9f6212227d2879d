package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/query/api"
	"github.com/plumbago/plumbago/query/oracletest"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
	"github.com/valyala/fasthttp"

	"strings"
	"time"
)

// fixtureNow is the fixed "now" of every gallery request: the whisper
// files hold points before it and both servers are asked with &now=.
const fixtureNow = 1767225600 // 2026-01-01 00:00:00 UTC

// fixtureMetrics are the gallery's whisper files: one minute steps over a
// day, deterministic values with gaps.
func fixtureMetrics() map[string][]storage.Point {
	m := map[string][]storage.Point{}
	add := func(name string, f func(i int) (float64, bool)) {
		var ps []storage.Point
		for i := 0; i < 1440; i++ {
			if v, ok := f(i); ok {
				ps = append(ps, storage.Point{Timestamp: fixtureNow - int64(i)*60, Value: v})
			}
		}
		m[name] = ps
	}
	for k, srv := range []string{"alpha", "beta", "gamma", "delta"} {
		k := k
		add("web."+srv+".requests", func(i int) (float64, bool) {
			return 50 + 40*math.Sin(float64(i)/(60+float64(k)*17)) + float64((i*(k+3))%23), (i+k)%97 != 0
		})
	}
	add("sys.mem.used", func(i int) (float64, bool) { return 3.5e9 + 1e9*math.Cos(float64(i)/200), true })
	add("sys.load", func(i int) (float64, bool) { return 0.2 + 0.15*math.Sin(float64(i)/30), true })
	add("sys.temp", func(i int) (float64, bool) { return -5 + 10*math.Sin(float64(i)/150), i%50 > 4 })
	add("sys.sparse", func(i int) (float64, bool) { return float64(i % 40), i%7 == 0 })
	add("sys.big", func(i int) (float64, bool) { return 2e12 + 1e11*float64(i%13), true })
	for k := 0; k < 12; k++ {
		k := k
		add(fmt.Sprintf("many.s%02d", k), func(i int) (float64, bool) { return float64(k*10 + (i*(k+1))%9), true })
	}
	return m
}

var (
	fixOnce sync.Once
	fixDir  string
	fixAPI  *api.API
	fixErr  error
)

// fixture writes the gallery's whisper files once (Plumbago's own
// writer, read by both servers) and returns their directory and an API
// over them.
func fixture(t testing.TB) (string, *api.API) {
	t.Helper()
	fixOnce.Do(func() { fixDir, fixAPI, fixErr = makeFixture(fixtureMetrics()) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fixDir, fixAPI
}

// fixtureCleanups close the fixtures' stores and remove their
// directories when the test binary ends (TestMain).
var (
	fixtureCleanupMu sync.Mutex
	fixtureCleanups  []func()
)

// TestMain runs the tests and then removes the fixture directories, so a
// run leaves nothing in the temporary directory.
func TestMain(m *testing.M) {
	code := m.Run()
	fixtureCleanupMu.Lock()
	for _, f := range fixtureCleanups {
		f()
	}
	fixtureCleanupMu.Unlock()
	os.Exit(code)
}

// makeFixture writes metrics as whisper files (one minute steps kept for
// a day) at fixtureNow in a new directory, removed when the tests end.
func makeFixture(metrics map[string][]storage.Point) (string, *api.API, error) {
	dir, err := os.MkdirTemp("", "plumbago-graph")
	if err != nil {
		return "", nil, err
	}
	var st *whisper.Store
	fixtureCleanupMu.Lock()
	fixtureCleanups = append(fixtureCleanups, func() {
		if st != nil {
			st.Close()
		}
		os.RemoveAll(dir)
	})
	fixtureCleanupMu.Unlock()
	ss, err := schema.ParseSchemas(strings.NewReader("[all]\npattern = .*\nretentions = 60s:1d\n"))
	if err != nil {
		return "", nil, err
	}
	as, err := schema.ParseAggregations(strings.NewReader("[all]\npattern = .*\nxFilesFactor = 0.5\naggregationMethod = average\n"))
	if err != nil {
		return "", nil, err
	}
	st, err = whisper.Open(whisper.Options{Dir: filepath.Join(dir, "whisper"), Index: index.New(), Rules: &schema.Rules{Schemas: ss, Aggregations: as},
		Now: func() int64 { return fixtureNow }})
	if err != nil {
		return "", nil, err
	}
	<-st.ScanDone()
	var b storage.Batch
	for name, ps := range metrics {
		b.Series = append(b.Series, storage.SeriesPoints{Name: name, Points: ps})
	}
	if err := st.Write(&b); err != nil {
		return "", nil, err
	}
	return dir, api.New(st, api.Options{Now: func() time.Time { return time.Unix(fixtureNow, 0) }, CacheBytes: -1}), nil
}

type response struct {
	Status      int    `json:"status"`
	Body        []byte `json:"-"`
	BodyB64     string `json:"body_b64"`
	ContentType string `json:"content_type"`
}

// plumbago answers uri with the API in process.
func plumbago(a *api.API, uri string) response {
	var req fasthttp.Request
	req.SetRequestURI("http://graphite" + uri)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	if !a.Handle(&ctx) {
		return response{Status: 404}
	}
	// ctx is this call's own and never reused, so its body needs no copy
	return response{Status: ctx.Response.StatusCode(), Body: ctx.Response.Body(),
		ContentType: string(ctx.Response.Header.ContentType())}
}

const graphiteWebViews = "/usr/lib/python3/dist-packages/graphite/render/views.py"

// haveGraphiteWeb reports whether Debian's graphite-web is installed;
// under CI=true its absence fails the test.
func haveGraphiteWeb(t testing.TB) bool {
	if os.Getenv("GRAPH_ORACLE") == "golden" && !testenv.InCI() {
		return false // compare with the recorded outputs only
	}
	for _, p := range []string{graphiteWebViews, "/usr/bin/python3"} {
		if _, err := os.Stat(p); err != nil {
			if testenv.InCI() {
				t.Fatalf("graphite-web oracle missing: %s", p)
			}
			return false
		}
	}
	return true
}

// graphiteWeb answers the requests with Debian's graphite-web over the
// fixture's whisper files; repeat > 0 times them instead.
func graphiteWeb(t testing.TB, dir string, uris []string, repeat int) ([]response, [][2]float64) {
	t.Helper()
	in, _ := json.Marshal(map[string]any{"requests": uris, "repeat": repeat})
	out := oracletest.RunPython(t, "testdata/oracle/graphs.py", in, "ORACLE_DIR="+dir)
	if repeat > 0 {
		var r struct {
			Seconds []float64 `json:"seconds"`
			CPU     []float64 `json:"cpu"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		times := make([][2]float64, len(r.Seconds))
		for i := range times {
			times[i] = [2]float64{r.Seconds[i], r.CPU[i]}
		}
		return nil, times
	}
	var rs []response
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	for i := range rs {
		var err error
		rs[i].Body, err = base64.StdEncoding.DecodeString(rs[i].BodyB64)
		if err != nil {
			t.Fatal(err)
		}
	}
	return rs, nil
}
