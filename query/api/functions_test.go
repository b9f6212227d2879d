package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/plumbago/plumbago/query"
)

func TestFunctionsEndpoint(t *testing.T) {
	srv := startServer(t, newGenSource("a.b"), time.Unix(100000, 0))
	status, ct, body := srv.get(t, "/functions/sumSeries")
	want := `{"name": "sumSeries", "function": "sumSeries(*seriesLists)", "description": "` + mustLookup(t, "sumSeries").Meta.Description +
		`", "module": "graphite.render.functions", "group": "Combine", "params": [{"name": "seriesLists", "type": "seriesList", "required": true, "multiple": true}]}`
	if status != 200 || ct != "application/json" || string(body) != want {
		t.Errorf("/functions/sumSeries: %d %s\n%s\nwant\n%s", status, ct, body, want)
	}
	status, _, body = srv.get(t, "/functions/aggregate")
	var agg map[string]any
	if status != 200 || json.Unmarshal(body, &agg) != nil || agg["function"] != "aggregate(seriesList, func, xFilesFactor=None)" {
		t.Errorf("/functions/aggregate: %d %s", status, body)
	}
	status, _, body = srv.get(t, "/functions/nosuch")
	if status != 404 || string(body) != `{"error": "Function not found: nosuch"}` {
		t.Errorf("/functions/nosuch: %d %s", status, body)
	}
	if status, _, _ := srv.do(t, "POST", "/functions", "", ""); status != 405 {
		t.Errorf("POST /functions: %d", status)
	}
	status, _, body = srv.get(t, "/functions")
	// Infinity defaults are written as 1e9999 (valid JSON that parses as
	// Infinity in JavaScript; Go's decoder rejects the overflow).
	if !bytes.Contains(body, []byte(`{"name": "limit", "type": "intOrInf", "default": 1e9999}`)) {
		t.Errorf("keepLastValue's limit default is not 1e9999")
	}
	body = bytes.ReplaceAll(body, []byte("1e9999"), []byte("1e308"))
	var all map[string]map[string]any
	if err := json.Unmarshal(body, &all); status != 200 || err != nil {
		t.Fatalf("/functions: %d %v", status, err)
	}
	for _, f := range query.Functions() {
		info, ok := all[f.Name]
		if !ok {
			t.Errorf("/functions lacks %s", f.Name)
			continue
		}
		params, _ := info["params"].([]any)
		if f.Meta.Group != "Graph" && len(f.Meta.Params) > 0 && f.Meta.Params[0].Type == query.TypeSeriesList {
			first := params[0].(map[string]any)
			if first["type"] != "seriesList" {
				t.Errorf("%s: first param type %v", f.Name, first["type"])
			}
		}
		if info["group"] == "" || info["description"] == "" {
			t.Errorf("%s: empty group or description", f.Name)
		}
	}
	if len(all) != len(query.Functions()) {
		t.Errorf("/functions lists %d, registry has %d", len(all), len(query.Functions()))
	}
	status, _, body = srv.get(t, "/functions?grouped=1")
	body = bytes.ReplaceAll(body, []byte("1e9999"), []byte("1e308"))
	var grouped map[string]map[string]any
	if err := json.Unmarshal(body, &grouped); status != 200 || err != nil || grouped["Combine"]["sumSeries"] == nil || grouped["Alias"]["aliasSub"] == nil {
		t.Errorf("/functions?grouped=1: %d %v %.200s", status, err, body)
	}
	status, _, body = srv.get(t, "/functions?group=Alias")
	var alias map[string]any
	if err := json.Unmarshal(body, &alias); status != 200 || err != nil || alias["alias"] == nil || alias["sumSeries"] != nil {
		t.Errorf("/functions?group=Alias: %d %v %.200s", status, err, body)
	}
	status, ct, body = srv.get(t, "/version")
	if status != 200 || string(body) != "1.1.10\n" || ct != "text/plain; charset=utf-8" {
		t.Errorf("/version: %d %q %q", status, ct, body)
	}
}

func mustLookup(t *testing.T, name string) *query.Function {
	f, ok := query.Lookup(name)
	if !ok {
		t.Fatalf("%s not registered", name)
	}
	return f
}
