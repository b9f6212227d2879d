package api

import (
	"net/url"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage/tagged"
)

// TestTagsHTTP checks the /tags endpoints' exact responses (the same
// answers graphite-web gives, see TestTagsOracle) without the oracle.
func TestTagsHTTP(t *testing.T) {
	idx := tagged.NewTagIndex()
	for _, n := range []string{"cpu;dc=eu;host=a", "cpu;dc=us;host=b", "mem;host=a"} {
		if _, err := idx.Add([]byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServerWith(t, newGenSource(), Options{Tags: idx}, time.Unix(1000, 0))
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	cases := []struct {
		method, uri, body string
		status            int
		ct, want          string
	}{
		{"GET", "/tags", "", 200, "application/json", `[{"id": 1, "tag": "dc"}, {"id": 2, "tag": "host"}, {"id": 3, "tag": "name"}]`},
		{"GET", "/tags?filter=h&limit=5", "", 200, "application/json", `[{"id": 2, "tag": "host"}]`},
		{"GET", "/tags?limit=0", "", 200, "application/json", `[]`},
		{"POST", "/tags", "", 405, "text/html; charset=utf-8", ``},
		{"GET", "/tags/host", "", 200, "application/json", `{"id": 2, "tag": "host", "values": [{"id": 2, "value": "a", "count": 2}, {"id": 5, "value": "b", "count": 1}]}`},
		{"GET", "/tags/host?pretty=1&limit=1", "", 200, "application/json", "{\n  \"id\": 2,\n  \"tag\": \"host\",\n  \"values\": [\n    {\n      \"count\": 2,\n      \"id\": 2,\n      \"value\": \"a\"\n    }\n  ]\n}"},
		{"GET", "/tags/unknown", "", 200, "application/json", `null`},
		{"GET", "/tags/findSeries?expr=host%3Da", "", 200, "application/json", `["cpu;dc=eu;host=a", "mem;host=a"]`},
		{"GET", "/tags/findSeries?expr%5B%5D=name%3Dcpu&expr%5B%5D=dc!%3Deu", "", 200, "application/json", `["cpu;dc=us;host=b"]`},
		{"GET", "/tags/findSeries", "", 400, "application/json", `{"error": "no tag expressions specified"}`},
		{"GET", "/tags/findSeries?expr=dc%3D", "", 400, "application/json", `{"error": "At least one tagspec must not match the empty string"}`},
		{"GET", "/tags/findSeries?expr=x", "", 400, "application/json", `{"error": "Invalid tagspec x"}`},
		{"GET", "/tags/autoComplete/tags", "", 200, "application/json", `["dc", "host", "name"]`},
		{"GET", "/tags/autoComplete/tags?tagPrefix=n", "", 200, "application/json", `["name"]`},
		{"GET", "/tags/autoComplete/tags?expr=name%3Dmem", "", 200, "application/json", `["host"]`},
		{"GET", "/tags/autoComplete/tags?limit=-1", "", 200, "application/json", `["dc", "host"]`},
		{"GET", "/tags/autoComplete/tags?limit=%201_0%20", "", 200, "application/json", `["dc", "host", "name"]`},
		{"GET", "/tags/autoComplete/tags?limit=1e3", "", 400, "application/json", `{"error": "invalid literal for int() with base 10: '1e3'"}`},
		{"GET", "/tags/autoComplete/values?tag=host", "", 200, "application/json", `["a", "b"]`},
		{"GET", "/tags/autoComplete/values?tag=host&expr=name%3Dcpu&valuePrefix=b", "", 200, "application/json", `["b"]`},
		{"GET", "/tags/autoComplete/values", "", 400, "application/json", `{"error": "no tag specified"}`},
		{"DELETE", "/tags/autoComplete/values?tag=host", "", 405, "text/html; charset=utf-8", ``},
		{"POST", "/tags/tagSeries", form("path", "disk;z=1;b=2"), 200, "application/json", `"disk;b=2;z=1"`},
		{"GET", "/tags/z", "", 200, "application/json", `{"id": 9, "tag": "z", "values": [{"id": 9, "value": "1", "count": 1}]}`},
		{"POST", "/tags/tagSeries", form("path", "disk;b=;z=1"), 500, "application/json", `{"error": "Value for tag \"b\" may not be empty"}`},
		{"POST", "/tags/tagMultiSeries", form("path", `net{b="x\"y"}`, "path", "a;c=d"), 200, "application/json", `["net;b=x\"y", "a;c=d"]`},
		{"POST", "/tags/delSeries", form("path", "a;c=d", "path", "mem;host=a"), 200, "application/json", `true`},
		{"GET", "/tags/c", "", 200, "application/json", `{"id": 14, "tag": "c", "values": []}`},
		{"GET", "/tags/findSeries?expr=host%3Da", "", 200, "application/json", `["cpu;dc=eu;host=a"]`},
		{"GET", "/tagsx", "", 404, "text/plain; charset=utf-8", `not found`},
	}
	for _, c := range cases {
		ct := ""
		if c.body != "" {
			ct = "application/x-www-form-urlencoded"
		}
		status, gotCT, body := srv.do(t, c.method, c.uri, ct, c.body)
		if status != c.status || gotCT != c.ct || string(body) != c.want {
			t.Errorf("%s %s %s:\n got %d %q %s\nwant %d %q %s", c.method, c.uri, c.body, status, gotCT, body, c.status, c.ct, c.want)
		}
	}
}

// TestTagsWithoutTagDB: a source with no tag index answers like
// graphite-web's DummyTagDB.
func TestTagsWithoutTagDB(t *testing.T) {
	srv := startServer(t, newGenSource(), time.Unix(1000, 0))
	for uri, want := range map[string]string{
		"/tags":                           `[]`,
		"/tags/host":                      `null`,
		"/tags/findSeries?expr=a%3Db":     `[]`,
		"/tags/autoComplete/tags":         `[]`,
		"/tags/autoComplete/values?tag=a": `[]`,
		"/render?target=seriesByTag('a=b')&format=json": `[]`,
		"/events/get_data?from=-1h&until=now":           `[]`,
	} {
		if status, _, body := srv.get(t, uri); status != 200 || string(body) != want {
			t.Errorf("%s: %d %s, want 200 %s", uri, status, body, want)
		}
	}
	status, _, body := srv.do(t, "POST", "/tags/tagSeries", "application/x-www-form-urlencoded", "path=a%3Bb%3Dc")
	if status != 500 || string(body) != `{"error": "Tagging not implemented with DummyTagDB"}` {
		t.Errorf("tagSeries: %d %s", status, body)
	}
}

func FuzzCanonicalTaggedPath(f *testing.F) {
	for _, s := range []string{"a;b=c", "cpu.load;host=x;dc=y", "~m;name=q;a=b", `m{a="b",c="d\"e"}`, `m{a{b="c"}`, ";a=b", "a;b", "a;b!c=d", "~~~;a=b", `m{a="b":,c="d"}`, "a;b=c;b=d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		c, order, err := canonicalTaggedPath(path)
		if err != nil {
			return
		}
		if !contains(order, "name") {
			t.Fatalf("%q: order %v lacks name", path, order)
		}
		// The canonical form is a fixed point.
		c2, _, err := canonicalTaggedPath(c)
		if err != nil || c2 != c {
			t.Fatalf("%q -> %q -> %q (%v)", path, c, c2, err)
		}
		idx := tagged.NewTagIndex()
		if _, err := idx.AddInOrder([]byte(c), order); err != nil {
			if len(order) > tagged.MaxTags {
				return
			}
			t.Fatalf("%q accepted by graphite-web's rules, refused by the index: %v", c, err)
		}
		if !idx.Has([]byte(c)) {
			t.Fatalf("%q not indexed", c)
		}
	})
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
