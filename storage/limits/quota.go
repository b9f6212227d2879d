package limits

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
)

// maxQuotaRules bounds the sections of a quota file, maxPatternSegments the
// depth of a section pattern and maxQuotaLine a line.
const (
	maxQuotaRules      = 4096
	maxPatternSegments = 63
	maxQuotaLine       = 64 << 10
	maxBraceAlts       = 256
)

// Rule is one section of a quota file: the quotas of every namespace its
// pattern matches. A zero field is no quota; "max" is math.MaxInt64.
type Rule struct {
	// Pattern is the section name: "/" (the root: every series) or a
	// dot-separated glob whose segments match a namespace's first segments.
	Pattern string
	// Line is the section's line in the file.
	Line int
	// Metrics bounds the series of a namespace.
	Metrics int64
	// DataPoints bounds the retained points of a namespace's series (each
	// series' archives by its schema).
	DataPoints int64
	// LogicalSize bounds the bytes a namespace's series take as whisper
	// files (header and every archive).
	LogicalSize int64
	// PhysicalSize bounds the bytes a namespace's series take on disk.
	PhysicalSize int64
	// Throughput bounds the points a namespace takes per throughput window.
	Throughput int64
	// Observe is dropping-policy = none: count and report, reject nothing.
	Observe bool

	depth int        // segments of Pattern; 0 for "/"
	segs  [][]string // per segment, its brace alternatives
}

// Warning is a key of a quota file that has no effect here.
type Warning struct {
	Line       int
	Key, Value string
	Why        string
}

// ParseQuotas reads a quota file in go-carbon's syntax (storage-quotas.conf):
// INI sections named by a pattern, keys metrics, data-points, logical-size,
// physical-size, throughput (numbers, commas allowed, "max" = no limit),
// dropping-policy (new or none). namespaces and stat-metric-prefix are
// reported as warnings. Errors name the line.
func ParseQuotas(r io.Reader) ([]Rule, []Warning, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxQuotaLine)
	var rules []Rule
	var warns []Warning
	var cur *Rule
	seen := map[string]bool{}
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if line[len(line)-1] != ']' {
				return nil, nil, fmt.Errorf("line %d: section header %q has no closing ]", ln, line)
			}
			if len(rules) >= maxQuotaRules {
				return nil, nil, fmt.Errorf("line %d: more than %d sections", ln, maxQuotaRules)
			}
			pat := strings.TrimSpace(line[1 : len(line)-1])
			rule, err := compileRule(pat)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: %w", ln, err)
			}
			if seen[pat] {
				return nil, nil, fmt.Errorf("line %d: section [%s] appears twice", ln, pat)
			}
			seen[pat] = true
			rule.Line = ln
			rules = append(rules, rule)
			cur = &rules[len(rules)-1]
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, nil, fmt.Errorf("line %d: %q is neither a [section] nor key = value", ln, line)
		}
		if cur == nil {
			return nil, nil, fmt.Errorf("line %d: key before the first [section]", ln)
		}
		k = strings.TrimSpace(k)
		v = strings.Trim(strings.TrimSpace(v), `"`)
		var dst *int64
		switch k {
		case "metrics":
			dst = &cur.Metrics
		case "data-points":
			dst = &cur.DataPoints
		case "logical-size":
			dst = &cur.LogicalSize
		case "physical-size":
			dst = &cur.PhysicalSize
		case "throughput":
			dst = &cur.Throughput
		case "dropping-policy":
			switch v {
			case "", "new":
				cur.Observe = false
			case "none":
				cur.Observe = true
			default:
				return nil, nil, fmt.Errorf("line %d: dropping-policy %q: want new or none", ln, v)
			}
			continue
		case "namespaces", "stat-metric-prefix":
			warns = append(warns, Warning{Line: ln, Key: k, Value: v, Why: "not supported here: no effect (quota usage is in /metrics as plumbago_quota_usage)"})
			continue
		default:
			return nil, nil, fmt.Errorf("line %d: unknown key %q (want metrics, data-points, logical-size, physical-size, throughput or dropping-policy)", ln, k)
		}
		n, err := parseQuotaNumber(v)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %s: %w", ln, k, err)
		}
		*dst = n
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading quota file: %w", err)
	}
	return rules, warns, nil
}

// parseQuotaNumber reads go-carbon's numbers: digits with optional commas,
// "max"/"maximum" for no limit, "" for no quota.
func parseQuotaNumber(v string) (int64, error) {
	switch v {
	case "":
		return 0, nil
	case "max", "maximum":
		return math.MaxInt64, nil
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v, ",", ""), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer or max", v)
	}
	if n == 0 {
		// go-carbon treats an empty value as no quota; 0 is a quota of
		// nothing, kept as such (one below any usage).
		return -1, nil
	}
	return n, nil
}

// compileRule checks a section pattern and splits it into segments.
func compileRule(pat string) (Rule, error) {
	r := Rule{Pattern: pat}
	if pat == "/" {
		return r, nil
	}
	if pat == "" || strings.HasPrefix(pat, ".") || strings.HasSuffix(pat, ".") || strings.Contains(pat, "..") {
		return r, fmt.Errorf("section [%s]: want / or a dot-separated glob", pat)
	}
	parts := strings.Split(pat, ".")
	if len(parts) > maxPatternSegments {
		return r, fmt.Errorf("section [%s]: more than %d segments", pat, maxPatternSegments)
	}
	for _, p := range parts {
		alts, err := expandBraces(p)
		if err != nil {
			return r, fmt.Errorf("section [%s]: %w", pat, err)
		}
		for _, a := range alts {
			if _, err := path.Match(a, ""); err != nil {
				return r, fmt.Errorf("section [%s]: segment %q: %w", pat, p, err)
			}
		}
		r.segs = append(r.segs, alts)
	}
	r.depth = len(parts)
	return r, nil
}

// expandBraces expands one level of {a,b} alternatives (Graphite globs do
// not nest them).
func expandBraces(s string) ([]string, error) {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		if strings.IndexByte(s, '}') >= 0 {
			return nil, fmt.Errorf("segment %q: } without {", s)
		}
		return []string{s}, nil
	}
	j := strings.IndexByte(s[i:], '}')
	if j < 0 {
		return nil, fmt.Errorf("segment %q: { without }", s)
	}
	j += i
	rest, err := expandBraces(s[j+1:])
	if err != nil {
		return nil, err
	}
	var out []string
	for _, alt := range strings.Split(s[i+1:j], ",") {
		if strings.IndexByte(alt, '{') >= 0 {
			return nil, fmt.Errorf("segment %q: nested braces", s)
		}
		for _, r := range rest {
			out = append(out, s[:i]+alt+r)
			if len(out) > maxBraceAlts {
				return nil, fmt.Errorf("segment %q: more than %d alternatives", s, maxBraceAlts)
			}
		}
	}
	return out, nil
}

// namespaceOf returns the namespace of name that r governs: its first
// r.depth segments, when name has more segments than that and they match;
// "/" for the root rule. It does not allocate.
func (r *Rule) namespaceOf(name string) (string, bool) {
	if r.depth == 0 {
		return "/", true
	}
	pos := 0
	for i := 0; i < r.depth; i++ {
		end := strings.IndexByte(name[pos:], '.')
		if end < 0 {
			return "", false // the leaf itself is no namespace
		}
		seg := name[pos : pos+end]
		if !matchAny(r.segs[i], seg) {
			return "", false
		}
		pos += end + 1
	}
	return name[:pos-1], true
}

func matchAny(alts []string, seg string) bool {
	for _, a := range alts {
		if ok, _ := path.Match(a, seg); ok {
			return true
		}
	}
	return false
}
