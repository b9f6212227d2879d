package index

import (
	"slices"
	"testing"
)

// segMatch compiles one segment pattern (braces included) and matches name
// against its non-globstar variants.
func segMatch(t *testing.T, pattern, name string) bool {
	t.Helper()
	segs, ok, err := compilePattern(pattern)
	if err != nil || !ok || len(segs) != 1 {
		t.Fatalf("compilePattern(%q) = %v, %v, %v", pattern, len(segs), ok, err)
	}
	return segs[0].matchName(name)
}

func TestGlobForms(t *testing.T) {
	cases := []struct {
		pat string
		yes []string
		no  []string
	}{
		{"*", []string{"", "a", "abc", "é"}, nil},
		{"a*", []string{"a", "ab", "abc"}, []string{"b", "ba"}},
		{"*c", []string{"c", "abc"}, []string{"ca", "ab"}},
		{"a*c", []string{"ac", "abc", "abbbc", "acc"}, []string{"ab", "cab", "acb"}},
		{"a**c", []string{"ac", "abc"}, []string{"abd"}},
		{"*a*a*", []string{"aa", "xaxax", "aaa"}, []string{"a", "xax"}},
		{"?", []string{"a", "é", "?"}, []string{"", "ab"}},
		{"a?c", []string{"abc", "a.c", "aéc"}, []string{"ac", "abbc"}},
		{"??*", []string{"ab", "abc"}, []string{"a"}},
		{"[abc]", []string{"a", "b", "c"}, []string{"d", "", "ab"}},
		{"[a-c]x", []string{"ax", "bx", "cx"}, []string{"dx", "x"}},
		{"host[0-9][0-9]", []string{"host00", "host42"}, []string{"host4", "host4a"}},
		{"[!a]", []string{"b", "!"}, []string{"a", ""}},
		{"[!a-c]", []string{"d", "-"}, []string{"a", "b", "c"}},
		{"[^a]", []string{"^", "a"}, []string{"b"}}, // Python fnmatch: '^' is literal
		{"[]]", []string{"]"}, []string{"a"}},
		{"[]a]", []string{"]", "a"}, []string{"b"}},
		{"[!]]", []string{"a"}, []string{"]"}},
		{"[a-]", []string{"a", "-"}, []string{"b"}},
		{"[-a]", []string{"a", "-"}, []string{"b"}},
		{"[z-a]", nil, []string{"a", "m", "z", "-"}},      // reversed range: empty set
		{"[!z-a]", []string{"a", "q", "-"}, []string{""}}, // negated empty set: any
		{"[a-c-e]", []string{"a", "b", "c", "-", "e"}, []string{"d"}},
		{"[", []string{"["}, []string{"a"}},
		{"a[b", []string{"a[b"}, []string{"ab"}},
		{"]", []string{"]"}, nil},
		{`a\*`, []string{"a*"}, []string{"ab", "a"}},
		{`\[a]`, []string{"[a]"}, []string{"a"}},
		{`a\`, []string{"a"}, []string{`a\`}},
		{"{a,b}", []string{"a", "b"}, []string{"c", "ab", "{a,b}"}},
		{"x{a,b}y", []string{"xay", "xby"}, []string{"xy"}},
		{"{a,b}{c,d}", []string{"ac", "ad", "bc", "bd"}, []string{"a", "cd"}},
		{"{a*,b?}", []string{"a", "axyz", "bx"}, []string{"b", "bxy"}},
		{"{a,{b,c}d}", []string{"a", "bd", "cd"}, []string{"b", "d"}},
		{"{cpu[0-1],mem*}", []string{"cpu0", "cpu1", "mem", "memfree"}, []string{"cpu2"}},
		{"{,a}x", []string{"x", "ax"}, []string{"a"}},
		{"{a", []string{"{a"}, []string{"a"}},
		{"a}", []string{"a}"}, []string{"a"}},
		{`\{a,b}`, []string{"{a,b}"}, []string{"a", "b"}},
		{`{a\,b,c}`, []string{"a,b", "c"}, []string{"a"}},
		{"{}", nil, []string{"", "{}"}},
	}
	for _, c := range cases {
		for _, y := range c.yes {
			if !segMatch(t, c.pat, y) {
				t.Errorf("%q should match %q", c.pat, y)
			}
		}
		for _, n := range c.no {
			if segMatch(t, c.pat, n) {
				t.Errorf("%q should not match %q", c.pat, n)
			}
		}
	}
}

func TestExpandBraces(t *testing.T) {
	cases := map[string][]string{
		"abc":            {"abc"},
		"{a,b}":          {"a", "b"},
		"{a,a}":          {"a"},
		"{a,{b,c}}":      {"a", "b", "c"},
		"{a,b}{c,d}":     {"ac", "ad", "bc", "bd"},
		"x{}y":           {"xy"},
		"{a,b":           {"{a,b"},
		"}{a}":           {"}a"},
		`\{a,b\}`:        {`\{a,b\}`},
		`{a\,b,c}`:       {`a\,b`, "c"},
		"{{a,b},{c,d}}e": {"ae", "be", "ce", "de"},
		"{a,b}.{c,d}":    {"a.c", "a.d", "b.c", "b.d"},
		"{a*,b[0-9],?c}": {"a*", "b[0-9]", "?c"},
	}
	for in, want := range cases {
		got, err := expandBraces(in)
		if err != nil {
			t.Fatalf("expandBraces(%q): %v", in, err)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("expandBraces(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExpandBracesLimits(t *testing.T) {
	// 2^11 = 2048 distinct variants > MaxVariants.
	p := ""
	for range 11 {
		p += "{a,b}"
	}
	if _, err := expandBraces(p); err == nil {
		t.Fatalf("expandBraces(%q): want error", p)
	}
	// Duplicate-heavy: few variants, exponential work.
	p = ""
	for range 40 {
		p += "{a,a}"
	}
	if _, err := expandBraces(p); err == nil {
		t.Fatalf("expandBraces(%q): want error", p)
	}
	// 2^10 = 1024 is allowed.
	p = ""
	for range 10 {
		p += "{a,b}"
	}
	got, err := expandBraces(p)
	if err != nil || len(got) != 1024 {
		t.Fatalf("expandBraces(2^10) = %d, %v", len(got), err)
	}
}
