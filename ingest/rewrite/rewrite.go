package rewrite

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Rule is one "pattern = replacement" rewrite.
type Rule struct {
	Pattern     string
	Replacement string // as written (Python syntax)
	Line        int

	re   *regexp.Regexp
	tmpl []byte // Go expansion template
}

// Rules holds the [pre] and [post] rule sets of a rewrite-rules.conf.
type Rules struct {
	Pre, Post Ruleset
}

// Ruleset is an ordered list of rules applied one after another.
type Ruleset []*Rule

const maxLine = 64 << 10

// ParseFile reads a rewrite-rules.conf. See Parse for the error contract.
func ParseFile(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading rewrite rules %q: %w", path, err)
	}
	defer f.Close()
	rs, err := Parse(f)
	if err != nil {
		err = fmt.Errorf("parsing rewrite rules %q: %w", path, err)
	}
	return rs, err
}

// Parse reads rewrite rules. Sections other than [pre] and [post] (and
// rules before any section) are ignored, as carbon never applies them.
// Invalid lines are skipped; when any were, the returned error lists them
// and the returned Rules still holds every valid rule. Only an I/O error
// (or a line longer than 64 KiB) returns nil Rules.
func Parse(in io.Reader) (*Rules, error) {
	rs := &Rules{}
	var skipped []error
	var cur *Ruleset
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' && line[len(line)-1] == ']' {
			// carbon clears a section when its header appears again.
			switch strings.ToLower(line[1 : len(line)-1]) {
			case "pre":
				rs.Pre, cur = nil, &rs.Pre
			case "post":
				rs.Post, cur = nil, &rs.Post
			default:
				cur = nil
			}
			continue
		}
		pat, repl, ok := strings.Cut(line, "=")
		if !ok {
			skipped = append(skipped, fmt.Errorf("line %d: not a section heading or rule: %q", n, line))
			continue
		}
		r, err := NewRule(strings.TrimSpace(pat), strings.TrimSpace(repl))
		if err != nil {
			skipped = append(skipped, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		r.Line = n
		if cur == nil {
			skipped = append(skipped, fmt.Errorf("line %d: rule outside [pre] or [post] is never applied", n))
			continue
		}
		*cur = append(*cur, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return rs, errors.Join(skipped...)
}

// NewRule compiles one rule.
func NewRule(pattern, replacement string) (*Rule, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %w", pattern, err)
	}
	tmpl, err := translateReplacement(replacement, re)
	if err != nil {
		return nil, fmt.Errorf("replacement %q: %w", replacement, err)
	}
	return &Rule{Pattern: pattern, Replacement: replacement, re: re, tmpl: tmpl}, nil
}

// translateReplacement turns a Python re.sub replacement into a Go template.
func translateReplacement(s string, re *regexp.Regexp) ([]byte, error) {
	var out []byte
	group := func(g int) error {
		if g > re.NumSubexp() {
			return fmt.Errorf("invalid group reference %d", g)
		}
		out = append(out, "${"...)
		out = strconv.AppendInt(out, int64(g), 10)
		out = append(out, '}')
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '$' {
			out = append(out, "$$"...)
			continue
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, errors.New("bad escape (end of pattern)")
		}
		c = s[i]
		switch {
		case c >= '0' && c <= '9':
			// Python: \0 and \NNN (three octal digits) are octal escapes;
			// otherwise one or two digits are a group number.
			if c == '0' || (i+2 < len(s) && isOct(c) && isOct(s[i+1]) && isOct(s[i+2])) {
				j := i
				v := 0
				for j < len(s) && j < i+3 && isOct(s[j]) {
					v = v*8 + int(s[j]-'0')
					j++
				}
				if v > 0xff {
					return nil, errors.New("octal escape out of range")
				}
				out = append(out, byte(v))
				i = j - 1
				continue
			}
			g := int(c - '0')
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				g = g*10 + int(s[i+1]-'0')
				i++
			}
			if err := group(g); err != nil {
				return nil, err
			}
		case c == 'g':
			if i+1 >= len(s) || s[i+1] != '<' {
				return nil, errors.New("missing < after \\g")
			}
			end := strings.IndexByte(s[i+2:], '>')
			if end < 0 {
				return nil, errors.New("missing > in \\g<...>")
			}
			name := s[i+2 : i+2+end]
			i += 2 + end
			if g, err := strconv.Atoi(name); err == nil {
				if err := group(g); err != nil {
					return nil, err
				}
				continue
			}
			g := re.SubexpIndex(name)
			if g < 0 {
				return nil, fmt.Errorf("unknown group name %q", name)
			}
			if err := group(g); err != nil {
				return nil, err
			}
		case c == 'n':
			out = append(out, '\n')
		case c == 't':
			out = append(out, '\t')
		case c == 'r':
			out = append(out, '\r')
		case c == 'a':
			out = append(out, 7)
		case c == 'b':
			out = append(out, 8)
		case c == 'f':
			out = append(out, 12)
		case c == 'v':
			out = append(out, 11)
		case c == '\\':
			out = append(out, '\\')
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			return nil, fmt.Errorf("bad escape \\%c", c)
		default:
			// Python keeps other escapes (\. \- ...) literally.
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

func isOct(c byte) bool { return c >= '0' && c <= '7' }

// Apply rewrites name with every rule in order (re.sub semantics: all
// non-overlapping matches are replaced). When no rule matches it returns
// name itself and does not allocate; otherwise the result is appended to
// dst[:0].
func (rs Ruleset) Apply(name, dst []byte) []byte {
	cur := name
	changed := false
	for _, r := range rs {
		if !r.re.Match(cur) {
			continue
		}
		next := r.apply(dst[:0], cur)
		cur, dst, changed = next, next, true
	}
	if !changed {
		return name
	}
	return cur
}

func (r *Rule) apply(dst, src []byte) []byte {
	// Build into a fresh buffer when src aliases dst, since expanding reads
	// src while writing dst.
	if len(dst) == 0 && cap(dst) > 0 && len(src) > 0 && &dst[:1][0] == &src[0] {
		dst = nil
	}
	last := 0
	for _, m := range r.re.FindAllSubmatchIndex(src, -1) {
		dst = append(dst, src[last:m[0]]...)
		dst = r.re.Expand(dst, r.tmpl, src, m)
		last = m[1]
	}
	return append(dst, src[last:]...)
}

// List is a whitelist or blacklist: one regular expression per line,
// matched anywhere in the name (Python's re.search).
type List struct {
	res []*regexp.Regexp
}

// ParseListFile reads a whitelist/blacklist file. A missing file is an empty
// list, as in carbon. See ParseList for the error contract.
func ParseListFile(path string) (*List, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &List{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	defer f.Close()
	l, err := ParseList(f)
	if err != nil {
		err = fmt.Errorf("parsing %q: %w", path, err)
	}
	return l, err
}

// ParseList reads one regular expression per line; lines starting with '#'
// (before trimming, as carbon checks) and blank lines are skipped. Invalid
// patterns are skipped and reported in the error; the List holds the rest.
func ParseList(in io.Reader) (*List, error) {
	l := &List{}
	var skipped []error
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		pat := strings.TrimSpace(raw)
		if strings.HasPrefix(raw, "#") || pat == "" {
			continue
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		l.res = append(l.res, re)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return l, errors.Join(skipped...)
}

// Len returns the number of patterns.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.res)
}

// Match reports whether any pattern matches name.
func (l *List) Match(name []byte) bool {
	if l == nil {
		return false
	}
	for _, re := range l.res {
		if re.Match(name) {
			return true
		}
	}
	return false
}

// Filter applies carbon's receiver checks: a name is rejected when the
// whitelist is non-empty and does not match it (whitelistRejects), or when
// the blacklist matches it (blacklistMatches). Either list may be nil.
type Filter struct {
	Whitelist, Blacklist *List
}

// Verdict is the outcome of Filter.Check.
type Verdict uint8

// Verdicts.
const (
	Accept Verdict = iota
	WhitelistReject
	BlacklistMatch
)

// Check returns whether name passes, in carbon's order (blacklist first).
func (f *Filter) Check(name []byte) Verdict {
	if f.Blacklist.Match(name) {
		return BlacklistMatch
	}
	if f.Whitelist.Len() > 0 && !f.Whitelist.Match(name) {
		return WhitelistReject
	}
	return Accept
}
