package index

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plumbago/plumbago/storage"
)

// refGlobRegexp translates one brace-free segment pattern to a Go regexp,
// porting CPython 3.11's fnmatch.translate string by string (plus the
// backslash escape outside classes). It is the reference the compiled
// matcher is fuzzed against. ok is false when the translation is not a
// valid regexp (Python would raise as well).
func refGlobRegexp(pat string) (*regexp.Regexp, bool) {
	p := []rune(pat)
	var res strings.Builder
	res.WriteString(`(?s)^(?:`)
	q := func(r rune) string { return fmt.Sprintf(`\x{%x}`, r) }
	n := len(p)
	for i := 0; i < n; {
		c := p[i]
		i++
		switch c {
		case '\\':
			if i < n {
				res.WriteString(q(p[i]))
				i++
			}
		case '*':
			res.WriteString(`.*`)
		case '?':
			res.WriteString(`.`)
		case '[':
			j := i
			if j < n && p[j] == '!' {
				j++
			}
			if j < n && p[j] == ']' {
				j++
			}
			for j < n && p[j] != ']' {
				j++
			}
			if j >= n {
				res.WriteString(q('['))
				continue
			}
			// stuff: list of strings where "-" separators between chunks
			// are range operators.
			var chunks []string
			s := string(p[i:j])
			if !strings.Contains(s, "-") {
				chunks = []string{s}
			} else {
				k := i + 1
				if p[i] == '!' {
					k = i + 2
				}
				ii := i
				for {
					k = findRune(p, '-', k, j)
					if k < 0 {
						break
					}
					chunks = append(chunks, string(p[ii:k]))
					ii = k + 1
					k += 3
				}
				chunk := string(p[ii:j])
				if chunk != "" {
					chunks = append(chunks, chunk)
				} else {
					chunks[len(chunks)-1] += "-"
				}
				for k := len(chunks) - 1; k > 0; k-- {
					a, b := []rune(chunks[k-1]), []rune(chunks[k])
					if len(a) == 0 || len(b) == 0 {
						continue
					}
					if a[len(a)-1] > b[0] {
						chunks[k-1] = string(a[:len(a)-1]) + string(b[1:])
						chunks = append(chunks[:k], chunks[k+1:]...)
					}
				}
			}
			i = j + 1
			stuff := strings.Join(chunks, "-")
			if stuff == "" {
				res.WriteString(`[^\x00-\x{10ffff}]`)
				continue
			}
			if stuff == "!" {
				res.WriteString(`.`)
				continue
			}
			neg := false
			if strings.HasPrefix(chunks[0], "!") {
				neg = true
				chunks[0] = chunks[0][1:]
			}
			var cls strings.Builder
			for ci, ch := range chunks {
				if ci > 0 {
					cls.WriteString("-")
				}
				for _, r := range ch {
					cls.WriteString(q(r))
				}
			}
			if neg {
				res.WriteString("[^" + cls.String() + "]")
			} else {
				res.WriteString("[" + cls.String() + "]")
			}
		default:
			res.WriteString(q(c))
		}
	}
	res.WriteString(`)$`)
	re, err := regexp.Compile(res.String())
	return re, err == nil
}

func FuzzGlob(f *testing.F) {
	seeds := [][2]string{
		{"*", "abc"}, {"a*c", "abbc"}, {"a?c", "abc"}, {"[a-c]x", "bx"}, {"[!a]", "a"},
		{"[^a]", "^"}, {"[]a]", "]"}, {"[a-]", "-"}, {"[z-a]", "m"}, {"[!z-a]", "m"},
		{"[a-c-e]", "-"}, {"*a*a*", "xaxax"}, {`a\*`, "a*"}, {"[", "["}, {"?é*", "éé"},
		{"[é-ü]", "ö"}, {"**x", "ax"}, {"a[!b-d]*", "aez"}, {"[[]", "["}, {"[\\]", "\\"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, name string) {
		if len(pat) > 64 || len(name) > 64 || !utf8.ValidString(pat) || !utf8.ValidString(name) {
			return
		}
		re, ok := refGlobRegexp(pat)
		if !ok {
			return
		}
		g, lit, isLit := compileGlob(pat)
		var got bool
		if isLit {
			got = lit == name
		} else {
			got = g.match(name)
		}
		if want := re.MatchString(name); got != want {
			t.Fatalf("pattern %q name %q: got %v, reference %v (%s)", pat, name, got, want, re)
		}
	})
}

// refExpand is Python graphite-web's expand_braces (no escapes).
var refBraceRE = regexp.MustCompile(`\{([^{}]*)\}`)

func refExpand(s string) []string {
	m := refBraceRE.FindStringSubmatchIndex(s)
	if m == nil {
		return []string{s}
	}
	var out []string
	for _, alt := range strings.Split(s[m[2]:m[3]], ",") {
		out = append(out, refExpand(s[:m[0]]+alt+s[m[1]:])...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// refMatchPath matches the segments of a node path against the pattern
// segments by brute force (graphite-web's semantics, globstar included).
func refMatchPath(pats, names []string) bool {
	if len(pats) == 0 {
		return len(names) == 0
	}
	for _, v := range refExpand(pats[0]) {
		if v == "**" {
			if len(pats) == 1 {
				if len(names) >= 1 {
					return true
				}
				continue
			}
			for k := 0; k < len(names); k++ {
				if refMatchPath(pats[1:], names[k:]) {
					return true
				}
			}
			continue
		}
		if len(names) == 0 || v == "" {
			continue
		}
		re, ok := refGlobRegexp(v)
		if ok && re.MatchString(names[0]) && refMatchPath(pats[1:], names[1:]) {
			return true
		}
	}
	return false
}

func refFind(names []string, pattern string) []storage.Node {
	nodes := map[string]*storage.Node{}
	for _, n := range names {
		segs := strings.Split(n, ".")
		for i := 1; i <= len(segs); i++ {
			p := strings.Join(segs[:i], ".")
			nd := nodes[p]
			if nd == nil {
				nd = &storage.Node{Path: p}
				nodes[p] = nd
			}
			if i == len(segs) {
				nd.Leaf = true
			} else {
				nd.Branch = true
			}
		}
	}
	var out []storage.Node
	if pattern == "" {
		return nil
	}
	pats := strings.Split(pattern, ".")
	for p, nd := range nodes {
		if refMatchPath(pats, strings.Split(p, ".")) {
			out = append(out, *nd)
		}
	}
	slices.SortFunc(out, func(a, b storage.Node) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func FuzzFind(f *testing.F) {
	f.Add("a.b.c\nab.c\na.bc.d\nx", "a.*")
	f.Add("a.b.c\na.b\nb.c.c", "*.{b,c}.c")
	f.Add("a.b.c\na.b\nb.c.c", "**.c")
	f.Add("a.b.c\na.b\nb.c.c", "a.**")
	f.Add("h1.cpu\nh2.cpu\nh10.mem", "h[0-1]*.{cpu,m?m}")
	f.Add("a.b", "{a,{b,c}}.[!a]")
	f.Fuzz(func(t *testing.T, list, pattern string) {
		if len(list) > 512 || len(pattern) > 48 || strings.Contains(pattern, `\`) ||
			!utf8.ValidString(list) || !utf8.ValidString(pattern) {
			return
		}
		// Skip patterns the Python reference would reject.
		for _, seg := range strings.Split(pattern, ".") {
			if strings.Count(seg, "{") > 4 {
				return
			}
			for _, v := range refExpand(seg) {
				if _, ok := refGlobRegexp(v); !ok {
					return
				}
			}
		}
		x := New()
		var names []string
		for _, n := range strings.Split(list, "\n") {
			// Tagged names go to the tag index, not the tree Find walks.
			if x.Add(n) && !IsTagged(n) {
				names = append(names, n)
			}
		}
		got, err := x.Find(pattern)
		if err != nil {
			return
		}
		want := refFind(names, pattern)
		if !slices.Equal(got, want) {
			t.Fatalf("Find(%q) over %q:\n got %v\nwant %v", pattern, names, got, want)
		}
		leaves, err := x.Expand(pattern)
		if err != nil {
			t.Fatal(err)
		}
		var wantLeaves []string
		for _, n := range want {
			if n.Leaf {
				wantLeaves = append(wantLeaves, n.Path)
			}
		}
		if !slices.Equal(leaves, wantLeaves) {
			t.Fatalf("Expand(%q) = %q, want %q", pattern, leaves, wantLeaves)
		}
		// Delete every other name: pruning must leave exactly the tree of
		// the remaining names.
		var kept []string
		for i, n := range names {
			if i%2 == 0 {
				if !x.Delete(n) {
					t.Fatalf("Delete(%q) = false", n)
				}
			} else {
				kept = append(kept, n)
			}
		}
		if x.Len() != len(kept) {
			t.Fatalf("Len = %d after deletes, want %d", x.Len(), len(kept))
		}
		got, _ = x.Find(pattern)
		if want := refFind(kept, pattern); !slices.Equal(got, want) {
			t.Fatalf("after deletes Find(%q) over %q:\n got %v\nwant %v", pattern, kept, got, want)
		}
		all, _ := x.Find("**")
		if want := refFind(kept, "**"); !slices.Equal(all, want) {
			t.Fatalf("after deletes tree = %v, want %v", all, want)
		}
	})
}
