package index

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits on hostile patterns.
const (
	// MaxPatternLen bounds the length of a find pattern in bytes.
	MaxPatternLen = 16 << 10
	// MaxVariants bounds the number of brace alternatives one segment may
	// expand to.
	MaxVariants = 1024
	// maxExpandSteps bounds the work spent expanding braces in one segment
	// (duplicate-heavy patterns like {a,a}{a,a}... expand to few variants
	// but cost many steps).
	maxExpandSteps = 16 * MaxVariants
)

var (
	errTooManyVariants = errors.New("too many brace alternatives")
	errPatternTooLong  = errors.New("pattern too long")
	errTooMuchWork     = errors.New("too many globstar states")
)

// Token kinds of a compiled glob.
const (
	tokLit   uint8 = iota // one literal rune
	tokAny                // ?
	tokStar               // * (consecutive stars collapsed)
	tokClass              // [...]
)

type token struct {
	kind uint8
	r    rune
	cls  *charClass
}

// charClass is a compiled [...] set with Python fnmatch semantics.
type charClass struct {
	neg    bool
	ranges []runeRange
}

type runeRange struct{ lo, hi rune }

func (c *charClass) match(r rune) bool {
	in := false
	for _, rg := range c.ranges {
		if r >= rg.lo && r <= rg.hi {
			in = true
			break
		}
	}
	return in != c.neg
}

// glob is one compiled segment pattern (after brace expansion): a sequence of
// single-rune tokens and stars, matched against a whole segment.
type glob struct {
	prefix string  // leading literal runes, checked first
	toks   []token // tokens after prefix
	all    bool    // the pattern is only stars: matches every name
}

// match reports whether name matches the whole pattern. It uses the classic
// greedy algorithm with backtracking to the last star, which is exact here
// because every non-star token consumes exactly one rune. Worst case
// O(len(name)*len(pattern)), no allocation.
func (g *glob) match(name string) bool {
	if g.all {
		return true
	}
	if len(name) < len(g.prefix) || name[:len(g.prefix)] != g.prefix {
		return false
	}
	name = name[len(g.prefix):]
	toks := g.toks
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for si < len(name) {
		if pi < len(toks) {
			t := &toks[pi]
			if t.kind == tokStar {
				starPi, starSi = pi, si
				pi++
				continue
			}
			r, w := rune(name[si]), 1
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRuneInString(name[si:])
			}
			ok := false
			switch t.kind {
			case tokLit:
				ok = t.r == r
			case tokAny:
				ok = true
			case tokClass:
				ok = t.cls.match(r)
			}
			if ok {
				pi++
				si += w
				continue
			}
		}
		if starPi < 0 {
			return false
		}
		// Let the last star swallow one more rune and retry after it.
		w := 1
		if name[starSi] >= utf8.RuneSelf {
			_, w = utf8.DecodeRuneInString(name[starSi:])
		}
		starSi += w
		si = starSi
		pi = starPi + 1
	}
	for pi < len(toks) && toks[pi].kind == tokStar {
		pi++
	}
	return pi == len(toks)
}

// compileGlob compiles one brace-free segment pattern. A backslash makes the
// next rune literal (outside [...]; inside a class it is an ordinary member,
// as in Python's fnmatch); a trailing backslash is dropped. When the pattern has no wildcard it returns the
// unescaped literal and isLit.
func compileGlob(pat string) (g *glob, lit string, isLit bool) {
	p := []rune(pat)
	toks := make([]token, 0, len(p))
	allLit := true
	for i := 0; i < len(p); {
		c := p[i]
		i++
		switch c {
		case '\\':
			// A trailing backslash (e.g. before an escaped dot, which
			// still separates segments) is dropped, as graphite-web drops
			// every backslash.
			if i < len(p) {
				toks = append(toks, token{kind: tokLit, r: p[i]})
				i++
			}
		case '*':
			allLit = false
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
		case '?':
			allLit = false
			toks = append(toks, token{kind: tokAny})
		case '[':
			cls, next, ok := parseClass(p, i)
			if !ok {
				toks = append(toks, token{kind: tokLit, r: '['})
				continue
			}
			allLit = false
			toks = append(toks, token{kind: tokClass, cls: cls})
			i = next
		default:
			toks = append(toks, token{kind: tokLit, r: c})
		}
	}
	if allLit {
		rs := make([]rune, len(toks))
		for i, t := range toks {
			rs[i] = t.r
		}
		return nil, string(rs), true
	}
	g = &glob{toks: toks, all: len(toks) == 1 && toks[0].kind == tokStar}
	k := 0
	for k < len(toks) && toks[k].kind == tokLit {
		k++
	}
	if k > 0 {
		rs := make([]rune, k)
		for i := range rs {
			rs[i] = toks[i].r
		}
		g.prefix, g.toks = string(rs), toks[k:]
	}
	return g, "", false
}

type classItem struct {
	r    rune
	join bool // an unescaped range hyphen between two chunks
}

// parseClass parses the class starting after '[' at p[i:], following the
// algorithm of CPython 3.11's fnmatch.translate (chunks split at range
// hyphens, reversed ranges removed, leading '!' negates, a lone '!' matches
// any rune, a leading '^' is literal). It returns the index after the closing
// ']' or ok=false when the class is unterminated ('[' is then a literal).
func parseClass(p []rune, i int) (*charClass, int, bool) {
	n := len(p)
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
		return nil, i, false
	}
	var chunks [][]rune
	hasDash := false
	for _, c := range p[i:j] {
		if c == '-' {
			hasDash = true
			break
		}
	}
	if !hasDash {
		chunks = [][]rune{p[i:j]}
	} else {
		k := i + 1
		if p[i] == '!' {
			k = i + 2
		}
		s := i
		for {
			k = findRune(p, '-', k, j)
			if k < 0 {
				break
			}
			chunks = append(chunks, p[s:k])
			s = k + 1
			k += 3
		}
		if s < j {
			chunks = append(chunks, p[s:j])
		} else {
			last := chunks[len(chunks)-1]
			chunks[len(chunks)-1] = append(append([]rune(nil), last...), '-')
		}
		for k := len(chunks) - 1; k > 0; k-- {
			a, b := chunks[k-1], chunks[k]
			if len(a) == 0 || len(b) == 0 {
				continue
			}
			if a[len(a)-1] > b[0] {
				m := append(append([]rune(nil), a[:len(a)-1]...), b[1:]...)
				chunks[k-1] = m
				chunks = append(chunks[:k], chunks[k+1:]...)
			}
		}
	}
	var items []classItem
	for ci, ch := range chunks {
		if ci > 0 {
			items = append(items, classItem{r: '-', join: true})
		}
		for _, r := range ch {
			items = append(items, classItem{r: r})
		}
	}
	cls := &charClass{}
	switch {
	case len(items) == 0:
		// Empty set: never matches.
		return cls, j + 1, true
	case len(items) == 1 && items[0].r == '!' && !items[0].join:
		cls.neg = true // negated empty set: any rune
		return cls, j + 1, true
	case items[0].r == '!' && !items[0].join:
		cls.neg = true
		items = items[1:]
	}
	for x := 0; x < len(items); {
		c := items[x]
		x++
		if x+1 < len(items) && items[x].join {
			d := items[x+1]
			x += 2
			if c.r <= d.r {
				cls.ranges = append(cls.ranges, runeRange{c.r, d.r})
			}
			// A reversed range that survives the chunk merge is an error
			// in Python's re; here it simply matches nothing.
			continue
		}
		cls.ranges = append(cls.ranges, runeRange{c.r, c.r})
	}
	return cls, j + 1, true
}

func findRune(p []rune, r rune, from, to int) int {
	for k := from; k < to; k++ {
		if p[k] == r {
			return k
		}
	}
	return -1
}

// expandBraces expands {a,b} alternatives in one segment pattern the way
// graphite-web does: repeatedly take the leftmost innermost {...} group,
// substitute each comma-separated alternative and recurse. Escaped braces
// and commas (\{ \} \,) are literal. The result is deduplicated; order is
// unspecified.
func expandBraces(s string) ([]string, error) {
	seen := make(map[string]struct{})
	var out []string
	steps := 0
	var rec func(s string) error
	rec = func(s string) error {
		steps++
		if steps > maxExpandSteps {
			return errTooManyVariants
		}
		open, cl := -1, -1
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '{':
				open = i
			case '}':
				if open >= 0 {
					cl = i
				}
			}
			if cl >= 0 {
				break
			}
		}
		if cl < 0 {
			if _, ok := seen[s]; !ok {
				if len(out) >= MaxVariants {
					return errTooManyVariants
				}
				seen[s] = struct{}{}
				out = append(out, s)
			}
			return nil
		}
		pre, inner, post := s[:open], s[open+1:cl], s[cl+1:]
		start := 0
		for i := 0; i <= len(inner); i++ {
			if i < len(inner) && inner[i] == '\\' {
				i++
				continue
			}
			if i == len(inner) || inner[i] == ',' {
				if err := rec(pre + inner[start:i] + post); err != nil {
					return err
				}
				start = i + 1
			}
		}
		return nil
	}
	if err := rec(s); err != nil {
		return nil, fmt.Errorf("expanding %.100q: %w", s, err)
	}
	return out, nil
}
