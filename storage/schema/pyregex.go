package schema

import (
	"fmt"
	"regexp"
	"strings"
)

const maxPatternLen = 4096

// CompilePattern compiles a Python (re module) pattern as carbon uses it,
// translated to Go's RE2 syntax:
//   - \Z (end of string) becomes \z;
//   - (?#...) comments are removed;
//   - {,n} becomes {0,n};
//   - (?P<name>...) and everything common to both syntaxes is kept.
//
// Constructs RE2 cannot express are rejected with an error naming them:
// lookahead and lookbehind ((?=, (?!, (?<=, (?<!), backreferences (\1,
// (?P=name)) and conditionals ((?(1)...)).
func CompilePattern(pat string) (*regexp.Regexp, error) {
	if len(pat) > maxPatternLen {
		return nil, fmt.Errorf("compiling pattern %.40q...: longer than %d bytes", pat, maxPatternLen)
	}
	goPat, err := translatePattern(pat)
	if err != nil {
		return nil, fmt.Errorf("compiling pattern %q: %w", pat, err)
	}
	re, err := regexp.Compile(goPat)
	if err != nil {
		return nil, fmt.Errorf("compiling pattern %q: %w", pat, err)
	}
	return re, nil
}

func translatePattern(p string) (string, error) {
	var b strings.Builder
	b.Grow(len(p))
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("trailing backslash")
			}
			n := p[i+1]
			if !inClass {
				switch {
				case n == 'Z':
					b.WriteString(`\z`)
					i++
					continue
				case n >= '1' && n <= '9':
					return "", fmt.Errorf("backreference \\%c is not supported by Go's regexp (RE2)", n)
				}
			}
			b.WriteByte(c)
			b.WriteByte(n)
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal in both syntaxes.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '(' && strings.HasPrefix(p[i:], "(?"):
			rest := p[i+2:]
			switch {
			case strings.HasPrefix(rest, "#"):
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return "", fmt.Errorf("unterminated comment (?#")
				}
				i += 2 + end
			case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"),
				strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
				return "", fmt.Errorf("lookahead/lookbehind %q is not supported by Go's regexp (RE2)", p[i:min(len(p), i+4)])
			case strings.HasPrefix(rest, "P="):
				return "", fmt.Errorf("named backreference (?P=...) is not supported by Go's regexp (RE2)")
			case strings.HasPrefix(rest, "("):
				return "", fmt.Errorf("conditional (?(...)...) is not supported by Go's regexp (RE2)")
			case strings.HasPrefix(rest, ">"):
				return "", fmt.Errorf("atomic group (?>...) is not supported by Go's regexp (RE2)")
			default:
				b.WriteByte(c)
			}
		case c == '{' && strings.HasPrefix(p[i:], "{,"):
			j := i + 2
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			if j > i+2 && j < len(p) && p[j] == '}' {
				b.WriteString("{0,")
				i++
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
