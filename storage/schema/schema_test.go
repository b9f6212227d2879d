package schema

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRetentions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Retention
	}{
		{"10s:6h,1m:7d,10m:5y", []Retention{{10, 2160}, {60, 10080}, {600, 262800}}},
		{"60:1440", []Retention{{60, 1440}}},
		{"300:86400", []Retention{{300, 86400}}},
		{" 1m:1d , 5m:7d ", []Retention{{60, 1440}, {300, 2016}}},
		{"1m : 1d", []Retention{{60, 1440}}},
		{"1min:1hour,1hours:1weeks", []Retention{{60, 60}, {3600, 168}}},
		{"1seconds:1minutes", []Retention{{1, 60}}},
		{"1w:1y", []Retention{{604800, 52}}}, // 365 d / 7 d, integer division
		{"7s:1m", []Retention{{7, 8}}},
		{"60s:1d,5m:30d,1h:3y", []Retention{{60, 1440}, {300, 8640}, {3600, 26280}}},
		{"1h:5y,10s:6h", []Retention{{3600, 43800}, {10, 2160}}}, // order kept
	} {
		got, err := ParseRetentions(tc.in)
		if err != nil {
			t.Errorf("ParseRetentions(%q): %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseRetentions(%q) = %v, want %v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseRetentions(%q) = %v, want %v", tc.in, got, tc.want)
				break
			}
		}
	}
	rs, _ := ParseRetentions("10s:6h,1m:7d,10m:5y")
	var pts int64
	for _, r := range rs {
		pts += r.Points
	}
	if pts != 2160+10080+262800 || FileSize(rs) != 3300532 {
		t.Errorf("points %d size %d, want 275040 and 3300532", pts, FileSize(rs))
	}
	if rs[2].MaxRetention() != 5*365*86400 {
		t.Errorf("MaxRetention = %d", rs[2].MaxRetention())
	}
}

func TestParseRetentionsErrors(t *testing.T) {
	for _, in := range []string{
		"", " ", "10s", "10s:", ":10", "10x:1d", "10S:1d", "1M:1d", "1m:1mo", "0:10", "0s:1d",
		"10:0", "60s:1s", "1m:1d,", "-1:10", "1.5m:1d", "1m:1d:1", "99999999999:1",
		"1:4294967296", "2:2147483648", "10s 6h", "1m:1d;5m:7d",
	} {
		if rs, err := ParseRetentions(in); err == nil {
			t.Errorf("ParseRetentions(%q) = %v, want an error", in, rs)
		}
	}
}

func TestValidateRetentions(t *testing.T) {
	ok := [][]Retention{
		{{60, 1440}},
		{{10, 2160}, {60, 10080}, {600, 262800}},
		{{600, 262800}, {10, 2160}, {60, 10080}}, // unsorted is fine, whisper sorts
		{{1, 60}, {60, 1}},                       // barely enough points to consolidate is not required... see below
	}
	// {1,60},{60,1}: 60 s vs 60 s span fails the "longer span" rule.
	ok = ok[:3]
	for _, rs := range ok {
		if err := ValidateRetentions(rs); err != nil {
			t.Errorf("ValidateRetentions(%v): %v", rs, err)
		}
	}
	for _, tc := range []struct {
		rs   []Retention
		want string
	}{
		{nil, "at least one archive"},
		{[]Retention{{60, 10}, {60, 20}}, "same precision"},
		{[]Retention{{60, 100}, {90, 100}}, "evenly divide"},
		{[]Retention{{60, 100}, {120, 50}}, "longer spans"},
		{[]Retention{{1, 5}, {10, 100}}, "archive1 consolidates 10 of archive0's points but it has only 5"},
		{[]Retention{{0, 5}}, "positive"},
		{[]Retention{{60, 0}}, "positive"},
		{[]Retention{{1, 1 << 31}, {2, 1 << 31}}, "32-bit"},
		{[]Retention{{1, 1 << 28}, {2, 1 << 28}}, "4 GiB"},
	} {
		err := ValidateRetentions(tc.rs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateRetentions(%v) = %v, want error containing %q", tc.rs, err, tc.want)
		}
	}
}

func TestMethod(t *testing.T) {
	for in, want := range map[string]Method{
		"average": Average, "avg": Average, "sum": Sum, "last": Last, "max": Max, "min": Min,
		"avg_zero": AvgZero, "absmax": AbsMax, "absmin": AbsMin, " Max ": Max,
	} {
		got, err := ParseMethod(in)
		if err != nil || got != want {
			t.Errorf("ParseMethod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "first", "median", "avgzero", "percentile"} {
		if m, err := ParseMethod(in); err == nil {
			t.Errorf("ParseMethod(%q) = %v, want an error", in, m)
		}
	}
	if uint32(AvgZero) != 6 || uint32(AbsMax) != 7 || uint32(AbsMin) != 8 || uint32(Min) != 5 {
		t.Fatal("method ids differ from Python whisper")
	}
	if AvgZero.String() != "avg_zero" || Method(9).String() != "Method(9)" {
		t.Errorf("String: %q %q", AvgZero.String(), Method(9).String())
	}
	nan := math.NaN()
	for _, tc := range []struct {
		m     Method
		known []float64
		total int
		want  float64
	}{
		{Average, []float64{1, 2, 4}, 6, 7.0 / 3},
		{Sum, []float64{1, 2, 4}, 6, 7},
		{Last, []float64{1, 2, 4}, 6, 4},
		{Max, []float64{1, -7, 4}, 6, 4},
		{Min, []float64{1, -7, 4}, 6, -7},
		{AvgZero, []float64{1, 2, 4}, 6, 7.0 / 6},
		{AvgZero, []float64{1, 2, 4}, 3, 7.0 / 3},
		{AbsMax, []float64{1, -7, 4}, 6, -7},
		{AbsMax, []float64{-4, 4}, 2, -4}, // first on ties, like Python's max(key=abs)
		{AbsMin, []float64{3, -1, 1}, 3, -1},
		{Min, []float64{1, 3, -2}, 3, -2},
		{Max, []float64{1, nan, 3}, 3, 3}, // Python: max([1, nan, 3]) == 3
		{Max, []float64{5}, 10, 5},
	} {
		got := tc.m.Aggregate(tc.known, tc.total)
		if got != tc.want {
			t.Errorf("%v.Aggregate(%v, %d) = %v, want %v", tc.m, tc.known, tc.total, got, tc.want)
		}
	}
	for m := Average; m <= AbsMin; m++ {
		if v := m.Aggregate(nil, 5); !math.IsNaN(v) {
			t.Errorf("%v.Aggregate(empty) = %v, want NaN", m, v)
		}
	}
	if v := Max.Aggregate([]float64{nan, 1}, 2); !math.IsNaN(v) {
		t.Errorf("Max([nan, 1]) = %v, want NaN as Python", v)
	}
}

const carbonExample = `# Schema definitions for Whisper files. Entries are scanned in order,
# and first match wins.
[carbon]
pattern = ^carbon\.
retentions = 60:90d

[stats]
Pattern = ^stats\..*
RETENTIONS = 10s:6h, 1m:7d,
  10m:5y

[default_1min_for_1day]
pattern = .*
retentions = 60s:1d
`

func TestParseSchemas(t *testing.T) {
	ss, err := ParseSchemas(strings.NewReader(carbonExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 {
		t.Fatalf("got %d schemas", len(ss))
	}
	want := []struct {
		name, pat string
		rs        []Retention
	}{
		{"carbon", `^carbon\.`, []Retention{{60, 129600}}},
		{"stats", `^stats\..*`, []Retention{{10, 2160}, {60, 10080}, {600, 262800}}},
		{"default_1min_for_1day", `.*`, []Retention{{60, 1440}}},
	}
	for i, w := range want {
		s := ss[i]
		if s.Name != w.name || s.Pattern.String() != w.pat || len(s.Retentions) != len(w.rs) {
			t.Fatalf("schema %d = %+v, want %+v", i, s, w)
		}
		for j := range w.rs {
			if s.Retentions[j] != w.rs[j] {
				t.Errorf("schema %s retentions %v, want %v", s.Name, s.Retentions, w.rs)
			}
		}
	}
	r := &Rules{Schemas: ss}
	for name, want := range map[string]string{
		"carbon.agents.a.cpu": "carbon", "stats.timers.x.mean": "stats", "xstats.foo": "default_1min_for_1day",
	} {
		s, a, err := r.Match(name)
		if err != nil || s.Name != want || a.Method != Average || a.XFilesFactor != 0.5 || a.Name != "default" {
			t.Errorf("Match(%q) = %s %+v %v, want %s average 0.5", name, s.Name, a, err, want)
		}
	}
	r2 := &Rules{Schemas: ss[:2]}
	if _, _, err := r2.Match("foo.bar"); err == nil || !strings.Contains(err.Error(), "no storage schema matched") {
		t.Errorf("Match without catch-all: %v", err)
	}
	// unsorted retentions are stored finest first
	ss, err = ParseSchemas(strings.NewReader("[a]\npattern=x\nretentions=1h:5y,10s:6h\n"))
	if err != nil || ss[0].Retentions[0] != (Retention{10, 2160}) || ss[0].Retentions[1] != (Retention{3600, 43800}) {
		t.Errorf("sorted retentions: %v %v", ss, err)
	}
}

func TestParseSchemasErrors(t *testing.T) {
	for in, want := range map[string]string{
		"[a]\nretentions = 60:10\n":                                           "missing pattern",
		"[a]\npattern = x\n":                                                  "missing retentions",
		"[a]\npattern = x\nretentions = 60:10,90:100\n":                       "evenly divide",
		"[a]\npattern = x\nretentions = 60:1q\n":                              "invalid unit",
		"[a]\npattern = (?<=a)b\nretentions = 60:10\n":                        "lookahead/lookbehind",
		"[a]\npattern = (a)\\1\nretentions = 60:10\n":                         "backreference",
		"[a]\npattern = (\nretentions = 60:10\n":                              "missing closing )",
		"pattern = x\n":                                                       "outside a section",
		"[a]\npattern = x\nretentions = 1:1\n[a]\n":                           "duplicate section",
		"[a]\npattern = x\npattern = y\n":                                     "duplicate option",
		"[a\npattern = x\n":                                                   "malformed section",
		"[a]\njunk\n":                                                         "want key = value",
		"[a]\npattern = 100%\nretentions = 60:10\n":                           "interpolation",
		"[a]\npattern = x\nretentions = " + strings.Repeat("1:1,", 70) + "\n": "more than 64",
	} {
		_, err := ParseSchemas(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSchemas(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestParseAggregations(t *testing.T) {
	in := `[min]
pattern = \.min$
xFilesFactor = 0.1
aggregationMethod = min

[onlyxff]
pattern = \.foo$
xFilesFactor = 0

[onlymethod]
pattern = \.bar\Z
aggregationMethod = absmax

[pct]
pattern = 100%%
aggregationMethod = last

[default_average]
pattern = .*
xFilesFactor = 0.5
aggregationMethod = average
`
	as, err := ParseAggregations(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Aggregation{
		{Name: "min", Method: Min, XFilesFactor: float64(float32(0.1))},
		{Name: "onlyxff", Method: Average, XFilesFactor: 0},
		{Name: "onlymethod", Method: AbsMax, XFilesFactor: 0.5},
		{Name: "pct", Method: Last, XFilesFactor: 0.5},
		{Name: "default_average", Method: Average, XFilesFactor: 0.5},
	}
	if len(as) != len(want) {
		t.Fatalf("got %d sections", len(as))
	}
	for i, w := range want {
		if as[i].Name != w.Name || as[i].Method != w.Method || as[i].XFilesFactor != w.XFilesFactor {
			t.Errorf("section %d = %+v, want %+v", i, as[i], w)
		}
	}
	if as[2].Pattern.String() != `\.bar\z` || as[3].Pattern.String() != `100%` {
		t.Errorf("patterns %q %q", as[2].Pattern, as[3].Pattern)
	}
	r := &Rules{Schemas: Default().Schemas, Aggregations: as}
	for name, w := range map[string]string{"a.min": "min", "a.foo": "onlyxff", "a.bar": "onlymethod", "a.bar\n": "default_average", "x100%y": "pct", "a.mins": "default_average"} {
		if _, a, err := r.Match(name); err != nil || a.Name != w {
			t.Errorf("Match(%q) = %q %v, want %q", name, a.Name, err, w)
		}
	}
	for in, want := range map[string]string{
		"[a]\npattern = x\nxFilesFactor = 1.5\n":        "from 0 to 1",
		"[a]\npattern = x\nxFilesFactor = nan\n":        "from 0 to 1",
		"[a]\npattern = x\nxFilesFactor = abc\n":        "from 0 to 1",
		"[a]\npattern = x\naggregationMethod = first\n": "unknown method",
		"[a]\nxFilesFactor = 0\n":                       "missing pattern",
	} {
		_, err := ParseAggregations(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAggregations(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestCompilePattern(t *testing.T) {
	for in, want := range map[string]string{
		`^a\.b$`:        `^a\.b$`,
		`a\Z`:           `a\z`,
		`a(?#comment)b`: `ab`,
		`a{,3}`:         `a{0,3}`,
		`(?P<x>a)`:      `(?P<x>a)`,
		`[]a]`:          `[\]a]`,
		`[^]a]`:         `[^\]a]`,
		`(?i)abc`:       `(?i)abc`,
		`\d+\.count$`:   `\d+\.count$`,
	} {
		got, err := translatePattern(in)
		if err != nil || got != want {
			t.Errorf("translatePattern(%q) = %q, %v; want %q", in, got, err, want)
		}
		if _, err := CompilePattern(in); err != nil {
			t.Errorf("CompilePattern(%q): %v", in, err)
		}
	}
	for _, in := range []string{`a(?=b)`, `a(?!b)`, `(?<=a)b`, `(?<!a)b`, `(a)\1`, `(?P<n>a)(?P=n)`, `(?(1)a|b)`, `(?>a)`, `a\`, `(?#x`, `[\Z]`} {
		if _, err := CompilePattern(in); err == nil {
			t.Errorf("CompilePattern(%q): want an error", in)
		}
	}
}

func TestDefault(t *testing.T) {
	r := Default()
	for _, tc := range []struct {
		name, schema string
		m            Method
		xff          float64
	}{
		{"carbon.agents.x.cpuUsage", "carbon", Average, 0.5},
		{"stats.timers.api.latency.mean_90", "default", Average, 0.5},
		{"stats.timers.api.latency.upper_90", "default", Max, float64(float32(0.1))},
		{"stats.timers.api.latency.upper", "default", Max, float64(float32(0.1))},
		{"stats.timers.api.latency.lower", "default", Min, float64(float32(0.1))},
		{"stats.timers.api.latency.count", "default", Sum, 0},
		{"stats.timers.api.latency.sum_90", "default", Sum, 0},
		{"stats_counts.requests", "default", Sum, 0},
		{"stats_counts.requests.max", "default", Sum, 0},
		{"stats.gauges.queue", "default", Average, 0.5},
		{"stats.requests", "default", Average, 0.5},
	} {
		s, a, err := r.Match(tc.name)
		if err != nil || s.Name != tc.schema || a.Method != tc.m || a.XFilesFactor != tc.xff {
			t.Errorf("Match(%q) = %s %v %v %v, want %s %v %v", tc.name, s.Name, a.Method, a.XFilesFactor, err, tc.schema, tc.m, tc.xff)
		}
	}
	s, _, _ := r.Match("foo")
	if s.Retentions[0] != (Retention{10, 2160}) || FileSize(s.Retentions) != 672532 {
		t.Errorf("default schema %v size %d", s.Retentions, FileSize(s.Retentions))
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	sp := filepath.Join(dir, "storage-schemas.conf")
	if err := os.WriteFile(sp, []byte(carbonExample), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(sp, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Schemas) != 3 || len(r.Aggregations) != len(Default().Aggregations) {
		t.Errorf("Load: %d schemas %d aggregations", len(r.Schemas), len(r.Aggregations))
	}
	if _, err := Load(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("Load of a missing file: want an error")
	}
	ap := filepath.Join(dir, "storage-aggregation.conf")
	if err := os.WriteFile(ap, []byte("[x]\npattern = x\naggregationMethod = median\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("", ap); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("Load of a bad aggregation file: %v", err)
	}
}

// TestArchiveFor is whisper's file_fetch choice: the finest archive whose
// retention covers the age, else the coarsest.
func TestArchiveFor(t *testing.T) {
	rs := []Retention{{SecondsPerPoint: 1, Points: 900}, {SecondsPerPoint: 60, Points: 1440}}
	for _, c := range []struct{ age, step int64 }{{0, 1}, {900, 1}, {901, 60}, {86400, 60}, {1 << 40, 60}} {
		if got := StepFor(rs, c.age); got != c.step {
			t.Errorf("StepFor(age %d) = %d; want %d", c.age, got, c.step)
		}
	}
	if got := StepFor(nil, 5); got != 0 {
		t.Errorf("StepFor(nil) = %d; want 0", got)
	}
}

// TestReplace swaps the rules under concurrent Match calls (run with
// -race): a name matches the new files' schema afterwards.
func TestReplace(t *testing.T) {
	r := Default()
	n, err := ParseSchemas(strings.NewReader("[fine]\npattern = ^fine\\.\nretentions = 1s:1h\n[rest]\npattern = .*\nretentions = 1m:1d\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAggregations(strings.NewReader("[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = max\n"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			if _, _, err := r.Match("fine.x"); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	r.Replace(&Rules{Schemas: n, Aggregations: a})
	<-done
	s, g, err := r.Match("fine.x")
	if err != nil || s.Name != "fine" || s.Retentions[0] != (Retention{SecondsPerPoint: 1, Points: 3600}) || g.Name != "all" || g.Method != Max {
		t.Fatalf("after Replace: %+v %+v %v", s, g, err)
	}
}

// TestPatternMatchesCatchAll: the catch-all patterns answered without the
// regexp give what the regexp gives, on names with and without newlines,
// and other patterns still run it.
func TestPatternMatchesCatchAll(t *testing.T) {
	names := []string{"", "a", "carbon.agents.x", "a\nb", "\n", "x.y\n"}
	for _, pat := range []string{"", "^", ".*", "^.*", ".*$", "^.*$", "^carbon\\.", "x$"} {
		re, err := CompilePattern(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if got, want := patternMatches(re, name), re.MatchString(name); got != want {
				t.Errorf("patternMatches(%q, %q) = %v, regexp says %v", pat, name, got, want)
			}
		}
	}
	re, _ := CompilePattern("^carbon\\.")
	if patternMatches(re, "other.name") {
		t.Error(`"^carbon\." matched "other.name"`)
	}
}
