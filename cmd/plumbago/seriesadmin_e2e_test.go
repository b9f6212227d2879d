package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// carbonlinkQuery asks a carbonlink listener for metric's buffered points
// as graphite-web's CarbonLinkPool does and returns them sorted, as Python
// prints them.
func carbonlinkQuery(t *testing.T, addr, metric string) string {
	t.Helper()
	const script = ingesttest.PyCarbonlinkClient + `
print(sorted(query(dict(type='cache-query', metric=sys.argv[2]), 2)['datapoints']))
`
	return strings.TrimSpace(testenv.RunPython(t, script, addr, metric))
}

// waitBody polls url until its body is want (10 s), and reports the last
// body otherwise.
func waitBody(t *testing.T, url, want string) {
	t.Helper()
	var got string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got = strings.TrimSpace(readAll(t, url)); got == want {
			return
		}
	}
	t.Errorf("GET %s =\n%s\nwant\n%s", url, got, want)
}

// waitMetric polls /metrics until name reaches want (10 s).
func (p *proc) waitMetric(t *testing.T, name string, want float64) {
	t.Helper()
	var got float64
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got = p.metric(t, name); got == want {
			return
		}
	}
	t.Fatalf("%s = %v, want %v\n%s", name, got, want, p.log)
}

// runBin runs a plumbago subcommand and returns its stdout.
func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("plumbago %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestSeriesDeleteEndToEnd deletes series by glob, tag expression and name
// on the running binary, for both backends: data written to disk before a
// restart and points still buffered go together, and find, render (its
// cache too), the tag endpoints and carbonlink forget them at once; the
// whisper files and their empty directories are removed. Then the delete
// subcommand removes a series from the stopped store.
func TestSeriesDeleteEndToEnd(t *testing.T) {
	eachBackend(t, testSeriesDelete)
}

func testSeriesDelete(t *testing.T, bin, backend string) {
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1h,1m:1d\n")
	args := []string{"--backend", backend, "--data-dir", dir, "--schemas", schemas}
	now := time.Now().Unix()
	base := now - now%10 - 120

	// Phase 1: points reach the store, and the server stops.
	p := startPlumbago(t, bin, args...)
	sendCarbon(t, p.carbon,
		fmt.Sprintf("del.a.x 1 %d", base), fmt.Sprintf("del.a.y 2 %d", base), fmt.Sprintf("keep.b 3 %d", base),
		fmt.Sprintf("gone.t;dc=eu 4 %d", base), fmt.Sprintf("kept.t;dc=us 5 %d", base))
	p.waitMetric(t, "plumbago_points_committed_total", 5)
	p.stop(t)

	// Phase 2: new points stay buffered (an hour's flush interval).
	link := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	p = startPlumbago(t, bin, append(args, "--flush-interval", "1h", "--sync-interval", "1h", "--carbonlink-addr", link)...)
	sendCarbon(t, p.carbon, fmt.Sprintf("del.a.x 11 %d", base+10), fmt.Sprintf("keep.b 13 %d", base+10), fmt.Sprintf("gone.t;dc=eu 14 %d", base+10))
	p.waitMetric(t, "plumbago_points_received_total", 3)
	h := "http://" + p.http
	if got := carbonlinkQuery(t, link, "del.a.x"); got != fmt.Sprintf("[(%d, 11.0)]", base+10) {
		t.Fatalf("carbonlink before the delete: %s", got)
	}
	// renderX is answered from the render cache once rendered: the delete
	// must purge it.
	renderX := fmt.Sprintf("%s/render?target=del.a.x&from=%d&until=%d&format=json", h, base-10, base+10)
	wantX := fmt.Sprintf(`[{"target": "del.a.x", "tags": {"name": "del.a.x"}, "datapoints": [[1.0, %d], [11.0, %d]]}]`, base, base+10)
	waitBody(t, renderX+"&noCache=1", wantX)
	if got := strings.TrimSpace(readAll(t, renderX)); got != wantX {
		t.Fatalf("render before the delete: %s", got)
	}
	waitBody(t, h+"/tags/findSeries?expr=dc%3Deu", `["gone.t;dc=eu"]`)

	var wantFreed int64
	if backend == "whisper" {
		for _, f := range []string{"del/a/x.wsp", "del/a/y.wsp"} {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(dir, "whisper", f), &st); err != nil {
				t.Fatal(err)
			}
			wantFreed += st.Blocks * 512
		}
		m, _ := filepath.Glob(filepath.Join(dir, "whisper", "_tagged", "*", "*", "gone*dc=eu.wsp"))
		if len(m) != 1 {
			t.Fatalf("tagged file of gone.t;dc=eu: %v", m)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(m[0], &st); err != nil {
			t.Fatal(err)
		}
		wantFreed += st.Blocks * 512
	}

	sel := url.Values{"glob": {"del.a.*"}, "tag": {"dc=eu"}, "name": {"no.such.series"}}
	dry := url.Values{"dry_run": {"1"}}
	for k, v := range sel {
		dry[k] = v
	}
	code, body := postAdmin(t, p.http, "/admin/series/delete", dry)
	want := `{
  "series": [
    "del.a.x",
    "del.a.y",
    "gone.t;dc=eu"
  ],
  "freed_bytes": 0,
  "dry_run": true
}`
	if code != 200 || body != want {
		t.Fatalf("dry run: %d\n%s\nwant\n%s", code, body, want)
	}
	waitBody(t, h+"/metrics/find?query=del.a.*&format=completer", `{"metrics": [{"path": "del.a.x", "name": "x", "is_leaf": "1"}, {"path": "del.a.y", "name": "y", "is_leaf": "1"}]}`)

	code, body = postAdmin(t, p.http, "/admin/series/delete", sel)
	if code != 200 {
		t.Fatalf("delete: %d %s", code, body)
	}
	if backend == "whisper" {
		want = fmt.Sprintf("{\n  \"series\": [\n    \"del.a.x\",\n    \"del.a.y\",\n    \"gone.t;dc=eu\"\n  ],\n  \"freed_bytes\": %d,\n  \"dry_run\": false\n}", wantFreed)
		if body != want {
			t.Errorf("delete answered\n%s\nwant\n%s", body, want)
		}
		for _, f := range []string{"del/a/x.wsp", "del/a/y.wsp", "del"} {
			if _, err := os.Stat(filepath.Join(dir, "whisper", f)); !os.IsNotExist(err) {
				t.Errorf("%s still there after the delete (err %v)", f, err)
			}
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "whisper", "_tagged", "*", "*", "gone*")); len(m) != 0 {
			t.Errorf("tagged files left: %v", m)
		}
	} else if !strings.Contains(body, `"del.a.x",`) || !strings.Contains(body, `"dry_run": false`) {
		t.Errorf("delete answered %s", body)
	}
	// Everything forgets them at once: no polling.
	checks := []struct{ url, want string }{
		{renderX, `[]`},
		{h + "/metrics/find?query=del.*&format=completer", `{"metrics": []}`},
		{h + "/metrics/find?query=*&format=completer", `{"metrics": [{"path": "keep.", "name": "keep", "is_leaf": "0"}]}`},
		{h + "/tags/findSeries?expr=dc%3Deu", `[]`},
		{h + "/tags/findSeries?expr=name%3D~.%2B", `["kept.t;dc=us"]`},
		{fmt.Sprintf("%s/render?target=keep.b&from=%d&until=%d&format=json", h, base-10, base+10),
			fmt.Sprintf(`[{"target": "keep.b", "tags": {"name": "keep.b"}, "datapoints": [[3.0, %d], [13.0, %d]]}]`, base, base+10)},
	}
	for _, c := range checks {
		if got := strings.TrimSpace(readAll(t, c.url)); got != c.want {
			t.Errorf("after the delete: GET %s =\n%s\nwant\n%s", c.url, got, c.want)
		}
	}
	if got := carbonlinkQuery(t, link, "del.a.x"); got != "[]" {
		t.Errorf("carbonlink after the delete: %s", got)
	}
	if got := carbonlinkQuery(t, link, "keep.b"); got != fmt.Sprintf("[(%d, 13.0)]", base+10) {
		t.Errorf("carbonlink of keep.b after the delete: %s", got)
	}
	// A new point makes a new series: nothing of the old one comes back.
	sendCarbon(t, p.carbon, fmt.Sprintf("del.a.x 21 %d", base+20))
	waitBody(t, fmt.Sprintf("%s/render?noCache=1&target=del.a.x&from=%d&until=%d&format=json", h, base-10, base+20),
		fmt.Sprintf(`[{"target": "del.a.x", "tags": {"name": "del.a.x"}, "datapoints": [[null, %d], [null, %d], [21.0, %d]]}]`, base, base+10, base+20))
	// Refusals: no selector, GET, a bad tag expression.
	if code, _ := postAdmin(t, p.http, "/admin/series/delete", url.Values{}); code != 400 {
		t.Errorf("delete without a selector: %d, want 400", code)
	}
	if r, err := http.Get(h + "/admin/series/delete?glob=keep.*"); err != nil || r.StatusCode != 405 {
		t.Errorf("GET delete: %v %v, want 405", r.StatusCode, err)
	}
	if code, _ := postAdmin(t, p.http, "/admin/series/delete", url.Values{"tag": {"dc"}}); code != 400 {
		t.Errorf("delete with a bad tag expression: %d, want 400", code)
	}
	p.stop(t)

	// The subcommand on the stopped store.
	cmd := append([]string{"delete"}, args...)
	out := runBin(t, bin, append(cmd, "--dry-run", "keep.*")...)
	if want := "{\n  \"series\": [\n    \"keep.b\"\n  ],\n  \"freed_bytes\": 0,\n  \"dry_run\": true\n}"; out != want {
		t.Errorf("delete --dry-run printed\n%s\nwant\n%s", out, want)
	}
	out = runBin(t, bin, append(cmd, "--tag", "dc=us", "keep.*")...)
	if !strings.Contains(out, "\"keep.b\",\n    \"kept.t;dc=us\"\n  ],") {
		t.Errorf("delete printed\n%s", out)
	}
	p = startPlumbago(t, bin, args...)
	h = "http://" + p.http
	for _, c := range []struct{ url, want string }{
		{h + "/metrics/find?query=*&format=completer", `{"metrics": [{"path": "del.", "name": "del", "is_leaf": "0"}]}`},
		{h + "/tags/findSeries?expr=name%3D~.%2B", `[]`},
	} {
		if got := strings.TrimSpace(readAll(t, c.url)); got != c.want {
			t.Errorf("after the subcommand: GET %s =\n%s\nwant\n%s", c.url, got, c.want)
		}
	}
	p.stop(t)
}

// pyFill builds two whisper files with Debian's python3-whisper from the
// same points, runs Debian's whisper-fill src dst, and returns dst's
// whisper.fetch over each range as JSON [[[value, time], ...], ...].
const pyFill = `
import json, os, subprocess, sys, whisper
d, fill = sys.argv[1], sys.argv[2]
data = json.loads(sys.argv[3])
arch = [(60, 360), (300, 288)]
paths = {}
for k in ("src", "dst"):
    paths[k] = os.path.join(d, k + ".wsp")
    whisper.create(paths[k], arch, 0.5, "average")
    whisper.update_many(paths[k], [tuple(p) for p in data[k]])
subprocess.check_call([fill, paths["src"], paths["dst"]])
out = []
for f, u in data["ranges"]:
    (start, end, step), vals = whisper.fetch(paths["dst"], f, u)
    out.append([[v, start + i * step] for i, v in enumerate(vals)])
print(json.dumps(out))
`

// TestSeriesRenameEndToEnd renames series on the running binary, for both
// backends: a merge into an existing series gives, value for value in both
// archives, what Debian's whisper-fill makes of the same data in python
// whisper files (gaps filled, existing points kept, single-slot gaps and
// 0.0 treated as whisper-fill does); a rename onto an existing series
// without merge is refused; a glob rewrite with back-references moves
// several series; the rename subcommand works on the stopped store.
func TestSeriesRenameEndToEnd(t *testing.T) {
	py := testenv.Python(t, "apt python3-whisper", "whisper")
	fill := testenv.Command(t, "whisper-fill", "apt python3-whisper")
	bin := buildBinary(t)
	for _, backend := range []string{"pebble", "whisper"} {
		t.Run(backend, func(t *testing.T) { testSeriesRename(t, bin, py, fill, backend) })
	}
}

func testSeriesRename(t *testing.T, bin, py, fill, backend string) {
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 60:360,300:288\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--backend", backend, "--data-dir", dir, "--schemas", schemas}
	now := time.Now().Unix()
	base := now - now%300 - 5*3600
	var src, dst [][2]float64
	var lines []string
	for i := int64(0); i < 240; i++ {
		ts := float64(base + 60*i)
		if i < 100 || i >= 110 { // src has a gap of its own
			src = append(src, [2]float64{ts, float64(i + 1)})
		}
		var v float64
		switch {
		case i < 60:
			v = float64(1000 + i)
		case i == 62:
			v = 2000
		case i >= 120 && i < 180 && i != 150: // 150: a single-slot gap, left alone
			v = float64(3000 + i)
		case i == 180:
			v = -1 // stored as 0.0, which whisper-fill takes for a gap
		case i >= 182 && i < 200:
			v = float64(4000 + i)
		default:
			continue
		}
		if v == -1 {
			v = 0
		}
		dst = append(dst, [2]float64{ts, v})
	}
	for _, p := range src {
		lines = append(lines, fmt.Sprintf("m.src %g %d", p[1], int64(p[0])))
	}
	for _, p := range dst {
		lines = append(lines, fmt.Sprintf("m.dst %g %d", p[1], int64(p[0])))
	}
	ranges := [][2]int64{{base - 60, base + 250*60}, {now - 20*3600, base + 250*60}}
	in, _ := json.Marshal(map[string]any{"src": src, "dst": dst, "ranges": ranges})
	pyDir := t.TempDir()
	out, err := exec.Command(py, "-c", pyFill, pyDir, fill, string(in)).CombinedOutput()
	if err != nil {
		t.Fatalf("python whisper-fill: %v\n%s", err, out)
	}
	var want [][][2]*float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	// The quirks are in whisper-fill's answer: a gap filled from src, src's
	// own gap left empty, a single-slot gap left, 0.0 replaced, the
	// trailing run filled, dst's points kept.
	at := func(i int64) string {
		for _, pt := range want[0] {
			if int64(*pt[1]) == base+60*i {
				if pt[0] == nil {
					return "None"
				}
				return fmt.Sprint(*pt[0])
			}
		}
		return "absent"
	}
	if got := strings.Join([]string{at(5), at(70), at(105), at(150), at(180), at(230)}, " "); got != "1005 71 None None 181 231" {
		t.Fatalf("whisper-fill's answer at slots 5 70 105 150 180 230: %s", got)
	}

	p := startPlumbago(t, bin, args...)
	h := "http://" + p.http
	sendCarbon(t, p.carbon, lines...)
	sendCarbon(t, p.carbon, fmt.Sprintf("m.other 1 %d", base), fmt.Sprintf("host.web1.cpu 1 %d", base), fmt.Sprintf("host.web2.cpu 2 %d", base), fmt.Sprintf("host.web2.mem 3 %d", base))
	p.waitMetric(t, "plumbago_points_committed_total", float64(len(lines)+4))

	code, body := postAdmin(t, p.http, "/admin/series/rename", url.Values{"from": {"m.other"}, "to": {"m.dst"}})
	if code != 409 {
		t.Errorf("rename onto an existing series: %d %s, want 409", code, body)
	}
	code, body = postAdmin(t, p.http, "/admin/series/rename", url.Values{"from": {"m.src"}, "to": {"m.dst"}, "merge": {"1"}, "dry_run": {"1"}})
	if want := "{\n  \"renamed\": [\n    {\n      \"from\": \"m.src\",\n      \"to\": \"m.dst\",\n      \"merged\": true\n    }\n  ],\n  \"dry_run\": true\n}"; code != 200 || body != want {
		t.Errorf("dry run: %d\n%s\nwant\n%s", code, body, want)
	}
	code, body = postAdmin(t, p.http, "/admin/series/rename", url.Values{"from": {"m.src"}, "to": {"m.dst"}, "merge": {"1"}})
	if code != 200 || !strings.Contains(body, `"merged": true`) {
		t.Fatalf("merge: %d %s", code, body)
	}
	for i, r := range ranges {
		got := getOneSeries(t, fmt.Sprintf("%s/render?noCache=1&target=m.dst&from=%d&until=%d&format=json", h, r[0], r[1]))
		if g, w := fmtPoints(got.Datapoints), fmtPoints(want[i]); g != w {
			t.Errorf("range %d: merged m.dst differs from whisper-fill's:\n%s\nwhisper-fill:\n%s", i, g, w)
		}
	}
	waitBody(t, h+"/metrics/find?query=m.*&format=completer", `{"metrics": [{"path": "m.dst", "name": "dst", "is_leaf": "1"}, {"path": "m.other", "name": "other", "is_leaf": "1"}]}`)

	// A glob rewrite with back-references.
	code, body = postAdmin(t, p.http, "/admin/series/rename", url.Values{"from": {"host.*.{cpu,mem}"}, "to": {`hosts.\1.\2`}})
	if code != 200 || strings.Count(body, `"merged": false`) != 3 {
		t.Errorf("glob rename: %d %s", code, body)
	}
	waitBody(t, h+"/metrics/find?query=host*.*.*&format=completer",
		`{"metrics": [{"path": "hosts.web1.cpu", "name": "cpu", "is_leaf": "1"}, {"path": "hosts.web2.cpu", "name": "cpu", "is_leaf": "1"}, {"path": "hosts.web2.mem", "name": "mem", "is_leaf": "1"}]}`)
	waitBody(t, fmt.Sprintf("%s/render?noCache=1&target=hosts.web2.mem&from=%d&until=%d&format=json", h, base-60, base),
		fmt.Sprintf(`[{"target": "hosts.web2.mem", "tags": {"name": "hosts.web2.mem"}, "datapoints": [[3.0, %d]]}]`, base))
	if code, body := postAdmin(t, p.http, "/admin/series/rename", url.Values{"from": {"hosts.*.cpu"}, "to": {`x.\2`}}); code != 400 {
		t.Errorf("rename with a back-reference past the glob's wildcards: %d %s, want 400", code, body)
	}
	p.stop(t)

	out2 := runBin(t, bin, append(append([]string{"rename"}, args...), "m.other", "m.renamed")...)
	if !strings.Contains(out2, `"to": "m.renamed"`) {
		t.Errorf("rename subcommand printed %s", out2)
	}
	p = startPlumbago(t, bin, args...)
	waitBody(t, "http://"+p.http+"/metrics/find?query=m.*&format=completer", `{"metrics": [{"path": "m.dst", "name": "dst", "is_leaf": "1"}, {"path": "m.renamed", "name": "renamed", "is_leaf": "1"}]}`)
	p.stop(t)
}

func fmtPoints(ps [][2]*float64) string {
	var b strings.Builder
	for _, p := range ps {
		if p[0] == nil {
			fmt.Fprintf(&b, "%v:None ", *p[1])
		} else {
			fmt.Fprintf(&b, "%v:%v ", *p[1], *p[0])
		}
	}
	return b.String()
}

// TestSeriesStaleEndToEnd lists and prunes series with no point since a
// time on the running binary, for both backends (a point still buffered
// counts), then lists and prunes with the stale subcommand on the stopped
// store.
func TestSeriesStaleEndToEnd(t *testing.T) {
	eachBackend(t, testSeriesStale)
}

func testSeriesStale(t *testing.T, bin, backend string) {
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1h,1m:1d\n")
	args := []string{"--backend", backend, "--data-dir", dir, "--schemas", schemas}
	now := time.Now().Unix()
	old, recent := now-now%10-1800, now-now%10-60
	p := startPlumbago(t, bin, args...)
	sendCarbon(t, p.carbon, fmt.Sprintf("old.a 1 %d", old), fmt.Sprintf("old.t;dc=x 2 %d", old), fmt.Sprintf("new.b 3 %d", recent),
		fmt.Sprintf("mixed.c 4 %d", old), fmt.Sprintf("mixed.c 5 %d", recent))
	p.waitMetric(t, "plumbago_points_committed_total", 5)
	p.stop(t)
	// Restarted with an hour's flush interval: a recent point for old.b2
	// stays buffered, and still counts.
	p = startPlumbago(t, bin, append(args, "--flush-interval", "1h", "--sync-interval", "1h")...)
	sendCarbon(t, p.carbon, fmt.Sprintf("old.b2 6 %d", old), fmt.Sprintf("old.b2 7 %d", recent))
	p.waitMetric(t, "plumbago_points_received_total", 2)
	since := now - 600
	want := fmt.Sprintf(`{
  "since": %d,
  "series": [
    {
      "name": "old.a",
      "last_point": %d
    },
    {
      "name": "old.t;dc=x",
      "last_point": %d
    }
  ],
  "pruned": %%s,
  "freed_bytes": %%s,
  "dry_run": %%s
}`, since, old, old)
	h := "http://" + p.http
	if got := strings.TrimSpace(readAll(t, fmt.Sprintf("%s/admin/series/stale?since=%d", h, since))); got != fmt.Sprintf(want, "false", "0", "false") {
		t.Errorf("stale:\n%s\nwant\n%s", got, fmt.Sprintf(want, "false", "0", "false"))
	}
	if code, body := postAdmin(t, p.http, "/admin/series/stale", url.Values{"since": {fmt.Sprint(since)}, "glob": {"new.*", "old.b2"}}); code != 200 || !strings.Contains(body, `"series": [],`) {
		t.Errorf("stale among new.* and old.b2: %d %s", code, body)
	}
	if code, body := postAdmin(t, p.http, "/admin/series/prune", url.Values{"since": {fmt.Sprint(since)}, "dry_run": {"1"}}); code != 200 || body != fmt.Sprintf(want, "false", "0", "true") {
		t.Errorf("prune dry run: %d\n%s", code, body)
	}
	code, body := postAdmin(t, p.http, "/admin/series/prune", url.Values{"since": {fmt.Sprint(since)}})
	if code != 200 || !strings.Contains(body, `"pruned": true`) || !strings.Contains(body, `"name": "old.t;dc=x"`) {
		t.Errorf("prune: %d %s", code, body)
	}
	for _, c := range []struct{ url, want string }{
		{h + "/metrics/find?query=old.*&format=completer", `{"metrics": [{"path": "old.b2", "name": "b2", "is_leaf": "1"}]}`},
		{h + "/tags/findSeries?expr=dc%3Dx", `[]`},
	} {
		if got := strings.TrimSpace(readAll(t, c.url)); got != c.want {
			t.Errorf("after the prune: GET %s =\n%s\nwant\n%s", c.url, got, c.want)
		}
	}
	if backend == "whisper" {
		if _, err := os.Stat(filepath.Join(dir, "whisper", "old", "a.wsp")); !os.IsNotExist(err) {
			t.Errorf("old/a.wsp still there: %v", err)
		}
	}
	if code, _ := postAdmin(t, p.http, "/admin/series/prune", url.Values{"since": {"yesterday-ish"}}); code != 400 {
		t.Errorf("prune with a bad time: %d, want 400", code)
	}
	p.stop(t)

	cmd := append([]string{"stale"}, args...)
	out := runBin(t, bin, append(cmd, "--since", fmt.Sprint(recent+1))...)
	for _, n := range []string{`"name": "new.b"`, `"name": "mixed.c"`, `"name": "old.b2"`} {
		if !strings.Contains(out, n) {
			t.Errorf("stale subcommand did not list %s:\n%s", n, out)
		}
	}
	out = runBin(t, bin, append(cmd, "--since", fmt.Sprint(recent+1), "--prune", "mixed.*")...)
	if !strings.Contains(out, `"name": "mixed.c"`) || strings.Contains(out, "new.b") || !strings.Contains(out, `"pruned": true`) {
		t.Errorf("stale --prune printed\n%s", out)
	}
	p = startPlumbago(t, bin, args...)
	waitBody(t, "http://"+p.http+"/metrics/find?query=*&format=completer",
		`{"metrics": [{"path": "new.", "name": "new", "is_leaf": "0"}, {"path": "old.", "name": "old", "is_leaf": "0"}]}`)
	p.stop(t)
}

// TestWhisperTreeChangesByHand moves, copies and removes whisper files by
// hand under a running whisper server and checks /metrics/find follows
// within seconds: with inotify (the default), and with it off through the
// periodic rescan.
func TestWhisperTreeChangesByHand(t *testing.T) {
	bin := buildBinary(t)
	t.Run("inotify", func(t *testing.T) { testTreeByHand(t, bin) })
	t.Run("rescan", func(t *testing.T) { testTreeByHand(t, bin, "--whisper-watch=false", "--whisper-rescan-interval", "1s") })
}

func testTreeByHand(t *testing.T, bin string, extra ...string) {
	dir := t.TempDir()
	schemas := filepath.Join(dir, "schemas.conf")
	if err := os.WriteFile(schemas, []byte("[all]\npattern = .*\nretentions = 60s:1d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPlumbago(t, bin, append([]string{"--backend", "whisper", "--data-dir", dir, "--schemas", schemas}, extra...)...)
	h := "http://" + p.http
	now := time.Now().Unix()
	sendCarbon(t, p.carbon, fmt.Sprintf("a.b.c 1 %d", now-60))
	p.waitMetric(t, "plumbago_points_committed_total", 1)
	w := filepath.Join(dir, "whisper")
	find := func(q string) string { return h + "/metrics/find?format=completer&query=" + q }
	if err := os.Rename(filepath.Join(w, "a", "b", "c.wsp"), filepath.Join(w, "a", "moved.wsp")); err != nil {
		t.Fatal(err)
	}
	waitBody(t, find("a.*"), `{"metrics": [{"path": "a.moved", "name": "moved", "is_leaf": "1"}]}`)
	seed, err := os.ReadFile(filepath.Join(w, "a", "moved.wsp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(w, "n", "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w, "n", "e", "w.wsp"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	waitBody(t, find("n.e.*"), `{"metrics": [{"path": "n.e.w", "name": "w", "is_leaf": "1"}]}`)
	slot := now - 60 - (now-60)%60
	waitBody(t, fmt.Sprintf("%s/render?noCache=1&target=n.e.w&from=%d&until=%d&format=json", h, slot-1, slot),
		fmt.Sprintf(`[{"target": "n.e.w", "tags": {"name": "n.e.w"}, "datapoints": [[1.0, %d]]}]`, slot))
	if err := os.RemoveAll(filepath.Join(w, "a")); err != nil {
		t.Fatal(err)
	}
	waitBody(t, find("*"), `{"metrics": [{"path": "n.", "name": "n", "is_leaf": "0"}]}`)
	p.stop(t)
}

// TestRegisteredTagsPersist registers tagged series without data through
// /tags/tagSeries and /tags/tagMultiSeries, removes one with
// /tags/delSeries and one with the admin delete, and checks after a
// restart that exactly the others are still there, for both backends.
func TestRegisteredTagsPersist(t *testing.T) {
	bin := buildBinary(t)
	for _, backend := range []string{"pebble", "whisper"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--backend", backend, "--data-dir", dir}
			p := startPlumbago(t, bin, args...)
			for _, c := range []struct {
				path string
				form url.Values
				want string
			}{
				{"/tags/tagSeries", url.Values{"path": {"disk.used;host=a;dc=eu"}}, `"disk.used;dc=eu;host=a"`},
				{"/tags/tagMultiSeries", url.Values{"path": {"net.rx;host=b", "net.tx;host=b", "cpu;host=c"}}, `["net.rx;host=b", "net.tx;host=b", "cpu;host=c"]`},
				{"/tags/delSeries", url.Values{"path": {"net.tx;host=b"}}, `true`},
				{"/admin/series/delete", url.Values{"name": {"cpu;host=c"}}, "{\n  \"series\": [\n    \"cpu;host=c\"\n  ],\n  \"freed_bytes\": 0,\n  \"dry_run\": false\n}"},
			} {
				if code, body := postAdmin(t, p.http, c.path, c.form); code != 200 || body != c.want {
					t.Fatalf("POST %s: %d %s, want %s", c.path, code, body, c.want)
				}
			}
			want := `["disk.used;dc=eu;host=a", "net.rx;host=b"]`
			q := "http://" + p.http + "/tags/findSeries?expr=name%3D~."
			waitBody(t, q, want)
			p.stop(t)
			p = startPlumbago(t, bin, args...)
			waitBody(t, "http://"+p.http+"/tags/findSeries?expr=name%3D~.", want)
			waitBody(t, "http://"+p.http+"/tags/autoComplete/values?tag=host", `["a", "b"]`)
			p.stop(t)
		})
	}
}
