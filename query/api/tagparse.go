package api

import (
	"regexp"
	"sort"
	"strings"
)

// pyTagError is an exception graphite-web's TaggedSeries raises: status
// 400 for a ValueError, 500 for a plain Exception (how its jsonResponse
// decorator maps them).
type pyTagError struct {
	status int
	msg    string
}

func (e *pyTagError) Error() string { return e.msg }

func tagExc(msg string) *pyTagError { return &pyTagError{500, msg} }

// openMetricsSeg is TaggedSeries.parse_openmetrics' segment pattern.
var openMetricsSeg = regexp.MustCompile(`^([^=]+)="((?:[\\]["\\]|[^"\\])+)"(:?,|$)`)

// pyTagOrder is a Python dict of tags: insertion order, last write wins.
type pyTagOrder struct {
	keys []string
	vals map[string]string
}

func (d *pyTagOrder) set(k, v string) {
	if d.vals == nil {
		d.vals = map[string]string{}
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
}

// canonicalTaggedPath is graphite-web's TaggedSeries.parse(path).path with
// its exact error messages: the metric followed by the sorted ";tag=value"
// segments, and the tag keys in the order graphite-web inserts them.
func canonicalTaggedPath(path string) (string, []string, error) {
	var tags pyTagOrder
	var metric string
	if strings.HasSuffix(path, `"}`) && strings.Contains(path, "{") {
		parts := strings.SplitN(path[:len(path)-1], "{", 3)
		if len(parts) != 2 {
			return "", nil, &pyTagError{400, "too many values to unpack (expected 2)"}
		}
		metric = parts[0]
		raw := parts[1]
		if metric == "" {
			return "", nil, tagExc("Cannot parse path " + path + ", no metric found")
		}
		for len(raw) > 0 {
			m := openMetricsSeg.FindStringSubmatch(raw)
			if m == nil {
				return "", nil, tagExc("Cannot parse path " + path + ", invalid segment " + raw)
			}
			v := strings.ReplaceAll(strings.ReplaceAll(m[2], `\"`, `"`), `\\`, `\`)
			if err := tagValidate(m[1], v); err != nil {
				return "", nil, err
			}
			tags.set(m[1], v)
			raw = raw[len(m[0]):]
		}
	} else {
		segs := strings.Split(path, ";")
		metric = segs[0]
		if metric == "" {
			return "", nil, tagExc("Cannot parse path " + path + ", no metric found")
		}
		for _, seg := range segs[1:] {
			k, v, ok := strings.Cut(seg, "=")
			if !ok || k == "" {
				return "", nil, tagExc("Cannot parse path " + path + ", invalid segment " + seg)
			}
			if err := tagValidate(k, v); err != nil {
				return "", nil, err
			}
			tags.set(k, v)
		}
	}
	name := strings.TrimLeft(metric, "~")
	if name == "" {
		return "", nil, tagExc("Cannot use metric name " + metric + " as tag value, results in emptry string")
	}
	var segs []string
	for _, k := range tags.keys {
		if k != "name" {
			segs = append(segs, ";"+k+"="+tags.vals[k])
		}
	}
	sort.Strings(segs)
	tags.set("name", name)
	return name + strings.Join(segs, ""), tags.keys, nil
}

// tagValidate is TaggedSeries.validateTagAndValue.
func tagValidate(tag, value string) error {
	if tag == "" {
		return tagExc("Tag may not be empty")
	}
	if value == "" {
		return tagExc(`Value for tag "` + tag + `" may not be empty`)
	}
	for _, c := range ";!^=" {
		if strings.ContainsRune(tag, c) {
			return tagExc(`Character "` + string(c) + `" is not allowed in tag "` + tag + `"`)
		}
	}
	if strings.Contains(value, ";") {
		return tagExc(`Character ";" is not allowed in value "` + value + `" of tag ` + tag)
	}
	if value[0] == '~' {
		return tagExc(`Tag values are not allowed to start with "~" in tag "` + tag + `"`)
	}
	return nil
}

// tagPyInt is Python's int(s) for a base-10 literal, with its error message.
func tagPyInt(s string) (int, error) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	n := 0
	ok := t != ""
	for i := 0; ok && i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			if n < 1<<40 {
				n = n*10 + int(c-'0')
			}
		case c == '_' && i > 0 && i+1 < len(t) && t[i-1] != '_' && t[i+1] >= '0' && t[i+1] <= '9':
		default:
			ok = false
		}
	}
	if !ok {
		return 0, &pyTagError{400, "invalid literal for int() with base 10: " + tagStrRepr(s)}
	}
	if neg {
		n = -n
	}
	return n, nil
}

// tagStrRepr is Python's repr() of a str (ASCII control bytes escaped).
func tagStrRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	b := []byte{q}
	for _, r := range s {
		switch {
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == rune(q):
			b = append(b, '\\', q)
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || r == 0x7f:
			const hx = "0123456789abcdef"
			b = append(b, '\\', 'x', hx[r>>4], hx[r&15])
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, q))
}
