package api

import (
	"math"
	"testing"

	"github.com/plumbago/plumbago/query"
)

var tenth = 0.1

func chartSeries() []*query.Series {
	a := query.NewSeries("a", 100, 130, 10, []float64{1, math.NaN(), tenth + 0.2}, 0)
	b := query.NewSeries("b\u00e9", 100, 130, 10, []float64{math.Inf(1), math.Inf(-1), 3}, 0)
	b.IntValues = true
	return []*query.Series{a, b}
}

func TestAppendDygraph(t *testing.T) {
	got, err := appendDygraph(nil, chartSeries())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"labels" : ["Time", "a", "b\u00e9"], "data" : [[100000, 1.0, Infinity], [110000, null, -Infinity], [120000, 0.30000000000000004, 3]]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got, _ := appendDygraph(nil, nil); string(got) != "{}" {
		t.Fatalf("empty: %s", got)
	}
	short := query.NewSeries("s", 100, 120, 10, []float64{1, 2}, 0)
	if _, err := appendDygraph(nil, append(chartSeries(), short)); err == nil {
		t.Fatal("unequal lengths accepted")
	}
	r := &renderRequest{format: "dygraph", jsonp: "cb", hasJSONP: true}
	got, _ = appendChartFormat(r, nil, false)
	if string(got) != "cb({})" || chartContentType(r) != "text/javascript" {
		t.Fatalf("jsonp: %s", got)
	}
}

func TestAppendRickshaw(t *testing.T) {
	got := appendRickshaw(nil, chartSeries(), false)
	want := `[{"target": "a", "datapoints": [{"x": 100, "y": 1.0}, {"x": 110, "y": null}, {"x": 120, "y": 0.30000000000000004}]}, ` +
		`{"target": "b\u00e9", "datapoints": [{"x": 100, "y": Infinity}, {"x": 110, "y": -Infinity}, {"x": 120, "y": 3}]}]`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	one := query.NewSeries("a", 100, 110, 10, []float64{2}, 0)
	empty := query.NewSeries("e", 100, 100, 10, nil, 0)
	got = appendRickshaw(nil, []*query.Series{one, empty}, true)
	want = "[\n  {\n    \"target\": \"a\",\n    \"datapoints\": [\n      {\n        \"x\": 100,\n        \"y\": 2.0\n      }\n    ]\n  },\n  {\n    \"target\": \"e\",\n    \"datapoints\": []\n  }\n]"
	if string(got) != want {
		t.Fatalf("pretty got  %q\nwant %q", got, want)
	}
	if got := appendRickshaw(nil, nil, true); string(got) != "[]" {
		t.Fatalf("empty: %s", got)
	}
}
