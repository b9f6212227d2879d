package target

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a.b.c", "a.b.c"},
		{"a.*.c", "a.*.c"},
		{"a.{b,c}.d*", "a.{b,c}.d*"},
		{"a.b[0-9].?x", "a.b[0-9].?x"},
		{"host-1.cpu_0.user=x;tag=v~^$:@", "host-1.cpu_0.user=x;tag=v~^$:@"},
		{`a\.b`, "a.b"},
		{`a\(b\)`, "a(b)"},
		{"sumSeries(a.b)", "sumSeries(a.b)"},
		{"sumSeries( a.b , c.* )", "sumSeries(a.b,c.*)"},
		{"scale(a.b, 2)", "scale(a.b,2)"},
		{"scale(a.b, -2.5)", "scale(a.b,-2.5)"},
		{"scale(a.b, 1e3)", "scale(a.b,1e3)"},
		{"scale(a.b, 1.5E-3)", "scale(a.b,1.5E-3)"},
		{"f(a, true, FALSE, None, inf)", "f(a,true,false,None,inf)"},
		{`alias(a, "x y")`, `alias(a,"x y")`},
		{`alias(a, 'x"y')`, `alias(a,'x"y')`},
		{`aliasSub(a, "(^.*$)", "\1 A")`, `aliasSub(a,"(^.*$)","\1 A")`},
		{"a.b|sumSeries()", "sumSeries(a.b)"},
		{"a.b | scale(2) |alias('x')", `alias(scale(a.b,2),"x")`},
		{"f(g(h(a.b)), x=1, y='z')", `f(g(h(a.b)),x=1,y="z")`},
		{"f(a.b|g())", "f(g(a.b))"},
		{"f()", "f()"},
		{"f(true.x, none.y, inf1)", "f(true.x,none.y,inf1)"},
		{"f(1a.b, -1x)", "f(1a.b,-1x)"},
		{"seriesByTag('name=a', 'dc=~x.*')", `seriesByTag("name=a","dc=~x.*")`},
		{"  a.b  ", "a.b"},
		{"1234", "1234"},
	}
	for _, c := range cases {
		n, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := n.String(); got != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	n, err := Parse(`f(1, -2, 3.5, 1e3, -1.5e-2, "s\1", 'q', true, None, inf, k=99999999999999999999)`)
	if err != nil {
		t.Fatal(err)
	}
	a := n.Args
	if a[0].Kind != KindInt || a[0].Int != 1 || a[1].Int != -2 || a[1].Kind != KindInt {
		t.Errorf("ints: %+v %+v", a[0], a[1])
	}
	if a[2].Kind != KindFloat || a[2].Float != 3.5 || a[3].Float != 1000 || a[4].Float != -0.015 {
		t.Errorf("floats: %+v %+v %+v", a[2], a[3], a[4])
	}
	if a[5].Kind != KindString || a[5].Str != `s\1` || a[6].Str != "q" {
		t.Errorf("strings: %+v %+v", a[5], a[6])
	}
	if a[7].Kind != KindBool || !a[7].Bool || a[8].Kind != KindNone || a[9].Kind != KindInf {
		t.Errorf("keywords: %+v %+v %+v", a[7], a[8], a[9])
	}
	if len(n.Kwargs) != 1 || n.Kwargs[0].Name != "k" || n.Kwargs[0].Value.Kind != KindFloat || n.Kwargs[0].Value.Float != 1e20 {
		t.Errorf("kwargs: %+v", n.Kwargs)
	}
	if n.Raw != `f(1, -2, 3.5, 1e3, -1.5e-2, "s\1", 'q', true, None, inf, k=99999999999999999999)` {
		t.Errorf("raw %q", n.Raw)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"", "sumSeries(a.b", "sumSeries(a.b,", "a.b)", "a..b", "a.b.", "f(x=1, a)",
		`f("abc)`, "a.{b,c", "a.{}", "a|b", "a|", "f(,)", "a b",
		strings.Repeat("f(", MaxDepth+2) + "a" + strings.Repeat(")", MaxDepth+2),
	} {
		if n, err := Parse(in); err == nil || !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, %v; want syntax error", in, n, err)
		}
	}
}

func TestFirstPath(t *testing.T) {
	n, err := ParsePrefix("sumSeries(scale(a.b.*, 2), c) trailing")
	if err != nil {
		t.Fatal(err)
	}
	if got := FirstPath(n); got != "a.b.*" {
		t.Errorf("FirstPath = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a.b.c", "sumSeries(a.*.{x,y})", `aliasSub(sumSeries(a.b), "(^.*$)", "\1 A")`,
		"a|scale(2)|alias('x')", "f(1e3, -1.5, true, None, inf, k=v.w)", `a\.b.c[0-9]?`, "seriesByTag('a=b')",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		// The canonical form must parse to the same canonical form,
		// except for paths that needed escapes.
		out := n.String()
		if strings.ContainsAny(s, "\\") {
			return
		}
		m, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", out, s, err)
		}
		if m.String() != out {
			t.Fatalf("round trip %q -> %q -> %q", s, out, m.String())
		}
	})
}

// TestStringQuotes: the printer picks a quote the string round-trips with
// (the fuzz crasher A(0,"""'0") printed A(0,'""'0'), which does not parse).
func TestStringQuotes(t *testing.T) {
	for in, want := range map[string]string{
		`A(0,"""'0")`: `A(0,"""'0")`,
		`f("a'b")`:    `f("a'b")`,
		`f('a"b')`:    `f('a"b')`,
		`f('a""b')`:   `f('a""b')`,
		`f("a\"'b")`:  `f("a\"'b")`,
		`f('''"')`:    `f('''"')`,
	} {
		n, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got := n.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, got, want)
		}
		m, err := Parse(want)
		if err != nil || m.Args[len(m.Args)-1].Str != n.Args[len(n.Args)-1].Str {
			t.Errorf("reparse of %q: %v", want, err)
		}
	}
}
