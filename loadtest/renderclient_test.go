package loadtest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRenderClientKeepAlive sends a GET and a POST render many times
// through the query-vs client to a real loopback server: every answer is
// read whole (a Content-Length one and a chunked one), its series
// counted, the POST's form arrives as its body, a second caller of the
// same server shares the connection pool, and all of it goes over one
// connection per caller.
func TestRenderClientKeepAlive(t *testing.T) {
	var conns atomic.Int64
	answer := `[{"target": "a", "datapoints": [[1.5, 10]]}, {"target": "b", "datapoints": []}]`
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		switch {
		case r.URL.Path != "/render":
			http.NotFound(w, r)
		case r.Method == http.MethodPost:
			if r.PostForm.Get("target") != `sumSeries(a.*)` || r.URL.RawQuery != "" {
				t.Errorf("POST form %v, query %q", r.PostForm, r.URL.RawQuery)
			}
			// No Content-Length: net/http sends the answer chunked.
			for _, part := range strings.SplitAfter(answer, ",") {
				io.WriteString(w, part)
				w.(http.Flusher).Flush()
			}
		case r.Form.Get("target") == "bad":
			http.Error(w, "no such function", http.StatusBadRequest)
		default:
			w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
			io.WriteString(w, answer)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	server := QueryServer{Name: "S", HTTP: srv.URL}
	rc, err := newRenderClient([]QueryServer{server}, 1)
	if err != nil {
		t.Fatal(err)
	}
	get := rc.call(server, QueryCase{Name: "get", Form: url.Values{"target": {"a.b"}}})
	post := rc.call(server, QueryCase{Name: "post", Post: true, Form: url.Values{"target": {"sumSeries(a.*)"}}})
	for i := 0; i < 50; i++ {
		for _, c := range []*renderCall{get, post} {
			series, n, err := c.do()
			if err != nil || series != 2 || n != len(answer) {
				t.Fatalf("%s #%d: %d series, %d bytes, %v; want 2, %d", c.name, i, series, n, err, len(answer))
			}
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("100 sequential renders opened %d connections, want 1", got)
	}
	bad := rc.call(server, QueryCase{Name: "bad", Form: url.Values{"target": {"bad"}}})
	if _, _, err := bad.do(); err == nil || !strings.Contains(err.Error(), "S bad: status 400: no such function") {
		t.Errorf("error answer: %v", err)
	}
	if _, err := newRenderClient([]QueryServer{{Name: "T", HTTP: "127.0.0.1:80"}}, 1); err == nil {
		t.Error("a server without http:// accepted")
	}
}
