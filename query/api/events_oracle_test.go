package api

import (
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/valyala/fasthttp"
)

// eventReq is one request of the events oracle sequence.
type eventReq struct {
	Method string `json:"method,omitempty"`
	Path   string `json:"path"`
	Body   string `json:"body,omitempty"`
	Accept string `json:"accept,omitempty"`
	// status is our answer where graphite-web fails with a 500.
	status int
}

var eventReqs = []eventReq{
	{Path: "/events/"},
	{Method: "POST", Path: "/events/", Body: `{"what": "deploy", "tags": ["a", "b c"], "when": 1700000000.75, "data": "x"}`},
	{Method: "POST", Path: "/events/", Body: `{"what": "w2", "tags": "a,b  x", "when": 1700000100}`},
	{Method: "POST", Path: "/events", Body: `{"what": "w3", "when": 1700000200}`},
	{Method: "POST", Path: "/events/", Body: `{"what": "w4", "tags": 5, "when": 1700000200}`},
	{Method: "POST", Path: "/events/", Body: `{"what": "w5", "tags": "é \"q r\" s", "when": 1700000300, "data": {"k": [1, 2.5, null, true, -0, 1e400], "k2": "it's \"x\"\n\u0001\u00a0é\\", "k": "dup"}}`},
	{Method: "POST", Path: "/events/", Body: `{"what": 7.0, "tags": "a\tz\u00a0y", "when": 1700000250.0000004, "data": [false, "a'b"]}`},
	{Method: "POST", Path: "/events/", Body: `{"what": "same time", "tags": null, "when": 1700000100, "data": 12345678901234567890}`},
	{Method: "POST", Path: "/events/", Body: `{"what": "w6", "tags": "x,y \"q", "when": 1699999999.9999996}`},
	{Method: "POST", Path: "/events/", Body: `{"tags": "z", "when": 1700000400}`, status: 400},
	{Method: "POST", Path: "/events/", Body: `[1]`, status: 400},
	{Method: "POST", Path: "/events/", Body: `{"what": "w", "when": "17"}`, status: 400},
	{Method: "POST", Path: "/events/", Body: `{"what": "w", "when": 1e20}`, status: 400},
	{Method: "POST", Path: "/events/", Body: `{"what": "w", "tags": ["a", 1]}`, status: 400},
	{Method: "POST", Path: "/events/", Body: `{"what": "w", "data": null}`, status: 400},
	{Method: "POST", Path: "/events/", Body: `not json`, status: 400},
	{Path: "/events/get_data"},
	{Path: "/events/get_data?tags=a"},
	{Path: "/events/get_data?tags=b"},
	{Path: "/events/get_data?tags=q%20r"},
	{Path: "/events/get_data?tags=%22q"},
	{Path: "/events/get_data?tags=a%20nonexistent"},
	{Path: "/events/get_data?tags=nonexistent"},
	{Path: "/events/get_data?tags=a%20x&set=intersection"},
	{Path: "/events/get_data?tags=a%20c&set=intersection"},
	{Path: "/events/get_data?tags=a%20a&set=intersection"},
	{Path: "/events/get_data?tags=a%20x&set=union"},
	{Path: "/events/get_data?tags=a%20%20x&set=union"},
	{Path: "/events/get_data?tags=&jsonp=cb"},
	{Path: "/events/get_data?jsonp=&tags=z"},
	{Path: "/events/get_data?from=1700000050&until=1700000200"},
	{Path: "/events/get_data?from=1700000100&until=1700000100"},
	{Path: "/events/get_data?from=-1h"},
	{Path: "/events/get_data?until=20231114"},
	{Path: "/events/get_dat?from=1700000200"},
	{Path: "/events/1/", Accept: "application/json"},
	{Path: "/events/"},
	{Path: "/events?from=1700000050&tags=a%20x&set=union"},
	{Path: "/events/1/"},
	{Path: "/events/5"},
	{Path: "/events/99"},
	{Path: "/events/5", Accept: "application/json"},
	{Path: "/events/6/", Accept: "application/json"},
	{Path: "/events/99/", Accept: "application/json"},
	{Path: "/render?target=events(%27*%27)&from=1699999990&until=1700000110&format=json&now=1700000500"},
	{Path: "/render?target=events(%27a%27,%27b%27)&from=1700000000&until=1700000100&format=json&now=1700000500"},
	{Path: "/render?target=events(%27a%27)&target=events(%27x%27,%27nonexistent%27)&from=1700000000&until=1700000020&format=json&now=1700000500"},
	{Path: "/render?target=events(%27nonexistent%27)&from=1700000000&until=1700000005&format=json&now=1700000500"},
	{Path: "/render?target=events(%27*%27)&from=1700000000&until=1700000400&format=json&maxDataPoints=4&now=1700000500"},
	// An event exactly at until: graphite-web raises IndexError; we leave it out.
	{Path: "/render?target=events(%27*%27)&from=1700000090&until=1700000100&format=json&now=1700000500", status: 200},
}

func TestEventsOracle(t *testing.T) {
	needOracle(t)
	dir := t.TempDir()
	var want []oracleResponse
	runPython(t, "testdata/oracle/events_oracle.py", map[string]any{"requests": eventReqs}, &want, "ORACLE_DIR="+dir)
	srv := startServer(t, emptySource{}, time.Now())
	for i, r := range eventReqs {
		var status int
		var ct string
		var body []byte
		if r.Method == "POST" {
			status, ct, body = srv.do(t, "POST", r.Path, "application/json", r.Body)
		} else {
			status, ct, body = srv.doHeader(t, r.Path, "Accept", r.Accept)
		}
		w := want[i]
		if r.status != 0 {
			if status != r.status || w.Status != 500 {
				t.Errorf("%s %s: status %d (graphite-web %d), want %d: %s", r.Path, r.Body, status, w.Status, r.status, body)
			}
			continue
		}
		w.Body = strings.ReplaceAll(w.Body, "http://testserver/", "http://graphite/") // the Host
		if status != w.Status || base(ct) != base(w.ContentType) || string(body) != w.Body {
			t.Errorf("%s %s:\n ours %d %s %s\n want %d %s %s", r.Path, r.Body, status, ct, body, w.Status, w.ContentType, w.Body)
		}
	}
}

// emptySource has no metrics.
type emptySource struct{}

func (emptySource) Find(string) ([]storage.Node, error) { return nil, nil }

func (emptySource) Fetch(string, int64, int64, int64) (*storage.Series, error) {
	return nil, storage.ErrNotFound
}

// doHeader is a GET with one request header (none when value is empty).
func (s *testServer) doHeader(t testing.TB, uri, name, value string) (int, string, []byte) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://graphite" + uri)
	if value != "" {
		req.Header.Set(name, value)
	}
	if err := s.client.DoTimeout(req, resp, 30*time.Second); err != nil {
		t.Fatalf("GET %s: %v", uri, err)
	}
	return resp.StatusCode(), string(resp.Header.ContentType()), append([]byte(nil), resp.Body()...)
}
