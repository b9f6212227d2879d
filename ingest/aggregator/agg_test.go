package aggregator

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func mustRules(t testing.TB, s string) *Rules {
	t.Helper()
	r, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRules(t *testing.T) {
	r := mustRules(t, `
# comment
  agg.<a>.x (60) = sum   <a>.*.b
out.<<p>>.y (10)=p999 in.<<p>>.z
`)
	if len(r.Rules) != 2 {
		t.Fatalf("%d rules", len(r.Rules))
	}
	a, b := r.Rules[0], r.Rules[1]
	if a.Output != "agg.<a>.x" || a.Frequency != 60 || a.Method != Sum || a.Input != "<a>.*.b" || a.Line != 3 {
		t.Errorf("rule 0: %+v", a)
	}
	if a.Regexp().String() != `^(?:(?P<a>[^.]+?)\.[^.]+\.b$)` {
		t.Errorf("regexp 0: %s", a.Regexp())
	}
	if b.Method != P999 || b.Regexp().String() != `^(?:in\.(?P<p>.+?)\.z$)` || b.Line != 4 {
		t.Errorf("rule 1: %+v %s", b, b.Regexp())
	}
	bad := []string{
		"x (60) sum a.b",         // no =
		"x 60 y = sum a.b",       // three fields left
		"x (60) = sum a.b c",     // three fields right
		"x (0) = sum a.b",        // frequency
		"x (abc) = sum a.b",      // frequency
		"x (60) = median a.b",    // method
		"x.<f> (60) = sum a.b",   // field not captured
		"x.<f (60) = sum a.<f>",  // unclosed
		"x (60) = sum a.(b",      // bad regex
		"x (60) = sum a.>>x<<.c", // >> before <<
	}
	for _, l := range bad {
		if _, err := ParseRule(l); err == nil {
			t.Errorf("ParseRule(%q) accepted", l)
		}
	}
	if _, err := Parse(strings.NewReader("ok (1) = sum a\nbad\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Parse error = %v, want line 2", err)
	}
}

func TestOutputNames(t *testing.T) {
	cases := []struct{ rule, in, want string }{
		{"agg.<a>.x (1) = sum <a>.*.b", "prod.web.b", "agg.prod.x"},
		{"agg.<a>.x (1) = sum <a>.*.b", "prod..b", ""}, // * needs one char
		{"agg.<a>.x (1) = sum <a>.*.b", "pr.od.web.b", ""},
		{"agg.<a>.x (1) = sum <a>.*.b", "prod.web.bb", ""},
		{"agg.<a>.x (1) = sum <a>.*.b", "xprod.web.b.c", ""},
		{"o.<p> (1) = sum in.<<p>>.z", "in.a.b.c.z", "o.a.b.c"},
		{"o.<<p>> (1) = sum in.<<p>>.z", "in.a.b.z", "o.a.b"},
		// In a node with a field carbon keeps * as a regex quantifier.
		{"o.<h> (1) = sum srv-<h>-*.cpu", "srv-eu-12.cpu", "o.eu-12"},
		{"o.<h> (1) = sum srv-<h>-*.cpu", "srv-eu.cpu", "o.eu"},
		{"o (1) = sum a*c.d", "ac.d", "o"},
		{"o (1) = sum a*c.d", "abbc.d", "o"},
		{"o (1) = sum web(01|02).x", "web02.x", "o"},
		{"o (1) = sum a|b", "zb", ""}, // python match anchors each alternative
		{"o (1) = sum a|b", "b", "o"},
		{"<a>-<b> (1) = sum <a>.<b>", "x.y", "x-y"},
	}
	for _, c := range cases {
		r, err := ParseRule(c.rule)
		if err != nil {
			t.Fatalf("%s: %v", c.rule, err)
		}
		out, ok := r.AppendOutput(nil, []byte(c.in))
		if string(out) != c.want || ok != (c.want != "") {
			t.Errorf("%s on %q: got %q %v, want %q", c.rule, c.in, out, ok, c.want)
		}
	}
}

func TestMethodsExact(t *testing.T) {
	vals := []float64{7, 1, 3, 10, 2, 9, 4}
	want := map[Method]float64{
		Sum: 36, Avg: 36.0 / 7, Min: 1, Max: 10, Count: 7,
		// sorted 1 2 3 4 7 9 10; rank = f*(n-1)
		P50: 4, P75: 8, P80: 9 - 0.2*2 + 0.2*0, P90: 9*(1-0.4) + 10*0.4,
		P95: 9*(6-5.7) + 10*(5.7-5), P99: 9*(6-5.94) + 10*(5.94-5), P999: 9*(6-5.994) + 10*(5.994-5),
	}
	// rank = f*(n-1) computed in float64 as Python does.
	// (variables, not constants: Go folds constant expressions exactly)
	f80, f90, f95, f99, f999, n1 := 0.8, 0.9, 0.95, 0.99, 0.999, 6.0
	r80 := f80 * n1
	want[P80] = 7*(5-r80) + 9*(r80-4)
	want[P75] = 7*(5-4.5) + 9*(4.5-4)
	r90, r95, r99, r999 := f90*n1, f95*n1, f99*n1, f999*n1
	want[P90] = 9*(6-r90) + 10*(r90-5)
	want[P95] = 9*(6-r95) + 10*(r95-5)
	want[P99] = 9*(6-r99) + 10*(r99-5)
	want[P999] = 9*(6-r999) + 10*(r999-5)
	for m, w := range want {
		var a acc
		for _, v := range vals {
			a.add(v, m.NeedsValues())
		}
		if got, ok := m.aggregate(&a); !ok || got != w {
			t.Errorf("%s = %v, want %v", m, got, w)
		}
	}
}

func collectEmit(m *Merger, now int64) []string {
	var out []string
	m.Emit(now, func(n string, ts int64, v float64) { out = append(out, fmt.Sprintf("%s@%d=%g", n, ts, v)) })
	sort.Strings(out)
	return out
}

func TestEmitTimingAndLatePoints(t *testing.T) {
	r := mustRules(t, "s (60) = sum a.*\nc (60) = count a.*\n")
	l := NewLoop(r)
	m := NewMerger(r)
	l.Add([]byte("a.x"), 1000, 1) // interval 960
	l.Add([]byte("a.y"), 1019, 2) // interval 960
	l.Add([]byte("a.x"), 1020, 5) // interval 1020
	m.Merge(l.Swap())
	if got := collectEmit(m, 1019); len(got) != 0 {
		t.Errorf("emitted before the boundary: %v", got)
	}
	if got := fmt.Sprint(collectEmit(m, 1020)); got != "[c@960=2 s@960=3]" {
		t.Errorf("at 1020: %v", got)
	}
	if got := collectEmit(m, 1079); len(got) != 0 {
		t.Errorf("re-emitted without new data: %v", got)
	}
	// A late point for 960 re-emits it with all its values.
	l.Add([]byte("a.z"), 961, 10)
	m.Merge(l.Swap())
	if got := fmt.Sprint(collectEmit(m, 1080)); got != "[c@1020=1 c@960=3 s@1020=5 s@960=13]" {
		t.Errorf("at 1080: %v", got)
	}
	// After 5 intervals the 960 buffer is dropped: a very late point
	// starts from scratch.
	if got := collectEmit(m, 1320); len(got) != 0 {
		t.Errorf("at 1320: %v", got)
	}
	if n, _ := m.Buffers(); n != 2 {
		t.Errorf("buffers = %d", n)
	}
	l.Add([]byte("a.z"), 962, 100)
	m.Merge(l.Swap())
	if got := fmt.Sprint(collectEmit(m, 1320)); got != "[c@960=1 s@960=100]" {
		t.Errorf("very late: %v", got)
	}
	if n, p := m.Buffers(); n != 2 || p != 2 {
		t.Errorf("buffers = %d, %d points", n, p)
	}
	m.Emit(1500, func(string, int64, float64) {})
	if n, _ := m.Buffers(); n != 0 {
		t.Errorf("buffers after expiry = %d", n)
	}
	if m.Emitted != 8 {
		t.Errorf("Emitted = %d", m.Emitted)
	}
	// Flush emits incomplete intervals.
	l.Add([]byte("a.q"), 2000, 4)
	m.Merge(l.Swap())
	var got []string
	m.Flush(func(n string, ts int64, v float64) { got = append(got, fmt.Sprintf("%s@%d=%g", n, ts, v)) })
	sort.Strings(got)
	if fmt.Sprint(got) != "[c@1980=1 s@1980=4]" {
		t.Errorf("flush: %v", got)
	}
}

func TestNegativeTimestampsFloorLikePython(t *testing.T) {
	if floorMod(-1, 60) != 59 || floorMod(-60, 60) != 0 || floorMod(61, 60) != 1 {
		t.Fatal("floorMod")
	}
	r := mustRules(t, "s (60) = sum a\n")
	l, m := NewLoop(r), NewMerger(r)
	l.Add([]byte("a"), -1, 3)
	m.Merge(l.Swap())
	if got := fmt.Sprint(collectEmit(m, 0)); got != "[s@-60=3]" {
		t.Errorf("got %v", got)
	}
}

func TestForward(t *testing.T) {
	r := mustRules(t, "a.total (60) = sum a.*\n")
	l := NewLoop(r)
	for _, c := range []struct {
		name       string
		forwardAll bool
		want       bool
	}{
		{"b.x", false, true}, {"a.x", false, false}, {"a.x", true, true},
		{"a.total", true, false}, // its own output: never re-stored raw
	} {
		r.ForwardAll = c.forwardAll
		matched := l.Add([]byte(c.name), 60, 1)
		if got := l.Forward([]byte(c.name), matched); got != c.want {
			t.Errorf("%s forwardAll=%v: %v", c.name, c.forwardAll, got)
		}
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	r := mustRules(t, "agg.<a>.x (60) = sum <a>.*.b\nagg.<a>.p (60) = avg <a>.*.b\n")
	l := NewLoop(r)
	name, other := []byte("prod.web.b"), []byte("other.metric")
	l.Add(name, 1000, 1)
	if n := testing.AllocsPerRun(100, func() { l.Add(name, 1001, 2); l.Add(other, 1001, 2) }); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func FuzzParseRules(f *testing.F) {
	f.Add(oracleRules)
	f.Add("x (1) = sum a.<<b>>.<c>\n")
	f.Add("<a>.<b> (60) = p999 *.<a>.<b>*x\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		l := NewLoop(rs)
		m := NewMerger(rs)
		for _, line := range strings.Split(s, "\n") {
			l.Add([]byte(line), 100, 1)
			for _, r := range rs.Rules {
				l.Add([]byte(r.Input), 100, 2)
				l.Add([]byte(r.Output), 100, 3)
			}
		}
		m.Merge(l.Swap())
		m.Emit(1000, func(string, int64, float64) {})
	})
}

func BenchmarkLoopAdd(b *testing.B) {
	r := mustRules(b, oracleRules)
	sumOnly := mustRules(b, "agg.<env>.requests.sum (60) = sum <env>.app.*.requests\n")
	l := NewLoop(r)
	names := make([][]byte, 1000)
	for i := range names {
		names[i] = []byte(fmt.Sprintf("prod.app.host%03d.requests", i))
		if i%2 == 1 {
			names[i] = []byte(fmt.Sprintf("unmatched.host%03d.requests", i))
		}
	}
	b.Run("matched-12-rules", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if i%100000 == 0 {
				l.Swap()
			}
			l.Add(names[(i%500)*2], 1700000000, 1)
		}
	})
	b.Run("matched-1-sum-rule", func(b *testing.B) {
		l := NewLoop(sumOnly)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Add(names[(i%500)*2], 1700000000, 1)
		}
	})
	b.Run("unmatched", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Add(names[(i%500)*2+1], 1700000000, 1)
		}
	})
}

// TestPercentileRuleFirstInFileAfterSumCreatedOutput: the output "out" is
// created by the sum rule's point (the file's second rule), then the p50
// rule (the first) matches it too and becomes its method. The values kept
// from the start give the exact median (FuzzParseRules: a panic on an
// empty value list).
func TestPercentileRuleFirstInFileAfterSumCreatedOutput(t *testing.T) {
	rs := mustRules(t, "out (10) = p50 a.<x>\nout (10) = sum b.<x>\n")
	l := NewLoop(rs)
	l.Add([]byte("b.1"), 100, 5)
	l.Add([]byte("a.1"), 101, 1)
	l.Add([]byte("a.2"), 102, 3)
	m := NewMerger(rs)
	m.Merge(l.Swap())
	var got []string
	m.Emit(1000, func(name string, ts int64, v float64) { got = append(got, fmt.Sprintf("%s %d %v", name, ts, v)) })
	if want := "[out 100 3]"; fmt.Sprint(got) != want {
		t.Errorf("emitted %v, want %s (the median of 5, 1, 3)", got, want)
	}
}
