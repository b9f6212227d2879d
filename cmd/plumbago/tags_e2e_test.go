package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTagsEndToEnd sends tagged series over carbon plaintext and queries
// them through the tag endpoints and seriesByTag, then restarts the server
// and checks the tags survived (rebuilt from the backend), for both
// backends.
func TestTagsEndToEnd(t *testing.T) {
	eachBackend(t, testTagsEndToEnd)
}

func testTagsEndToEnd(t *testing.T, bin, backend string) {
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 10s:1h,1m:1d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--backend", backend, "--data-dir", dir, "--schemas", schemas}
	p := startPlumbago(t, bin, args...)
	now := time.Now().Unix()
	base := now - now%10 - 60
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	// Tags in any order (carbon sorts them), the OpenMetrics-like form,
	// an untagged series, and a name carbon refuses.
	fmt.Fprintf(c, "cpu.load;host=a;dc=eu 1 %d\ncpu.load;dc=eu;host=a 2 %d\n", base, base+10)
	fmt.Fprintf(c, "cpu.load;dc=eu;host=b 10 %d\n", base)
	fmt.Fprintf(c, "cpu.load{host=\"a\",dc=\"us\"} 5 %d\n", base+10)
	fmt.Fprintf(c, "plain.metric 7 %d\nbad;tag=~x 1 %d\n", base, base)
	c.Close()

	ts := func(off int64) int64 { return base + off }
	render := url.QueryEscape("seriesByTag('name=cpu.load','host=a')")
	sum := url.QueryEscape("sumSeries(seriesByTag('dc=eu'))")
	checks := []struct{ path, want string }{
		{"/tags/autoComplete/tags", `["dc", "host", "name"]`},
		{"/tags/autoComplete/tags?tagPrefix=h", `["host"]`},
		{"/tags/autoComplete/tags?expr=name%3Dcpu.load&expr=dc%3Dus", `["host"]`},
		{"/tags/autoComplete/values?tag=host", `["a", "b"]`},
		{"/tags/autoComplete/values?tag=dc&expr=host%3Da", `["eu", "us"]`},
		{"/tags/findSeries?expr=name%3Dcpu.load", `["cpu.load;dc=eu;host=a", "cpu.load;dc=eu;host=b", "cpu.load;dc=us;host=a"]`},
		{fmt.Sprintf("/render?noCache=1&target=%s&from=%d&until=%d&format=json", render, base-10, base+10),
			fmt.Sprintf(`[{"target": "cpu.load;dc=eu;host=a", "tags": {"dc": "eu", "host": "a", "name": "cpu.load"}, "datapoints": [[1.0, %d], [2.0, %d]]}, `+
				`{"target": "cpu.load;dc=us;host=a", "tags": {"dc": "us", "host": "a", "name": "cpu.load"}, "datapoints": [[null, %d], [5.0, %d]]}]`,
				ts(0), ts(10), ts(0), ts(10))},
		{fmt.Sprintf("/render?noCache=1&target=%s&from=%d&until=%d&format=json", sum, base-10, base+10),
			fmt.Sprintf(`[{"target": "sumSeries(seriesByTag('dc=eu'))", "tags": {"dc": "eu", "name": "cpu.load", "aggregatedBy": "sum"}, "datapoints": [[11.0, %d], [2.0, %d]]}]`,
				ts(0), ts(10))},
	}
	run := func(phase string) {
		t.Helper()
		for _, ck := range checks {
			var got string
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if got = readAll(t, "http://"+p.http+ck.path); got == ck.want {
					break
				}
			}
			if got != ck.want {
				t.Errorf("%s: %s =\n%s\nwant\n%s", phase, ck.path, got, ck.want)
			}
		}
	}
	run("live")
	if got := p.metric(t, "plumbago_tagged_series"); got != 3 {
		t.Errorf("plumbago_tagged_series = %v, want 3", got)
	}
	p.stop(t)
	p = startPlumbago(t, bin, args...)
	run("after restart")
	p.stop(t)
}
