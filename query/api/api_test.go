package api

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/valyala/fasthttp"
)

// genSource serves a fixed set of names with value = ts/10 on a 10 s step.
type genSource struct{ idx *index.Index }

func newGenSource(names ...string) *genSource {
	idx := index.New()
	for _, n := range names {
		idx.Add(n)
	}
	return &genSource{idx: idx}
}

func (g *genSource) Find(p string) ([]storage.Node, error) { return g.idx.Find(p) }

func (g *genSource) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	if !g.idx.Has(name) {
		return nil, storage.ErrNotFound
	}
	start := from - from%10 + 10
	end := until - until%10 + 10
	v := make([]float64, (end-start)/10)
	for i := range v {
		v[i] = float64(start+int64(i)*10) / 10
		if i == 1 {
			v[i] = math.NaN()
		}
	}
	return &storage.Series{Name: name, Start: start, Step: 10, Values: v}, nil
}

func TestRenderHTTP(t *testing.T) {
	srv := startServer(t, newGenSource("a.b", "a.c", "x.y z"), time.Unix(100000, 0))
	cases := []struct {
		method, uri, ct, body string
		status                int
		wantCT, want          string
	}{
		{"GET", "/render?target=a.b&from=99960&until=100000&format=json", "", "", 200, "application/json",
			`[{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [[9997.0, 99970], [null, 99980], [9999.0, 99990], [10000.0, 100000]]}]`},
		{"GET", "/render?target=a.b&from=-40s&format=json&noNullPoints", "", "", 200, "application/json",
			`[{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [[9997.0, 99970], [9999.0, 99990], [10000.0, 100000]]}]`},
		{"GET", "/render?target=a.b&from=-40s&format=json&jsonp=cb", "", "", 200, "text/javascript",
			`cb([{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [[9997.0, 99970], [null, 99980], [9999.0, 99990], [10000.0, 100000]]}])`},
		{"POST", "/render", "application/x-www-form-urlencoded", "target=sumSeries(a.*)&from=-20s&until=now&format=json&maxDataPoints=1", 200, "application/json",
			`[{"target": "sumSeries(a.*)", "tags": {"name": "sumSeries(a.*)", "aggregatedBy": "sum"}, "datapoints": [[19998.0, 99990]]}]`},
		// Grafana sends the target URI-encoded, aliasSub-wrapped.
		{"POST", "/render/", "application/x-www-form-urlencoded", "target=aliasSub(a.b%2C%20%22(%5E.*%24)%22%2C%20%22%5C1%20A%22)&from=-20s&format=json", 200, "application/json",
			`[{"target": "a.b A", "tags": {"name": "a.b"}, "datapoints": [[9999.0, 99990], [null, 100000]]}]`},
		{"GET", "/render?target=a.b&from=-20s&format=raw", "", "", 200, "text/plain", "a.b,99990,100010,10|9999.0,None\n"},
		{"GET", "/render?target=a.b&from=-20s&format=csv", "", "", 200, "text/csv", "a.b,1970-01-02 03:46:30,9999.0\r\na.b,1970-01-02 03:46:40,\r\n"},
		{"GET", "/render?target=nosuch.*&format=json", "", "", 200, "application/json", `[]`},
		{"GET", "/render?target=bogus(a.b)&format=json", "", "", 400, "", "Invalid parameters (Received request for unknown function: bogus)"},
		{"GET", "/render?target=sumSeries(a.b&format=json", "", "", 400, "", "Invalid parameters (parsing target"},
		{"GET", "/render?target=a.b&from=-1h&until=-1h&format=json", "", "", 400, "", "Invalid parameters (Invalid empty time range)"},
		{"GET", "/render?target=a.b&from=yesterdayish&format=json", "", "", 400, "", "Invalid parameters (parsing time"},
		{"GET", "/render?target=a.b&format=gif", "", "", 400, "", "Invalid parameters (format \"gif\" is not supported"},
		{"GET", "/render?target=a.b&format=svg&areaMode=bogus", "", "", 400, "", "Invalid parameters (invalid areaMode: \"bogus\" is not one of none, first, all, stacked)"},
		{"GET", "/metrics/find?query=x.*", "", "", 200, "application/json", `[{"text": "y z", "id": "x.y z", "allowChildren": 0, "expandable": 0, "leaf": 1}]`},
		// Grafana's raw form body (no URL encoding of the glob).
		{"POST", "/metrics/find?from=1&until=2", "application/x-www-form-urlencoded", "query=a.*", 200, "application/json",
			`[{"text": "b", "id": "a.b", "allowChildren": 0, "expandable": 0, "leaf": 1}, {"text": "c", "id": "a.c", "allowChildren": 0, "expandable": 0, "leaf": 1}]`},
		{"POST", "/metrics/find", "application/x-www-form-urlencoded; charset=UTF-8", "query=*", 200, "application/json",
			`[{"text": "a", "id": "a", "allowChildren": 1, "expandable": 1, "leaf": 0}, {"text": "x", "id": "x", "allowChildren": 1, "expandable": 1, "leaf": 0}]`},
		{"GET", "/metrics/find?query=a.b", "", "", 200, "application/json", `[{"text": "b", "id": "a.b", "allowChildren": 0, "expandable": 0, "leaf": 1}]`},
		{"GET", "/metrics/find?query=a&format=completer", "", "", 200, "application/json", `{"metrics": [{"path": "a.", "name": "a", "is_leaf": "0"}]}`},
		{"GET", "/metrics/find?query=a.*&format=json", "", "", 200, "application/json", `[{"path": "a.b", "is_leaf": true, "intervals": []}, {"path": "a.c", "is_leaf": true, "intervals": []}]`},
		{"GET", "/nope", "", "", 404, "", "not found"},
	}
	for _, c := range cases {
		status, ct, body := srv.do(t, c.method, c.uri, c.ct, c.body)
		if status != c.status || (c.wantCT != "" && base(ct) != c.wantCT) || !strings.HasPrefix(string(body), c.want) {
			t.Errorf("%s %s %s: %d %q %q\nwant %d %q %q", c.method, c.uri, c.body, status, ct, body, c.status, c.wantCT, c.want)
		}
		if c.status == 200 && string(body) != c.want {
			t.Errorf("%s %s: body %q want %q", c.method, c.uri, body, c.want)
		}
	}
}

func TestHandleNotOurs(t *testing.T) {
	a := New(newGenSource(), Options{})
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/metrics")
	if a.Handle(&ctx) {
		t.Error("Handle claimed /metrics (the Prometheus endpoint)")
	}
	ctx.Request.SetRequestURI("/healthz")
	if a.Handle(&ctx) {
		t.Error("Handle claimed /healthz")
	}
}

func TestChangesData(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/tags/tagSeries", true},
		{"POST", "/tags/tagMultiSeries", true},
		{"POST", "/tags/delSeries", true},
		{"POST", "/events", true},
		{"POST", "/events/", true},
		{"GET", "/events/", false},
		{"GET", "/tags/tagSeries", false},
		{"POST", "/tags/findSeries", false},
		{"POST", "/render", false},
		{"GET", "/metrics/find", false},
	} {
		if got := ChangesData(c.method, c.path); got != c.want {
			t.Errorf("ChangesData(%s %s) = %v; want %v", c.method, c.path, got, c.want)
		}
	}
}

// TestRenderLargeJSONStreamed: a json answer over pooledBodyMax is sent
// from its encoded parts (a body stream with its Content-Length); its
// bytes are the ones the response cache's buffered render writes, with
// and without a JSONP callback, over several keep-alive requests.
func TestRenderLargeJSONStreamed(t *testing.T) {
	now := time.Unix(3_000_000, 0)
	src := newGenSource("a.b", "a.c", "a.d")
	streamed := startServer(t, src, now)
	buffered := startServerWith(t, src, Options{CacheBytes: 64 << 20}, now)
	for _, q := range []string{"", "&jsonp=cb"} {
		uri := "/render?target=a.*&from=0&until=1000000&format=json" + q
		for range 2 {
			code, ct, got := streamed.get(t, uri)
			code2, ct2, want := buffered.get(t, uri)
			if code != 200 || code2 != 200 || ct != ct2 {
				t.Fatalf("%s: %d %q, buffered %d %q", uri, code, ct, code2, ct2)
			}
			if len(got) <= pooledBodyMax || !bytes.Equal(got, want) {
				t.Fatalf("%s: %d bytes, buffered %d; equal %v", uri, len(got), len(want), bytes.Equal(got, want))
			}
			head := `[{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [[1.0, 10], [null, 20], [3.0, 30], `
			tail := `[100000.0, 1000000]]}]`
			if q != "" {
				head, tail = "cb("+head, tail+")"
			}
			if !bytes.HasPrefix(got, []byte(head)) || !bytes.HasSuffix(got, []byte(tail)) {
				t.Fatalf("%s: %.120q ... %.120q", uri, got, got[len(got)-120:])
			}
		}
	}
}
