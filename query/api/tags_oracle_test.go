package api

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/tagged"
	"github.com/plumbago/plumbago/storage/whisper"
)

const graphiteWebTags = "/usr/lib/python3/dist-packages/graphite/tags/localdatabase.py"

type tagOracleReq struct {
	Method string     `json:"method"`
	Path   string     `json:"path"`
	Form   url.Values `json:"form,omitempty"`
	// Ours, when set, replaces each Ours[i][0] in the request with
	// Ours[i][1] for our server, and the same in graphite-web's answer:
	// a tagged name in another tag order than carbon's, which
	// graphite-web 1.1.8 does not normalise (it answers []) and we do.
	Ours [][2]string `json:"-"`
}

func (r tagOracleReq) ours() tagOracleReq {
	for _, kv := range r.Ours {
		esc := url.QueryEscape(kv[0])
		r.Path = strings.ReplaceAll(r.Path, esc, url.QueryEscape(kv[1]))
		if r.Form != nil {
			f := url.Values{}
			for k, vs := range r.Form {
				for _, v := range vs {
					f.Add(k, strings.ReplaceAll(v, kv[0], kv[1]))
				}
			}
			r.Form = f
		}
	}
	return r
}

type tagOracleWhisper struct {
	Name     string       `json:"name"`
	HashOnly bool         `json:"hash_only"`
	Step     int64        `json:"step"`
	Count    int64        `json:"count"`
	Points   [][2]float64 `json:"points"`
}

func runTagOracle(t *testing.T, dir string, files []tagOracleWhisper, reqs []tagOracleReq) []oracleResponse {
	t.Helper()
	var resp []oracleResponse
	runPython(t, "testdata/tagoracle/tagoracle.py", map[string]any{"whisper": files, "requests": reqs}, &resp, "TAGORACLE_DIR="+dir)
	if len(resp) != len(reqs) {
		t.Fatalf("tag oracle answered %d of %d requests", len(resp), len(reqs))
	}
	return resp
}

func get(path string, q ...string) tagOracleReq {
	v := url.Values{}
	for i := 0; i+1 < len(q); i += 2 {
		v.Add(q[i], q[i+1])
	}
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	return tagOracleReq{Method: "GET", Path: path}
}

// reorder makes r a request whose tagged names (pairs: normalised, as
// sent) we get in another tag order.
func reorder(r tagOracleReq, pairs ...string) tagOracleReq {
	for i := 0; i+1 < len(pairs); i += 2 {
		r.Ours = append(r.Ours, [2]string{pairs[i], pairs[i+1]})
	}
	return r
}

func post(path string, form ...string) tagOracleReq {
	v := url.Values{}
	for i := 0; i+1 < len(form); i += 2 {
		v.Add(form[i], form[i+1])
	}
	return tagOracleReq{Method: "POST", Path: path, Form: v}
}

// TestTagsOracle runs one sequence of tag requests (state carries over:
// tagSeries, delSeries) through graphite-web 1.1 with its default
// LocalDatabaseTagDB on sqlite and through our API, and compares status,
// content type and body byte for byte. Render requests read whisper files
// in carbon's _tagged layout with both servers.
func TestTagsOracle(t *testing.T) {
	needOracle(t)
	testenv.Files(t, "apt graphite-web", graphiteWebTags)
	now := time.Now().Unix()
	now -= now % 60
	series := []string{
		"cpu.load;dc=eu;env=prod;host=web01",
		"cpu.load;dc=eu;env=dev;host=web02",
		"cpu.load;dc=us;host=db01;rack=r1",
		"mem;dc=eu;env=prod;host=web01",
		"disk.used;host=web02;mount=var",
		// stored under carbon's default hash-only file name: found only
		// through the tag database, by both servers
		"net.bytes;dc=eu;host=web02",
	}
	var files []tagOracleWhisper
	for k, n := range append(series[:4:4], series[5]) {
		f := tagOracleWhisper{Name: n, Step: 10, Count: 360, HashOnly: k == 4}
		for i := int64(0); i < 60; i++ {
			if (i+int64(k))%7 == 0 {
				continue
			}
			f.Points = append(f.Points, [2]float64{float64(now - i*10), float64(k*100) + float64(i%13)*0.5})
		}
		files = append(files, f)
	}
	multi := []string{}
	for _, n := range series {
		multi = append(multi, "path", n)
	}
	rng := fmt.Sprintf("&format=json&from=%d&until=%d&now=%d", now-300, now, now)
	render := func(target string) tagOracleReq {
		return tagOracleReq{Method: "GET", Path: "/render?target=" + url.QueryEscape(target) + rng}
	}
	reqs := []tagOracleReq{
		get("/tags"),
		post("/tags/tagMultiSeries", multi...),
		get("/tags"),
		get("/tags/"),
		get("/tags", "filter", "e|h"),
		get("/tags", "filter", "^h"),
		get("/tags", "filter", "ost"),
		get("/tags", "limit", "2"),
		get("/tags", "limit", "0"),
		get("/tags", "limit", "-1"),
		get("/tags", "limit", ""),
		get("/tags", "limit", "abc"),
		get("/tags", "limit", " 3 "),
		get("/tags", "pretty", "1"),
		post("/tags"),
		get("/tags/host"),
		get("/tags/host", "filter", "web"),
		get("/tags/host", "limit", "1"),
		get("/tags/host", "limit", "x"),
		get("/tags/nope"),
		get("/tags/nope", "limit", "x"),
		get("/tags/dc", "pretty", "1"),
		get("/tags/name"),
		get("/tags/autoComplete/tags/"),
		post("/tags/host"),
		get("/tags/findSeries", "expr", "name=cpu.load"),
		get("/tags/findSeries", "expr", "name=cpu.load", "expr", "env!=prod"),
		get("/tags/findSeries", "expr", "name=cpu.load", "expr", "env="),
		get("/tags/findSeries", "expr", "host=~web"),
		get("/tags/findSeries", "expr", "host=~eb"),
		get("/tags/findSeries", "expr", "host=~^w.*2$"),
		get("/tags/findSeries", "expr", "env!="),
		get("/tags/findSeries", "expr", "dc=eu", "expr", "host!=~web0[12]"),
		get("/tags/findSeries", "expr[]", "dc=us"),
		get("/tags/findSeries", "expr", "rack!=~r", "expr", "name=~cpu"),
		get("/tags/findSeries"),
		get("/tags/findSeries", "expr", "env="),
		get("/tags/findSeries", "expr", "bad"),
		get("/tags/findSeries", "expr", "name=cpu.load", "pretty", "1"),
		post("/tags/findSeries", "expr", "dc=eu", "expr", "env=prod"),
		{Method: "PUT", Path: "/tags/findSeries?expr=dc%3Deu"},
		get("/tags/autoComplete/tags"),
		get("/tags/autoComplete/tags", "tagPrefix", "h"),
		get("/tags/autoComplete/tags", "tagPrefix", "zz"),
		get("/tags/autoComplete/tags", "expr", "name=cpu.load"),
		get("/tags/autoComplete/tags", "expr", "name=cpu.load", "tagPrefix", "r"),
		get("/tags/autoComplete/tags", "expr", "name=cpu.load", "expr", "dc=eu", "limit", "1"),
		get("/tags/autoComplete/tags", "limit", "2"),
		get("/tags/autoComplete/tags", "limit", "0"),
		get("/tags/autoComplete/tags", "limit", "-1"),
		get("/tags/autoComplete/tags", "limit", "-2", "expr", "dc=eu"),
		get("/tags/autoComplete/tags", "limit", "abc"),
		get("/tags/autoComplete/tags", "limit", ""),
		get("/tags/autoComplete/tags", "limit", "a'b"),
		get("/tags/autoComplete/tags", "limit", `a'"\b`),
		get("/tags/autoComplete/tags", "limit", "1_000"),
		get("/tags/autoComplete/tags", "limit", "1__0"),
		get("/tags/autoComplete/tags", "limit", "_1"),
		get("/tags/autoComplete/tags", "limit", "+3"),
		get("/tags/autoComplete/tags", "limit", " -0 "),
		get("/tags/autoComplete/tags", "limit", "\t2\n"),
		get("/tags/autoComplete/tags", "limit", "0x10"),
		get("/tags", "limit", "007"),
		get("/tags/autoComplete/tags", "expr", "bad"),
		get("/tags/autoComplete/tags", "expr", "dc="),
		get("/tags/autoComplete/tags", "expr[]", "host=web02"),
		get("/tags/autoComplete/tags", "expr", "", "tagPrefix", "d"),
		post("/tags/autoComplete/tags", "expr", "name=mem"),
		get("/tags/autoComplete/values", "tag", "host"),
		get("/tags/autoComplete/values", "tag", "host", "valuePrefix", "w"),
		get("/tags/autoComplete/values", "tag", "env", "expr", "name=cpu.load"),
		get("/tags/autoComplete/values", "tag", "host", "expr", "dc=eu", "valuePrefix", "web0", "limit", "1"),
		get("/tags/autoComplete/values", "tag", "nope"),
		get("/tags/autoComplete/values", "tag", "host", "limit", "0"),
		get("/tags/autoComplete/values", "tag", "host", "limit", "-1"),
		get("/tags/autoComplete/values", "tag", "host", "limit", "-1", "expr", "dc=eu"),
		get("/tags/autoComplete/values"),
		get("/tags/autoComplete/values", "tag", ""),
		get("/tags/autoComplete/values", "tag", "host", "expr", "bad"),
		get("/tags/autoComplete/values", "tag", "host", "limit", "z"),
		post("/tags/autoComplete/values", "tag", "dc"),
		get("/tags/tagSeries", "path", "a;b=c"),
		post("/tags/tagSeries"),
		post("/tags/tagSeries", "path", ""),
		post("/tags/tagSeries", "path", "cpu.load;host=web03;dc=eu"),
		post("/tags/tagSeries", "path", "cpu.load;dc=eu;host=web03"),
		post("/tags/tagSeries", "path", "~~cpu.load;env=prod;host=web01;dc=us;name=x"),
		post("/tags/tagSeries", "path", `net{host="web01",dc="eu"}`),
		post("/tags/tagSeries", "path", ";a=b"),
		post("/tags/tagSeries", "path", "a;b"),
		post("/tags/tagSeries", "path", "a;=b"),
		post("/tags/tagSeries", "path", "a;b="),
		post("/tags/tagSeries", "path", "a;b=~c"),
		post("/tags/tagSeries", "path", "a;b!c=d"),
		post("/tags/tagSeries", "path", "a;b^!c=d"),
		post("/tags/tagSeries", "path", "~~~;b=c"),
		post("/tags/tagSeries", "path", `m{a{b="c"}`),
		post("/tags/tagSeries", "path", `m{a="b";c="d"}`),
		post("/tags/tagSeries", "path", `{a="b"}`),
		post("/tags/tagSeries", "path", "x;a=1", "path", "y;a=2"),
		post("/tags/tagSeries", "path", "temp;région=Zürich;emoji=\U0001F600"),
		get("/tags/r%C3%A9gion"),
		get("/tags/autoComplete/values", "tag", "région", "valuePrefix", "Z"),
		get("/tags/findSeries", "expr", "région=~Z.rich"),
		get("/tags", "filter", "r.g"),
		get("/tags/a"),
		post("/tags/tagMultiSeries", "path[]", "z;a=3", "path[]", "z;a=4"),
		post("/tags/tagMultiSeries"),
		post("/tags/tagMultiSeries", "path", "ok;a=5", "path", "bad;b="),
		get("/tags/a"),
		get("/tags/tagMultiSeries"),
		get("/tags/autoComplete/values", "tag", "host"),
		get("/tags/findSeries", "expr", "name=cpu.load"),
		render("seriesByTag('name=cpu.load')"),
		render("seriesByTag('name=cpu.load','host=web02')"),
		render(`seriesByTag("dc=eu", "env!=dev")`),
		render("sumSeries(seriesByTag('dc=eu'))"),
		render("seriesByTag('name=cpu.load')|averageSeries()"),
		render("aliasByNode(seriesByTag('name=cpu.load'), 'host', 0)"),
		render("seriesByTag('name=nope')"),
		render("seriesByTag('name=mem')"),
		render("seriesByTag('name=net.bytes')"),
		// A tagged series by its full name (carbon's normalised form),
		// also inside functions, by POST and for a file stored
		// under its hash-only name; in another tag order (Ours) we answer
		// what graphite-web answers for the normalised name.
		render("cpu.load;dc=eu;env=prod;host=web01"),
		reorder(render("cpu.load;dc=eu;env=prod;host=web01"), "cpu.load;dc=eu;env=prod;host=web01", "cpu.load;host=web01;env=prod;dc=eu"),
		reorder(render("sumSeries(cpu.load;dc=eu;env=prod;host=web01,cpu.load;dc=us;host=db01;rack=r1)"),
			"cpu.load;dc=eu;env=prod;host=web01", "cpu.load;host=web01;env=prod;dc=eu", "cpu.load;dc=us;host=db01;rack=r1", "cpu.load;rack=r1;host=db01;dc=us"),
		render("aliasByNode(cpu.load;dc=eu;env=dev;host=web02, 0)"),
		reorder(render("net.bytes;dc=eu;host=web02"), "net.bytes;dc=eu;host=web02", "net.bytes;host=web02;dc=eu"),
		render("cpu.load;dc=eu;env=prod;host=web0*"),
		render("cpu.load;host=nope"),
		reorder(tagOracleReq{Method: "POST", Path: "/render", Form: url.Values{"target": {"cpu.load;dc=eu;env=prod;host=web01"}, "format": {"json"},
			"from": {fmt.Sprint(now - 300)}, "until": {fmt.Sprint(now)}, "now": {fmt.Sprint(now)}}},
			"cpu.load;dc=eu;env=prod;host=web01", "cpu.load;env=prod;host=web01;dc=eu"),
	}
	// The tag functions of the query package, when registered, checked
	// over tagged series fetched by seriesByTag.
	for _, c := range []struct{ fn, target string }{
		{"groupByTags", "seriesByTag('name=cpu.load')|groupByTags('sum','dc')"},
		{"groupByTags", "groupByTags(seriesByTag('dc=eu'),'average','name')"},
		{"groupByTags", "groupByTags(seriesByTag('dc=eu'),'sumSeries','name','host')"},
		{"groupByTags", "groupByTags(seriesByTag('host=web01'),'max','env')"},
		{"aliasByTags", "aliasByTags(seriesByTag('name=cpu.load'),'host','dc')"},
		{"aliasByTags", "aliasByTags(seriesByTag('name=cpu.load'),1,'host',-2,'nope')"},
		{"aliasByTags", "seriesByTag('dc=eu')|sumSeries()|aliasByTags('name',0)"},
	} {
		if _, ok := query.Lookup(c.fn); ok {
			reqs = append(reqs, render(c.target))
		}
	}
	reqs = append(reqs, []tagOracleReq{
		post("/tags/delSeries", "path", "mem;host=web01;dc=eu;env=prod"),
		post("/tags/delSeries", "path", "never;a=b"),
		post("/tags/delSeries", "path[]", "disk.used;host=web02;mount=var", "path[]", "z;a=3"),
		post("/tags/delSeries"),
		post("/tags/delSeries", "path", "bad;=x"),
		get("/tags/delSeries"),
		get("/tags"),
		get("/tags/mount"),
		get("/tags/env"),
		get("/tags/autoComplete/tags"),
		get("/tags/autoComplete/tags", "expr", "env=prod"),
		get("/tags/autoComplete/values", "tag", "mount"),
		get("/tags/findSeries", "expr", "env=prod"),
		render("seriesByTag('name=mem')"),
		render("seriesByTag('env=prod')"),
	}...)
	dir := t.TempDir()
	want := runTagOracle(t, dir, files, reqs)

	st, err := whisper.Open(whisper.Options{Dir: filepath.Join(dir, "whisper"), Index: index.New()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	<-st.ScanDone()
	srv := startServerWith(t, st, Options{Tags: tagged.NewTagIndex()}, time.Unix(now, 0))
	for i, r := range reqs {
		var status int
		var ct string
		var body []byte
		w := want[i]
		if len(r.Ours) > 0 {
			for _, kv := range r.Ours {
				w.Body = strings.ReplaceAll(w.Body, kv[0], kv[1])
			}
			r = r.ours()
		}
		if r.Method == "POST" {
			status, ct, body = srv.do(t, "POST", r.Path, "application/x-www-form-urlencoded", r.Form.Encode())
		} else {
			status, ct, body = srv.do(t, r.Method, r.Path, "", "")
		}
		if os.Getenv("TAGORACLE_LOG") != "" {
			t.Logf("#%d %s %s %v -> %d %s", i, r.Method, r.Path, r.Form, w.Status, trunc(w.Body))
		}
		if status != w.Status || string(body) != w.Body || ct != w.ContentType {
			t.Errorf("#%d %s %s %v:\n ours %d %s %s\n want %d %s %s", i, r.Method, r.Path, r.Form,
				status, ct, trunc(string(body)), w.Status, w.ContentType, trunc(w.Body))
		}
	}
}
