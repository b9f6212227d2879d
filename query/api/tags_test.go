package api

import (
	"net/url"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/tagged"
)

// taggedNames are in carbon's canonical form (tags sorted), as ingest
// stores them.
var taggedNames = []string{
	"cpu.load;dc=eu;env=prod;host=h1",
	"cpu.load;dc=eu;env=dev;host=h2",
	"cpu.load;dc=us;env=prod;host=h3",
	"mem.free;dc=eu;host=h1",
	"disk.used;dc=us;host=h3;mount=root",
}

func tagIndex(t *testing.T) *tagged.TagIndex {
	idx := tagged.NewTagIndex()
	for _, n := range taggedNames {
		if _, err := idx.Add([]byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	return idx
}

var tagQueries = []string{
	"/tags/autoComplete/tags",
	"/tags/autoComplete/tags?tagPrefix=d",
	"/tags/autoComplete/tags?expr=name=cpu.load",
	"/tags/autoComplete/tags?expr=dc=eu&expr=host!=h2",
	"/tags/autoComplete/tags?expr=dc=eu&tagPrefix=h",
	"/tags/autoComplete/tags?limit=2",
	"/tags/autoComplete/values?tag=host",
	"/tags/autoComplete/values?tag=dc&valuePrefix=e",
	"/tags/autoComplete/values?tag=host&expr=dc=us",
	"/tags/autoComplete/values?tag=name&expr=host=~h[12]",
	"/tags/autoComplete/values?tag=env&expr=name=cpu.load&limit=1",
	"/tags/autoComplete/values",
	"/tags/findSeries?expr=dc=eu",
	"/tags/findSeries?expr=name=~cpu.*&expr=env!=prod",
	"/tags/findSeries?expr=host=~h[13]&expr=dc!=~e.*",
	"/tags/findSeries",
}

// TestTagsOracle tags the same series in graphite-web's tag database and in
// the tag index and compares the autocomplete and findSeries answers.
func TestTagsOracle(t *testing.T) {
	needOracle(t)
	srv := startServerWith(t, newGenSource(), Options{Tags: tagIndex(t)}, time.Unix(100000, 0))
	reqs := []any{map[string]any{"path": "/tags/tagMultiSeries", "form": url.Values{"path": taggedNames}}}
	for _, q := range tagQueries {
		reqs = append(reqs, q)
	}
	want := runOracleAny(t, t.TempDir(), reqs)
	if want[0].Status != 200 {
		t.Fatalf("tagMultiSeries: %d %s", want[0].Status, want[0].Body)
	}
	for i, q := range tagQueries {
		w := want[i+1]
		status, _, body := srv.get(t, q)
		if status != w.Status || (status == 200 && string(body) != w.Body) {
			t.Errorf("%s:\n ours %d %s\n want %d %s", q, status, body, w.Status, trunc(w.Body))
		}
	}
}

func TestTagsEndpoints(t *testing.T) {
	srv := startServerWith(t, newGenSource(), Options{Tags: tagIndex(t)}, time.Unix(100000, 0))
	for uri, want := range map[string]string{
		"/tags":                               `[{"tag": "dc"}, {"tag": "env"}, {"tag": "host"}, {"tag": "mount"}, {"tag": "name"}]`,
		"/tags?filter=h":                      `[{"tag": "host"}]`,
		"/tags/host":                          `{"tag": "host", "values": [{"value": "h1", "count": 2}, {"value": "h2", "count": 1}, {"value": "h3", "count": 2}]}`,
		"/tags/host?filter=h[12]":             `{"tag": "host", "values": [{"value": "h1", "count": 2}, {"value": "h2", "count": 1}]}`,
		"/tags/nosuch":                        `null`,
		"/events/get_data?from=-1h&until=now": `[]`,
	} {
		status, ct, body := srv.get(t, uri)
		if status != 200 || ct != "application/json" || string(body) != want {
			t.Errorf("%s: %d %s %s, want %s", uri, status, ct, body, want)
		}
	}
	if status, _, _ := srv.do(t, "POST", "/tags/tagSeries", "application/x-www-form-urlencoded", "path=a;b=c"); status != 404 {
		t.Errorf("tagSeries: %d, want 404 (not served)", status)
	}
	// Without a tag database Grafana gets empty answers, not errors.
	bare := startServer(t, newGenSource(), time.Unix(100000, 0))
	for _, uri := range []string{"/tags/autoComplete/tags?tagPrefix=x", "/tags/autoComplete/values?tag=x", "/tags", "/tags/findSeries?expr=a=b"} {
		if status, _, body := bare.get(t, uri); status != 200 || string(body) != "[]" {
			t.Errorf("no tagdb %s: %d %s", uri, status, body)
		}
	}
}
