package main

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// call makes one request as user (empty: no credentials) and returns the
// status and body.
func call(t *testing.T, method, u, user, body string) (int, string) {
	t.Helper()
	set := []func(*http.Request){basicAuth(user, "pw-"+user)}
	if method == "POST" && strings.Contains(body, "=") {
		set = append(set, asForm)
	}
	return httpDo(t, method, u, body, set...)
}

// treeState lists every file under dir with its size and modification
// time: equal states mean nothing was written.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&b, "%s %v %d %d\n", rel, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// sendAndWait sends carbon lines and polls /metrics (as user) until every
// point is received.
func sendAndWait(t *testing.T, p *proc, user, lines string, points float64) {
	t.Helper()
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, lines)
	c.Close()
	for end := time.Now().Add(20 * time.Second); ; {
		_, body := call(t, "GET", "http://"+p.http+"/metrics", user, "")
		if strings.Contains(body, fmt.Sprintf("\nplumbago_points_received_total %g\n", points)) {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("points not received:\n%s", p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRolesAndReadOnlyPebble runs a server with users in every role, checks
// each gets what its role allows on the real binary, lets the admin write a
// checkpoint, then serves the checkpoint with --read-only: render answers
// the data, writes answer 403, no ingest port listens and nothing under the
// checkpoint changes.
func TestRolesAndReadOnlyPebble(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	pw := writeHtpasswd(t, "alice", "wendy", "rita")
	p := startPlumbago(t, bin, "--data-dir", filepath.Join(dir, "live"), "--http-auth-file", pw,
		"--http-admin-users", "alice", "--http-read-users", "rita")
	base := "http://" + p.http
	now := time.Now().Unix()
	ts := now - now%10 - 20
	sendAndWait(t, p, "rita", fmt.Sprintf("ro.a 11 %d\nro.b 22 %d\n", ts, ts), 2)

	backup := filepath.Join(dir, "backup")
	form := url.Values{"dest": {backup}}.Encode()
	for _, c := range []struct {
		method, path, user, body string
		want                     int
	}{
		{"GET", "/metrics/find?query=ro.*", "", "", 401},
		{"GET", "/metrics/find?query=ro.*", "rita", "", 200},
		{"POST", "/tags/tagSeries", "rita", "path=disk.used;host=a", 403},
		{"POST", "/tags/tagSeries", "wendy", "path=disk.used;host=a", 200},
		{"POST", "/events/", "rita", `{"what":"deploy","tags":["x"],"when":1700000000}`, 403},
		{"POST", "/events/", "wendy", `{"what":"deploy","tags":["x"],"when":1700000000}`, 200},
		{"POST", "/admin/checkpoint", "wendy", form, 403},
		{"POST", "/admin/checkpoint", "alice", form, 200},
	} {
		if got, body := call(t, c.method, base+c.path, c.user, c.body); got != c.want {
			t.Errorf("%s %s as %q: %d %q; want %d", c.method, c.path, c.user, got, body, c.want)
		}
	}
	_, m := call(t, "GET", base+"/metrics", "alice", "")
	if !strings.Contains(m, "\nplumbago_http_forbidden_total{reason=\"role\"} 3\n") {
		t.Errorf("/metrics lacks plumbago_http_forbidden_total{reason=\"role\"} 3")
	}
	p.stop(t)

	before := treeState(t, backup)
	q := startPlumbago(t, bin, "--data-dir", backup, "--read-only")
	base = "http://" + q.http
	got := readAll(t, fmt.Sprintf("%s/render?noCache=1&target=ro.*&from=%d&until=%d&format=json", base, ts-10, ts))
	want := fmt.Sprintf(`[{"target": "ro.a", "tags": {"name": "ro.a"}, "datapoints": [[11.0, %d]]}, {"target": "ro.b", "tags": {"name": "ro.b"}, "datapoints": [[22.0, %d]]}]`, ts, ts)
	if got != want {
		t.Errorf("read-only render = %s; want %s", got, want)
	}
	if _, body := call(t, "GET", base+"/events/get_data?from=1699999999&until=1700000001", "", ""); !strings.Contains(body, `"what": "deploy"`) {
		t.Errorf("read-only events = %s; want the event stored before the checkpoint", body)
	}
	for _, c := range []struct{ path, body string }{
		{"/tags/tagSeries", "path=disk.used;host=b"},
		{"/events/", `{"what":"x","when":1700000000}`},
		{"/admin/delete", "glob=ro.*"},
		{"/admin/checkpoint", url.Values{"dest": {filepath.Join(dir, "again")}}.Encode()},
	} {
		if code, body := call(t, "POST", base+c.path, "", c.body); code != 403 || !strings.Contains(body, "read-only") {
			t.Errorf("read-only POST %s: %d %q; want 403 read-only", c.path, code, body)
		}
	}
	if c, err := net.Dial("tcp", q.carbon); err == nil {
		c.Close()
		t.Errorf("read-only node listens on carbon %s", q.carbon)
	}
	q.stop(t)
	if after := treeState(t, backup); after != before {
		t.Errorf("read-only serve changed the checkpoint:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestReadOnlyWhisperCopy copies a stopped whisper server's volume with cp
// -a and serves the copy with every ingest listener off: it answers the
// data, refuses writes with 403 and writes nothing.
func TestReadOnlyWhisperCopy(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "live")
	p := startPlumbago(t, bin, "--backend", "whisper", "--data-dir", live)
	now := time.Now().Unix()
	ts := now - now%60 - 120
	sendAndWait(t, p, "", fmt.Sprintf("wro.a 1.5 %d\nwro.b 2.5 %d\n", ts, ts), 2)
	p.stop(t)
	cp := filepath.Join(dir, "copy")
	if out, err := exec.Command("cp", "-a", live, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v %s", err, out)
	}
	if err := os.RemoveAll(live); err != nil {
		t.Fatal(err)
	}
	before := treeState(t, cp)
	q := startPlumbago(t, bin, "--backend", "whisper", "--data-dir", cp, "--carbon-addr", "")
	base := "http://" + q.http
	var got string
	want := fmt.Sprintf(`[{"target": "wro.a", "tags": {"name": "wro.a"}, "datapoints": [[1.5, %d]]}, {"target": "wro.b", "tags": {"name": "wro.b"}, "datapoints": [[2.5, %d]]}]`, ts, ts)
	// The whisper tree is scanned in the background: poll.
	for end := time.Now().Add(20 * time.Second); got != want && time.Now().Before(end); {
		got = readAll(t, fmt.Sprintf("%s/render?noCache=1&target=wro.*&from=%d&until=%d&format=json", base, ts-1, ts))
		if got != want {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got != want {
		t.Errorf("render of the copy = %s; want %s", got, want)
	}
	if code, body := call(t, "POST", base+"/tags/tagSeries", "", "path=disk.used;host=b"); code != 403 || !strings.Contains(body, "read-only") {
		t.Errorf("POST /tags/tagSeries on a node without ingest: %d %q; want 403 read-only", code, body)
	}
	q.stop(t)
	if after := treeState(t, cp); after != before {
		t.Errorf("serving the copy changed it:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
