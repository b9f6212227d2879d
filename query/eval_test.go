package query

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone tests need no system tzdata
)

func evalJSON(t *testing.T, src Source, req Request, mdp int, targets ...string) string {
	t.Helper()
	ev := NewEvaluator(src, Limits{})
	list, err := ev.Eval(context.Background(), req, targets)
	if err != nil {
		t.Fatalf("Eval(%q): %v", targets, err)
	}
	ApplyMaxDataPoints(list, mdp)
	return string(AppendJSON(nil, list, false))
}

func fixture() *memSource {
	m := newMemSource()
	m.add("a.b.c", 10, func(ts int64) float64 { return float64(ts % 100) })
	m.add("a.b.d", 10, func(ts int64) float64 {
		if ts%30 == 0 {
			return math.NaN()
		}
		return 1
	})
	m.add("a.m.x", 20, func(ts int64) float64 { return 2 })
	m.add("t.tagged;dc=eu;host=h1", 10, func(ts int64) float64 { return 1 })
	m.add("t.tagged;dc=eu;host=h2", 10, func(ts int64) float64 { return 2 })
	m.add("inf.x", 10, func(ts int64) float64 {
		switch ts % 30 {
		case 0:
			return math.Inf(1)
		case 10:
			return math.Inf(-1)
		}
		return math.NaN()
	})
	return m
}

func TestEvalExact(t *testing.T) {
	src := fixture()
	req := Request{From: 1000, Until: 1040, Now: 2000}
	cases := []struct {
		targets []string
		want    string
	}{
		{[]string{"a.b.c"}, `[{"target": "a.b.c", "tags": {"name": "a.b.c"}, "datapoints": [[10.0, 1010], [20.0, 1020], [30.0, 1030], [40.0, 1040]]}]`},
		{[]string{"a.b.d"}, `[{"target": "a.b.d", "tags": {"name": "a.b.d"}, "datapoints": [[1.0, 1010], [null, 1020], [1.0, 1030], [1.0, 1040]]}]`},
		{[]string{"sumSeries(a.b.*)"}, `[{"target": "sumSeries(a.b.*)", "tags": {"name": "sumSeries(a.b.*)", "aggregatedBy": "sum"}, "datapoints": [[11.0, 1010], [20.0, 1020], [31.0, 1030], [41.0, 1040]]}]`},
		{[]string{"averageSeries(a.b.c,a.b.d)"}, `[{"target": "averageSeries(a.b.c,a.b.d)", "tags": {"name": "averageSeries(a.b.c,a.b.d)", "aggregatedBy": "average"}, "datapoints": [[5.5, 1010], [20.0, 1020], [15.5, 1030], [20.5, 1040]]}]`},
		// LCM step 20: a.b.c consolidated by average, a.m.x starts at 1020.
		{[]string{"sumSeries(a.b.c,a.m.x)"}, `[{"target": "sumSeries(a.b.c,a.m.x)", "tags": {"name": "sumSeries(a.b.c,a.m.x)", "aggregatedBy": "sum"}, "datapoints": [[17.0, 1010], [37.0, 1030]]}]`},
		{[]string{"a.b.c|scale(0.5)|alias('half c')"}, `[{"target": "half c", "tags": {"name": "a.b.c", "scale": "0.5"}, "datapoints": [[5.0, 1010], [10.0, 1020], [15.0, 1030], [20.0, 1040]]}]`},
		{[]string{`aliasSub(a.b.c, "(^.*$)", "\1 A")`}, `[{"target": "a.b.c A", "tags": {"name": "a.b.c"}, "datapoints": [[10.0, 1010], [20.0, 1020], [30.0, 1030], [40.0, 1040]]}]`},
		{[]string{`aliasSub(alias(a.b.c,"x y z"), "(^.*$)", "\1 A")`}, `[{"target": "x y z A", "tags": {"name": "a.b.c"}, "datapoints": [[10.0, 1010], [20.0, 1020], [30.0, 1030], [40.0, 1040]]}]`},
		// A tagged name is one series (globs in it are literal, as in
		// graphite-web's finders), in any tag order.
		{[]string{"aliasByNode(t.tagged;dc=eu;host=h*, 'host', 1)"}, `[]`},
		{[]string{"aliasByNode(t.tagged;host=h1;dc=eu, 'host', 1)"}, `[{"target": "h1.tagged", "tags": {"dc": "eu", "host": "h1", "name": "t.tagged"}, "datapoints": [[1.0, 1010], [1.0, 1020], [1.0, 1030], [1.0, 1040]]}]`},
		{[]string{"inf.x"}, `[{"target": "inf.x", "tags": {"name": "inf.x"}, "datapoints": [[null, 1010], [1e9999, 1020], [-1e9999, 1030], [null, 1040]]}]`},
		{[]string{"nothing.here"}, `[]`},
		{[]string{"", "  "}, `[]`},
	}
	for _, c := range cases {
		if got := evalJSON(t, src, req, 0, c.targets...); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.targets, got, c.want)
		}
	}
}

// TestMaxDataPoints checks the nudge: 60 points of 10 s from 1010 with
// maxDataPoints=25 -> valuesPerPoint 3, start nudged to 1020 (30 s
// buckets aligned to multiples of 30 after dropping 0 values).
func TestMaxDataPoints(t *testing.T) {
	src := newMemSource()
	src.add("x", 10, func(ts int64) float64 { return float64(ts) })
	got := evalJSON(t, src, Request{From: 1000, Until: 1600, Now: 2000}, 25, "x")
	// n = 600/10 = 60 > 25: vpp = ceil(60/25) = 3, spp 30,
	// nudge = 30 + 1010%10 - 1010%30 = 30 - 20 = 10 -> start 1020, lose 0.
	if !strings.HasPrefix(got, `[{"target": "x", "tags": {"name": "x"}, "datapoints": [[1020.0, 1020], [1050.0, 1050], [1080.0, 1080],`) ||
		!strings.HasSuffix(got, `[1590.0, 1590]]}]`) {
		t.Errorf("got %s", got)
	}
	if n := strings.Count(got, "], ["); n != 19 {
		t.Errorf("got %d points, want 20: %s", n+1, got)
	}
	one := evalJSON(t, src, Request{From: 1000, Until: 1040, Now: 2000}, 1, "x")
	if one != `[{"target": "x", "tags": {"name": "x"}, "datapoints": [[1025.0, 1010]]}]` {
		t.Errorf("maxDataPoints=1: %s", one)
	}
}

func TestEvalErrors(t *testing.T) {
	src := fixture()
	ev := NewEvaluator(src, Limits{MaxSeries: 3})
	req := Request{From: 1000, Until: 1040, Now: 2000}
	for target, want := range map[string]string{
		"nosuch(a.b.c)":                    "Received request for unknown function: nosuch",
		"scale(a.b.c)":                     `Missing required parameter "factor" for function "scale"`,
		"scale(a.b.c, 'x')":                `Invalid "float" value specified for function "scale" parameter "factor": 'x'`,
		"scale(a.b.c, 1, 2)":               `Too many parameters specified for function "scale"`,
		"scale(a.b.c, factor=1, x=2)":      `Too many parameters specified for function "scale"`,
		"aggregate(a.b.c, 'sum', bogus=1)": "Unexpected key word arguments: bogus",
		"aggregate(a.b.c, 'bogus')":        `Invalid option specified for function "aggregate" parameter "func": 'bogus'`,
		"sumSeries(1)":                     `Invalid "seriesList" value specified for function "sumSeries" parameter "seriesLists": 1`,
		"aliasSub(a.b.c, '(', 'x')":        "invalid regular expression",
		"aliasSub(a.b.c, 'a', '\\2')":      "invalid group reference 2",
		"sumSeries(a.b.c":                  "syntax error",
		"template(a.b.c, x.y)":             "invalid template() syntax",
	} {
		_, err := ev.Eval(context.Background(), req, []string{target})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want InputError containing %q", target, err, want)
		}
	}
	if _, err := ev.Eval(context.Background(), req, []string{"sumSeries(a.b.*, t.tagged*, a.m.x)"}); !errors.Is(err, ErrLimit) {
		t.Errorf("series limit: %v", err)
	}
	ev = NewEvaluator(src, Limits{MaxPoints: 5})
	if _, err := ev.Eval(context.Background(), req, []string{"a.b.*"}); !errors.Is(err, ErrLimit) {
		t.Errorf("points limit: %v", err)
	}
	ev = NewEvaluator(src, Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ev.Eval(ctx, req, []string{"a.b.c"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestKwargs(t *testing.T) {
	got := evalJSON(t, fixture(), Request{From: 1000, Until: 1020, Now: 2000}, 0, "scale(factor=2, seriesList=a.b.c)", "aggregate(a.b.*, func='max', xFilesFactor=1)")
	want := `[{"target": "scale(a.b.c,2)", "tags": {"name": "a.b.c", "scale": "2.0"}, "datapoints": [[20.0, 1010], [40.0, 1020]]}, {"target": "maxSeries(a.b.*)", "tags": {"name": "maxSeries(a.b.*)", "aggregatedBy": "max"}, "datapoints": [[10.0, 1010], [null, 1020]]}]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCSVRaw(t *testing.T) {
	ev := NewEvaluator(fixture(), Limits{})
	list, err := ev.Eval(context.Background(), Request{From: 1000, Until: 1030, Now: 2000}, []string{"a.b.d", `alias(a.b.c,'q"x,y')`})
	if err != nil {
		t.Fatal(err)
	}
	raw := string(AppendRaw(nil, list))
	if raw != "a.b.d,1010,1040,10|1.0,None,1.0\nq\"x,y,1010,1040,10|10.0,20.0,30.0\n" {
		t.Errorf("raw %q", raw)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked into the test binary
	}
	csv := string(AppendCSV(nil, list, berlin))
	want := "a.b.d,1970-01-01 01:16:50,1.0\r\na.b.d,1970-01-01 01:17:00,\r\na.b.d,1970-01-01 01:17:10,1.0\r\n" +
		"\"q\"\"x,y\",1970-01-01 01:16:50,10.0\r\n\"q\"\"x,y\",1970-01-01 01:17:00,20.0\r\n\"q\"\"x,y\",1970-01-01 01:17:10,30.0\r\n"
	if csv != want {
		t.Errorf("csv %q\nwant %q", csv, want)
	}
}

func TestJSONString(t *testing.T) {
	got := string(AppendJSONString(nil, "a\"b\\c\n\x01\x7fé😀/<>"))
	if want := `"a\"b\\c\n\u0001\u007f\u00e9\ud83d\ude00/<>"`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestParseTags(t *testing.T) {
	for name, want := range map[string]Tags{
		"a.b":              {{"name", "a.b"}},
		"~a.b":             {{"name", "a.b"}},
		"a.b;x=1;c=2":      {{"x", "1"}, {"c", "2"}, {"name", "a.b"}},
		"a.b;x=1;x=2":      {{"x", "2"}, {"name", "a.b"}},
		"a.b;bad":          {{"name", "a.b;bad"}},
		"a.b;x=~1":         {{"name", "a.b;x=~1"}},
		"sumSeries(a;x=1)": {{"name", "sumSeries(a;x=1)"}},
	} {
		got := ParseTags(name)
		if len(got) != len(want) {
			t.Errorf("%s: %v want %v", name, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v want %v", name, got, want)
			}
		}
	}
}

func TestRandomWalk(t *testing.T) {
	ev := NewEvaluator(newMemSource(), Limits{})
	list, err := ev.Eval(context.Background(), Request{From: 1000, Until: 1600, Now: 2000}, []string{"randomWalk('rw', 60)"})
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	s := list[0]
	if s.Name != "rw" || s.Start != 1000 || s.End != 1600 || s.Step != 60 || len(s.Values) != 10 || s.Values[0] != 0 {
		t.Fatalf("%+v", s)
	}
	for i := 1; i < len(s.Values); i++ {
		if d := s.Values[i] - s.Values[i-1]; d < -0.5 || d >= 0.5 {
			t.Errorf("step %d: %v", i, d)
		}
	}
}
