package main

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestQueryLimitsEndToEnd runs the requests that took the server down
// (identity over 700 billion seconds, from=-100y on a 1 s schema) and the
// other query limits against the built binary on both backends: each is
// refused with a 400 naming the limit, before the memory is spent (the
// process's peak RSS stays small).
func TestQueryLimitsEndToEnd(t *testing.T) {
	eachBackend(t, testQueryLimits)
}

// peakRSS returns the process's VmHWM (peak resident set) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

func testQueryLimits(t *testing.T, bin, backend string) {
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	conf := "[big]\npattern = ^big\\.\nretentions = 1s:30d\n\n[all]\npattern = .*\nretentions = 10s:1h\n"
	if err := os.WriteFile(schemas, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPlumbago(t, bin, "--backend", backend, "--data-dir", dir, "--schemas", schemas,
		"--render-max-points", "1000000", "--find-max-results", "3", "--tags-max-results", "1")
	now := time.Now().Unix()
	base := now - now%10 - 60
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "big.a 1 %d\nbig.b 2 %d\n", base, base)
	fmt.Fprintf(c, "m.a 1 %d\nm.b 1 %d\nm.c 1 %d\nm.d 1 %d\n", base, base, base, base)
	fmt.Fprintf(c, "disk.used;host=a;dc=x 5 %d\ndisk.used;dc=x;host=a 6 %d\ndisk.used;host=b;dc=x 7 %d\n", base, base+10, base)
	c.Close()
	h := "http://" + p.http
	// Wait until the points are queryable.
	waitBody := func(path, want string) {
		t.Helper()
		var got string
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if _, got = httpDo(t, "GET", h+path, ""); got == want {
				return
			}
		}
		t.Fatalf("%s = %s, want %s", path, got, want)
	}
	tagged := fmt.Sprintf(`[{"target": "disk.used;host=a;dc=x", "tags": {"dc": "x", "host": "a", "name": "disk.used"}, "datapoints": [[5.0, %d], [6.0, %d]]}]`, base, base+10)
	rng := fmt.Sprintf("&from=%d&until=%d&format=json&noCache=1", base-10, base+10)
	waitBody("/render?target="+url.QueryEscape("disk.used;host=a;dc=x")+rng, tagged)
	waitBody("/metrics/find?query=m.%7Ba,b,c%7D&format=completer", `{"metrics": [{"path": "m.a", "name": "a", "is_leaf": "1"}, {"path": "m.b", "name": "b", "is_leaf": "1"}, {"path": "m.c", "name": "c", "is_leaf": "1"}]}`)

	for _, c := range []struct {
		method, path, form string
		status             int
		body               string
	}{
		// Fuzz crasher and OOM request: the time is refused.
		{"GET", `/render?target=identity("x")&from=1&until=700000000000&format=json`, "", 400,
			`Invalid parameters (parsing time "700000000000": time 24152-02-12 20:26:40 is outside the supported range 1900-01-01 to 9999-12-31: invalid time)`},
		// The same up to year 9999: the generator's points are estimated
		// and refused before one is made.
		{"GET", `/render?target=identity("x")&from=1&until=253402300799&format=json`, "", 400,
			"the targets would read 4223371680 points, more than the limit of 1000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded"},
		// from=-100y over a 1 s schema: 30 days of 1 s points (whisper's
		// fetch stops at the retention) per series, refused before fetching.
		{"GET", "/render?target=big.*&from=-100y&format=json", "", 400,
			"the targets would read 5184000 points, more than the limit of 1000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded"},
		{"GET", "/render?target=sumSeries(big.a)&from=-100y&format=json", "", 400,
			"the targets would read 2592000 points, more than the limit of 1000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded"},
		// carbonapi's protobuf render is estimated the same way.
		{"GET", "/render?target=big.*&from=-100y&format=carbonapi_v3_pb", "", 400,
			"the targets would read 5184000 points, more than the limit of 1000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded"},
		// Tagged series by their full name, in any tag order, through
		// functions and POST.
		{"GET", "/render?target=" + url.QueryEscape("disk.used;dc=x;host=a") + rng, "", 200,
			fmt.Sprintf(`[{"target": "disk.used;dc=x;host=a", "tags": {"dc": "x", "host": "a", "name": "disk.used"}, "datapoints": [[5.0, %d], [6.0, %d]]}]`, base, base+10)},
		{"GET", "/render?target=" + url.QueryEscape("sumSeries(disk.used;host=a;dc=x,disk.used;dc=x;host=b)") + rng, "", 200,
			fmt.Sprintf(`[{"target": "sumSeries(disk.used;host=a;dc=x,disk.used;dc=x;host=b)", "tags": {"dc": "x", "name": "disk.used", "aggregatedBy": "sum"}, "datapoints": [[12.0, %d], [6.0, %d]]}]`, base, base+10)},
		{"POST", "/render", "target=" + url.QueryEscape("disk.used;host=a;dc=x") + rng, 200, tagged},
		// find, expand and tags answers are capped.
		{"GET", "/metrics/find?query=m.*", "", 400,
			`Invalid parameters ("m.*" matches more than 3 nodes, the limit of find-max-results; narrow the query)`},
		{"GET", "/metrics/expand?query=m.*", "", 400,
			`Invalid parameters ("m.*" matches more than 3 nodes, the limit of find-max-results; narrow the query)`},
		{"GET", "/tags/autoComplete/values?tag=host", "", 400,
			`{"error": "more than 1 results, the limit of tags-max-results; narrow the filter or expressions"}`},
		{"GET", "/render?target=" + url.QueryEscape("seriesByTag('name=disk.used')") + rng, "", 400,
			"seriesByTag matches 2 series, more than the limit of 1 (tags-max-results): query limit exceeded"},
	} {
		status, body := httpDo(t, c.method, h+c.path, c.form, asForm)
		if status != c.status || strings.TrimSpace(body) != c.body {
			t.Errorf("%s %s %s = %d %s\nwant %d %s", c.method, c.path, c.form, status, body, c.status, c.body)
		}
	}
	// Within the limits the same series render.
	if status, body := httpDo(t, "GET", fmt.Sprintf("%s/render?target=big.a&from=%d&until=%d&format=json", h, base-1, base), ""); status != 200 ||
		body != fmt.Sprintf(`[{"target": "big.a", "tags": {"name": "big.a"}, "datapoints": [[1.0, %d]]}]`, base) {
		t.Errorf("big.a over 1 s = %d %s", status, body)
	}
	// Nothing above took memory: the peak RSS stays far below the
	// gigabytes the refused requests would have used.
	rss := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("%s: peak RSS %d MiB", backend, rss>>20)
	if rss > 400<<20 {
		t.Errorf("peak RSS %d MiB after the refused requests", rss>>20)
	}
	if got := p.metric(t, "plumbago_query_memory_reserved_bytes"); got != 0 {
		t.Errorf("plumbago_query_memory_reserved_bytes = %v after every request ended", got)
	}
	p.stop(t)
}
