package api

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestClusterOracle runs graphite-web with CLUSTER_SERVERS pointing at a
// Plumbago node on loopback (pickle and msgpack) and checks that it reads
// the same data Plumbago serves directly.
func TestClusterOracle(t *testing.T) {
	src, _, now := sharedFixture(t)
	a := New(src, Options{Now: func() time.Time { return time.Unix(now, 0) }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if !a.Handle(ctx) {
			ctx.Error("not found", fasthttp.StatusNotFound)
		}
	}}
	go s.Serve(ln)     //nolint:errcheck
	defer s.Shutdown() //nolint:errcheck
	srv := startServer(t, src, time.Unix(now, 0))

	paths := []string{
		"/render?target=a.b.*&from=-1h&format=json",
		"/render?target=sumSeries(a.b.*)&target=a.x.minute&from=-6h&format=json&maxDataPoints=100",
		"/render?target=movingAverage(a.b.c1,10)&from=-30min&format=json",
		"/render?target=aliasByNode(host-*.cpu_0.user,0)&from=-10min&format=json",
		"/metrics/find?query=a.*",
		"/metrics/find?query=a.b.*",
		"/metrics/expand?query=a.*.*",
	}
	for i := range paths {
		paths[i] += "&now=" + itoa(now)
	}
	for _, format := range []string{"pickle", "msgpack"} {
		dir := t.TempDir()
		var want []oracleResponse
		runPython(t, "testdata/oracle/oracle.py", map[string]any{"requests": paths}, &want,
			"ORACLE_DIR="+dir, "ORACLE_CLUSTER="+ln.Addr().String(), "ORACLE_CLUSTER_FORMAT="+format)
		for i, p := range paths {
			status, _, body := srv.get(t, p)
			if status != want[i].Status || string(body) != want[i].Body {
				t.Errorf("%s via %s:\n ours %d %s\n want %d %s", p, format, status, trunc(string(body)), want[i].Status, trunc(want[i].Body))
			}
		}
	}
}

func itoa(n int64) string { return string(fasthttp.AppendUint(nil, int(n))) }
