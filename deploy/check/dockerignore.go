package check

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// Ignore is a .dockerignore: patterns in order, the last one matching a path
// (or one of its parent directories) decides, "!" re-includes.
type Ignore struct {
	rules []ignoreRule
}

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
	src    string // the cleaned pattern
}

// ParseIgnore reads .dockerignore patterns: comments (#), blank lines,
// "!" negation, "*" and "?" within a path element, "**" across elements.
func ParseIgnore(r io.Reader) (*Ignore, error) {
	ig := &Ignore{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		if neg {
			line = strings.TrimSpace(line[1:])
		}
		p := path.Clean(strings.TrimPrefix(line, "/"))
		re, err := globRegexp(p)
		if err != nil {
			return nil, fmt.Errorf("dockerignore pattern %q: %w", line, err)
		}
		ig.rules = append(ig.rules, ignoreRule{re: re, negate: neg, src: p})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading dockerignore: %w", err)
	}
	return ig, nil
}

func globRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case c == '*' && strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Excluded reports whether the slash-separated relative path is left out of
// the build context.
func (ig *Ignore) Excluded(rel string) bool {
	rel = path.Clean(rel)
	var cands []string
	for p := rel; p != "." && p != "/"; p = path.Dir(p) {
		cands = append(cands, p)
	}
	excluded := false
	for _, r := range ig.rules {
		for _, c := range cands {
			if r.re.MatchString(c) {
				excluded = !r.negate
				break
			}
		}
	}
	return excluded
}

// SkipDir reports whether a walk can skip the directory rel entirely: it is
// excluded and no "!" pattern could re-include anything below it.
func (ig *Ignore) SkipDir(rel string) bool {
	if !ig.Excluded(rel) {
		return false
	}
	rel = path.Clean(rel)
	for _, r := range ig.rules {
		if r.negate && (strings.HasPrefix(r.src, rel+"/") || strings.ContainsAny(r.src, "*?[")) {
			return false
		}
	}
	return true
}
