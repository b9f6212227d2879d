package limits

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

// goCarbonExample is go-carbon's documented quota file (doc/quotas.md).
const goCarbonExample = `# This control all the namespaces under root
[*]
metrics       =       3,000,000
logical-size  = 250,000,000,000
physical-size =  25,000,000,000
# max means practically no limit
data-points   =             max
throughput    =             max
stat-metric-prefix = "level1."

[sys.app.*]
metrics       =         3,000,000
logical-size  = 1,500,000,000,000
physical-size =   250,000,000,000
data-points   =   130,000,000,000
stat-metric-prefix = "level2."

# This controls the root/global limits
[/]
namespaces    =                20
metrics       =        10,000,000
logical-size  = 2,500,000,000,000
physical-size = 2,500,000,000,000
data-points   =   200,000,000,000
dropping-policy = new
`

func TestParseQuotasGoCarbonExample(t *testing.T) {
	rules, warns, err := ParseQuotas(strings.NewReader(goCarbonExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Fatalf("rules = %d; want 3", len(rules))
	}
	r := rules[0]
	if r.Pattern != "*" || r.Line != 2 || r.Metrics != 3_000_000 || r.LogicalSize != 250_000_000_000 ||
		r.PhysicalSize != 25_000_000_000 || r.DataPoints != math.MaxInt64 || r.Throughput != math.MaxInt64 || r.depth != 1 {
		t.Errorf("[*] = %+v", r)
	}
	if r := rules[1]; r.Pattern != "sys.app.*" || r.depth != 3 || r.DataPoints != 130_000_000_000 {
		t.Errorf("[sys.app.*] = %+v", r)
	}
	if r := rules[2]; r.Pattern != "/" || r.depth != 0 || r.Metrics != 10_000_000 || r.Observe {
		t.Errorf("[/] = %+v", r)
	}
	want := []Warning{{9, "stat-metric-prefix", "level1.", ""}, {16, "stat-metric-prefix", "level2.", ""}, {20, "namespaces", "20", ""}}
	if len(warns) != len(want) {
		t.Fatalf("warnings = %+v", warns)
	}
	for i, w := range warns {
		if w.Line != want[i].Line || w.Key != want[i].Key || w.Value != want[i].Value {
			t.Errorf("warning %d = %+v; want %+v", i, w, want[i])
		}
	}
}

func TestParseQuotasErrorsNameTheLine(t *testing.T) {
	for in, want := range map[string]string{
		"[a]\nmetrics = lots\n":                 `line 2: metrics: "lots" is not`,
		"metrics = 1\n":                         "line 1: key before the first [section]",
		"[a]\nmetrix = 1\n":                     `line 2: unknown key "metrix"`,
		"[a\n":                                  "line 1: section header",
		"[a..b]\n":                              "line 1: section [a..b]",
		"[a]\n[a]\n":                            "line 2: section [a] appears twice",
		"[a]\ndropping-policy = all\n":          `line 2: dropping-policy "all"`,
		"[a.{b,c]\n":                            "line 1: section [a.{b,c]",
		"[a.[b]\n":                              "line 1: section [a.[b]",
		"[a]\nthroughput = -5\n":                `line 2: throughput: "-5"`,
		"[x]\njust words\n":                     `line 2: "just words" is neither`,
		"[*]\nmetrics = 1\n[/]\nbad\n":          "line 4:",
		"[a]\nmetrics = 99999999999999999999\n": "line 2: metrics",
	} {
		_, _, err := ParseQuotas(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseQuotas(%q) = %v; want error containing %q", in, err, want)
		}
	}
}

func TestNamespaceOf(t *testing.T) {
	for _, c := range []struct {
		pat, name, ns string
		ok            bool
	}{
		{"/", "a.b", "/", true},
		{"*", "sys.cpu.user", "sys", true},
		{"*", "leaf", "", false},
		{"sys.app.*", "sys.app.web.requests", "sys.app.web", true},
		{"sys.app.*", "sys.app.web", "", false},
		{"sys.app.*", "sys.db.web.x", "", false},
		{"{a,b}*.x", "bcd.x.y", "bcd.x", true},
		{"{a,b}*.x", "cd.x.y", "", false},
		{"s?s", "sys.y", "sys", true},
	} {
		r, err := compileRule(c.pat)
		if err != nil {
			t.Fatal(err)
		}
		ns, ok := r.namespaceOf(c.name)
		if ns != c.ns || ok != c.ok {
			t.Errorf("[%s] namespaceOf(%q) = %q, %v; want %q, %v", c.pat, c.name, ns, ok, c.ns, c.ok)
		}
	}
}

func mustRules(t testing.TB, s string) []Rule {
	t.Helper()
	r, _, err := ParseQuotas(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMaxSeriesCountsExistingAndRejects(t *testing.T) {
	var log bytes.Buffer
	l := New(Config{MaxSeries: 3, Walk: walkOf("old.a", "old.b"),
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if v, _ := l.AdmitNew("new.a", false); v != Admit {
		t.Fatalf("first new series: %v", v)
	}
	for _, n := range []string{"new.b", "new.c"} {
		if v, why := l.AdmitNew(n, false); v != Reject || why != MaxSeries {
			t.Fatalf("%s: %v %v; want reject max_series", n, v, why)
		}
	}
	if l.Series() != 3 || l.Rejected(MaxSeries) != 2 || l.RefusedCreates() != 2 {
		t.Errorf("series %d rejected %d; want 3, 2", l.Series(), l.Rejected(MaxSeries))
	}
	got := l.Rejections()
	if len(got) != 1 || got[0] != (Rejection{MaxSeries, "/", 2}) {
		t.Errorf("rejections = %+v", got)
	}
	// Logged once within LogEvery.
	if n := strings.Count(log.String(), "series limit: rejected"); n != 1 || !strings.Contains(log.String(), "name=new.b") {
		t.Errorf("log = %q; want one line naming new.b", log.String())
	}
}

func walkOf(names ...string) func(func(string) bool) {
	return func(fn func(string) bool) {
		for _, n := range names {
			if !fn(n) {
				return
			}
		}
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestCreateRateDefersThenRefills(t *testing.T) {
	clk := &fakeClock{time.Unix(1000, 0)}
	l := New(Config{MaxCreates: 2, CreateWindow: 10 * time.Second, Now: clk.now})
	for _, n := range []string{"a.1", "a.2"} {
		if v, _ := l.AdmitNew(n, false); v != Admit {
			t.Fatalf("%s: %v", n, v)
		}
	}
	if v, why := l.AdmitNew("a.3", false); v != Defer || why != CreateRate {
		t.Fatalf("a.3: %v %v; want defer", v, why)
	}
	if v, _ := l.AdmitNew("a.3", true); v != Admit {
		t.Fatalf("a.3 ignoring the rate: %v", v)
	}
	clk.t = clk.t.Add(5 * time.Second) // one token back (2 per 10 s)
	if v, _ := l.AdmitNew("a.4", false); v != Admit {
		t.Fatalf("a.4 after 5 s: %v", v)
	}
	if v, _ := l.AdmitNew("a.5", false); v != Defer {
		t.Fatalf("a.5: %v; want defer", v)
	}
	clk.t = clk.t.Add(time.Hour) // the bucket holds at most 2
	for i, want := range []Verdict{Admit, Admit, Defer} {
		if v, _ := l.AdmitNew("b."+string(rune('0'+i)), false); v != want {
			t.Fatalf("after an hour, create %d: %v; want %v", i, v, want)
		}
	}
}

func TestQuotaRejectsNewSeriesOfNamespaceOnly(t *testing.T) {
	rules := mustRules(t, "[*]\nmetrics = 2\n[big]\nmetrics = 3\n[/]\nmetrics = 100\n")
	l := New(Config{Rules: rules, Walk: walkOf("app.x", "app.y", "big.x")})
	if v, why := l.AdmitNew("app.z", false); v != Reject || why != QuotaMetrics {
		t.Fatalf("app.z: %v %v; want reject quota_metrics", v, why)
	}
	// [big] overrides [*] at depth 1: 3 series.
	for _, n := range []string{"big.y", "big.z"} {
		if v, _ := l.AdmitNew(n, false); v != Admit {
			t.Fatalf("%s: %v", n, v)
		}
	}
	if v, _ := l.AdmitNew("big.w", false); v != Reject {
		t.Fatalf("big.w admitted past [big] metrics = 3")
	}
	if v, _ := l.AdmitNew("other.a", false); v != Admit {
		t.Fatalf("other.a: %v", v)
	}
	got := l.Rejections()
	want := []Rejection{{QuotaMetrics, "app", 1}, {QuotaMetrics, "big", 1}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("rejections = %+v; want %+v", got, want)
	}
	us := l.Usages()
	var root Usage
	for _, u := range us {
		if u.Pattern == "/" {
			root = u
		}
	}
	if root.Series != 6 {
		t.Errorf("root usage = %+v; want 6 series", root)
	}
	// Reload with a bigger quota: usage is recounted from Walk.
	l.cfg.Walk = walkOf("app.x", "app.y")
	l.SetRules(mustRules(t, "[app]\nmetrics = 3\n"))
	if v, _ := l.AdmitNew("app.z", false); v != Admit {
		t.Fatalf("app.z after reload: %v", v)
	}
	if v, _ := l.AdmitNew("app.w", false); v != Reject {
		t.Fatalf("app.w after reload: admitted past 3")
	}
}

func TestSizeQuotas(t *testing.T) {
	rules := mustRules(t, "[a]\nlogical-size = 100\n[b]\ndata-points = 10\n[c]\nphysical-size = 50\ndropping-policy = none\n")
	l := New(Config{Rules: rules, SizeOf: func(string) Size { return Size{DataPoints: 4, Logical: 40, Physical: 30} }})
	for _, c := range []struct {
		name string
		v    Verdict
		why  Reason
	}{
		{"a.1", Admit, None}, {"a.2", Admit, None}, {"a.3", Reject, QuotaLogicalSize},
		{"b.1", Admit, None}, {"b.2", Admit, None}, {"b.3", Reject, QuotaDataPoints},
		{"c.1", Admit, None}, {"c.2", Admit, None}, // observed over quota, not dropped
	} {
		if v, why := l.AdmitNew(c.name, false); v != c.v || why != c.why {
			t.Errorf("%s: %v %v; want %v %v", c.name, v, why, c.v, c.why)
		}
	}
}

func TestThroughputPerWindow(t *testing.T) {
	l := New(Config{Rules: mustRules(t, "[t]\nthroughput = 3\n[o]\nthroughput = 1\ndropping-policy = none\n"), ThroughputWindow: time.Second})
	b := l.Bind("t.x")
	if len(b) != 1 || l.Bind("u.x") != nil {
		t.Fatalf("bindings: %v %v", b, l.Bind("u.x"))
	}
	w := l.Window(time.Unix(100, 0))
	var took int
	for i := 0; i < 5; i++ {
		if b.Take(w) {
			took++
		}
	}
	if took != 3 || b.Namespace() != "t" {
		t.Fatalf("took %d in one window; want 3 (namespace %q)", took, b.Namespace())
	}
	if !b.Take(w + 1) {
		t.Fatal("next window refused")
	}
	o := l.Bind("o.x")
	for i := 0; i < 2; i++ {
		if !o.Take(w) {
			t.Fatalf("dropping-policy none refused point %d", i+1)
		}
	}
}

func TestTaggedNamesUseTheirMetricPart(t *testing.T) {
	l := New(Config{Rules: mustRules(t, "[app]\nmetrics = 1\n")})
	if v, _ := l.AdmitNew("app.cpu;host=a.b", false); v != Admit {
		t.Fatal("first tagged series refused")
	}
	if v, why := l.AdmitNew("app.mem;host=a.b", false); v != Reject || why != QuotaMetrics {
		t.Fatalf("second: %v %v", v, why)
	}
}

func TestBindingTakeDoesNotAllocate(t *testing.T) {
	l := New(Config{Rules: mustRules(t, "[t]\nthroughput = max\n")})
	b := l.Bind("t.x")
	if n := testing.AllocsPerRun(1000, func() { b.Take(7) }); n != 0 {
		t.Errorf("Take allocates %v per point", n)
	}
}

func BenchmarkBindingTake(b *testing.B) {
	l := New(Config{Rules: mustRules(b, "[*]\nthroughput = max\n[/]\nthroughput = max\n")})
	bd := l.Bind("t.x.y")
	w := l.Window(time.Now())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bd.Take(w)
	}
}

func BenchmarkAdmitNewRejected(b *testing.B) {
	l := New(Config{MaxSeries: 1, Rules: mustRules(b, "[*]\nmetrics = 10\n"), Logger: slog.New(slog.NewTextHandler(devNull{}, nil))})
	l.AdmitNew("a.b", false)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.AdmitNew("a.c", false)
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

func TestCountingAdmitsUntilTheStoredSeriesAreKnown(t *testing.T) {
	l := New(Config{MaxSeries: 1, MaxCreates: 1, Rules: mustRules(t, "[a]\nmetrics = 1\n"), Logger: slog.New(slog.NewTextHandler(devNull{}, nil))})
	l.SetCounting(true)
	for _, n := range []string{"a.1", "a.2", "b.1"} {
		if v, why := l.AdmitNew(n, false); v != Admit {
			t.Fatalf("%s while counting: %v %v", n, v, why)
		}
	}
	if l.Series() != 3 {
		t.Fatalf("series = %d; want 3 counted", l.Series())
	}
	l.SetCounting(false)
	if v, why := l.AdmitNew("c.1", false); v != Reject || why != MaxSeries {
		t.Fatalf("after counting: %v %v; want the cap", v, why)
	}
}

// TestForgetAndCountMoveUsage: a deleted series gives its place back under
// the cap and its namespace's quota; a renamed one (Forget the old name,
// Count the new) moves its usage to the new namespace, never refused.
func TestForgetAndCountMoveUsage(t *testing.T) {
	l := New(Config{MaxSeries: 3, Rules: mustRules(t, "[app]\nmetrics = 1\n[db]\nmetrics = 1\n"), Walk: walkOf("app.a", "db.a", "other.x"),
		Logger: slog.New(slog.NewTextHandler(devNull{}, nil))})
	if v, why := l.AdmitNew("other.y", false); v != Reject || why != MaxSeries {
		t.Fatalf("other.y: %v %v; want reject max_series", v, why)
	}
	l.Forget("app.a")
	if got := l.Series(); got != 2 {
		t.Fatalf("series after Forget = %d; want 2", got)
	}
	if v, why := l.AdmitNew("app.b", false); v != Admit {
		t.Fatalf("app.b after app.a was forgotten: %v %v", v, why)
	}
	// Rename db.a → app.c: counted even though app is at its quota.
	l.Forget("db.a")
	l.Count("app.c")
	if got := l.Series(); got != 3 {
		t.Fatalf("series after the rename = %d; want 3", got)
	}
	usage := map[string]int64{}
	for _, u := range l.Usages() {
		usage[u.Namespace] = u.Series
	}
	if usage["app"] != 2 || usage["db"] != 0 {
		t.Errorf("usage after the rename = %v; want app 2, db 0", usage)
	}
	if v, why := l.AdmitNew("db.b", false); v != Reject || why != MaxSeries {
		t.Errorf("db.b with the cap full: %v %v; want reject max_series", v, why)
	}
	// Forgetting more than was counted never goes below zero.
	for range 5 {
		l.Forget("db.a")
	}
	if got := l.Series(); got != 0 {
		t.Errorf("series after five more Forgets = %d; want 0", got)
	}
}
