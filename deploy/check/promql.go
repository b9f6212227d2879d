package check

import (
	"fmt"
	"strings"
)

// maxExprBytes bounds the PromQL expressions this package scans.
const maxExprBytes = 64 << 10

// Selector is a metric name in a PromQL expression and the label names its
// matchers use.
type Selector struct {
	Metric string
	Labels []string
}

// Refs is what a PromQL expression refers to.
type Refs struct {
	Selectors []Selector
	Grouping  []string // labels named in by/without/on/ignoring/group_left/group_right
}

// promKeywords are identifiers that are never metric names.
var promKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true,
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "stddev": true, "stdvar": true,
	"topk": true, "bottomk": true, "quantile": true, "count_values": true, "group": true,
	"inf": true, "nan": true,
}

// PromRefs scans a PromQL expression (with Grafana's $variables) for metric
// selectors and grouping labels. It is a scanner, not a full parser: it
// recognises identifiers, calls, label matchers, ranges and strings, which
// is all a dashboard check needs.
func PromRefs(expr string) (Refs, error) {
	var refs Refs
	if len(expr) > maxExprBytes {
		return refs, fmt.Errorf("expression longer than %d bytes", maxExprBytes)
	}
	s := expr
	i := 0
	grouping := false
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(s, i)
			if err != nil {
				return refs, err
			}
			i = end
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return refs, fmt.Errorf("unclosed [ at %d", i)
			}
			i += end + 1
		case c == '$':
			i++
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
		case c == '(' && grouping:
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				return refs, fmt.Errorf("unclosed ( at %d", i)
			}
			for _, l := range strings.Split(s[i+1:i+end], ",") {
				if l = strings.TrimSpace(l); l != "" {
					refs.Grouping = append(refs.Grouping, l)
				}
			}
			i += end + 1
			grouping = false
		case c == '{':
			// A matcher list without a metric name: {__name__="x"} or {job="y"}.
			sel, end, err := scanMatchers(s, i)
			if err != nil {
				return refs, err
			}
			refs.Selectors = append(refs.Selectors, sel)
			i = end
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			word := s[i:j]
			k := j
			for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
				k++
			}
			switch {
			case word == "by" || word == "without" || word == "on" || word == "ignoring" ||
				word == "group_left" || word == "group_right":
				grouping = true
				i = j
			case promKeywords[strings.ToLower(word)]:
				i = j
			case k < len(s) && s[k] == '(':
				i = j // a function call
			default:
				sel := Selector{Metric: word}
				i = j
				if k < len(s) && s[k] == '{' {
					m, end, err := scanMatchers(s, k)
					if err != nil {
						return refs, err
					}
					sel.Labels = m.Labels
					i = end
				}
				refs.Selectors = append(refs.Selectors, sel)
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
	return refs, nil
}

// scanMatchers reads {a="x", b=~"y"} starting at s[i] == '{'.
func scanMatchers(s string, i int) (Selector, int, error) {
	var sel Selector
	i++
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t') {
			i++
		}
		if i < len(s) && s[i] == '}' {
			return sel, i + 1, nil
		}
		j := i
		for j < len(s) && isIdentChar(s[j]) {
			j++
		}
		if j == i {
			return sel, 0, fmt.Errorf("bad label matcher at %d", i)
		}
		name := s[i:j]
		for j < len(s) && (s[j] == ' ' || s[j] == '=' || s[j] == '!' || s[j] == '~') {
			j++
		}
		if j >= len(s) || (s[j] != '"' && s[j] != '\'' && s[j] != '`') {
			return sel, 0, fmt.Errorf("label %q: value is not a string", name)
		}
		end, err := skipString(s, j)
		if err != nil {
			return sel, 0, err
		}
		if name == "__name__" {
			sel.Metric = strings.Trim(s[j:end], "\"'`")
		} else {
			sel.Labels = append(sel.Labels, name)
		}
		i = end
	}
	return sel, 0, fmt.Errorf("unclosed { in %q", s)
}

func skipString(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		if s[j] == '\\' && q != '`' {
			j++
			continue
		}
		if s[j] == q {
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unclosed string at %d", i)
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
