package query

// Python semantics graphite-web relies on: re syntax and replacement
// strings, slicing bounds, floor division and divmod.

import (
	"regexp"
	"strconv"
	"strings"
)

// CompilePythonRegexp compiles a Python re pattern with Go's RE2 (the
// common subset; lookarounds and backreferences are rejected).
func CompilePythonRegexp(p string) (*regexp.Regexp, error) {
	if len(p) > 4096 {
		return nil, inputErrorf("regular expression longer than 4096 bytes")
	}
	p = strings.ReplaceAll(p, `\Z`, `\z`)
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, inputErrorf("invalid regular expression %q: %v", p, err)
	}
	return re, nil
}

// PythonReplacement converts a Python re.sub replacement (\1, \g<name>,
// \g<1>, \n, \\) into a Go Expand template.
func PythonReplacement(r string, re *regexp.Regexp) (string, error) {
	var b strings.Builder
	groupOK := func(g string) bool {
		if n, err := strconv.Atoi(g); err == nil {
			return n <= re.NumSubexp()
		}
		return re.SubexpIndex(g) >= 0
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c == '$' {
			b.WriteString("$$")
			continue
		}
		if c != '\\' || i+1 >= len(r) {
			b.WriteByte(c)
			continue
		}
		i++
		c = r[i]
		switch {
		case c >= '1' && c <= '9':
			g := string(c)
			if i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9' {
				g += string(r[i+1])
				i++
			}
			if !groupOK(g) {
				return "", inputErrorf("invalid group reference %s in replacement %q", g, r)
			}
			b.WriteString("${" + g + "}")
		case c == 'g' && i+1 < len(r) && r[i+1] == '<':
			end := strings.IndexByte(r[i:], '>')
			if end < 0 {
				return "", inputErrorf("missing > in group reference in replacement %q", r)
			}
			g := r[i+2 : i+end]
			if !groupOK(g) {
				return "", inputErrorf("invalid group reference %s in replacement %q", g, r)
			}
			b.WriteString("${" + g + "}")
			i += end
		case c == '\\':
			b.WriteByte('\\')
		case c == 'n':
			b.WriteByte('\n')
		case c == 't':
			b.WriteByte('\t')
		case c == 'r':
			b.WriteByte('\r')
		case c == 'f':
			b.WriteByte('\f')
		case c == 'v':
			b.WriteByte('\v')
		case c == 'a':
			b.WriteByte('\a')
		case c == 'b':
			b.WriteByte('\b')
		case c == '0':
			b.WriteByte(0)
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			return "", inputErrorf("bad escape \\%c in replacement %q", c, r)
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// pySliceBounds resolves Python slice bounds [start:stop] (open stop when
// noStop) for a sequence of length n.
func pySliceBounds(n, start, stop int, noStop bool) (int, int) {
	norm := func(i int) int {
		if i < 0 {
			i += n
			if i < 0 {
				i = 0
			}
		}
		return min(i, n)
	}
	lo := norm(start)
	hi := n
	if !noStop {
		hi = norm(stop)
	}
	return lo, hi
}

func pyFloorDiv(a, b int64) int64 {
	q, _ := pyDivmod(a, b)
	return q
}

func pyDivmod(a, b int64) (int64, int64) {
	q := a / b
	r := a % b
	if r != 0 && (r < 0) != (b < 0) {
		q--
		r += b
	}
	return q, r
}
