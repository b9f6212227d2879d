package aggregator

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Method is an aggregation function.
type Method uint8

// Aggregation methods of carbon 1.1.
const (
	Sum Method = iota
	Avg
	Min
	Max
	Count
	P50
	P75
	P80
	P90
	P95
	P99
	P999
)

var methodNames = [...]string{"sum", "avg", "min", "max", "count", "p50", "p75", "p80", "p90", "p95", "p99", "p999"}
var percentileFactor = [...]float64{P50: 0.50, P75: 0.75, P80: 0.80, P90: 0.90, P95: 0.95, P99: 0.99, P999: 0.999}

func (m Method) String() string { return methodNames[m] }

// ParseMethod returns the method with carbon's name s.
func ParseMethod(s string) (Method, bool) {
	for i, n := range methodNames {
		if n == s {
			return Method(i), true
		}
	}
	return 0, false
}

// NeedsValues reports whether the method needs every value (percentiles).
func (m Method) NeedsValues() bool { return m >= P50 }

// Rule is one aggregation rule.
type Rule struct {
	Output    string // output template, e.g. "prod.applications.<app>.all.requests"
	Frequency int64  // seconds
	Method    Method
	Input     string // input pattern as written
	Line      int    // 1-based line in the file, 0 if not from a file

	re     *regexp.Regexp
	tmpl   []tmplPart
	fields []string
}

type tmplPart struct {
	lit   string
	group int // capture index; -1 for a literal
}

// Rules is a parsed aggregation-rules.conf.
type Rules struct {
	Rules []*Rule
	// ForwardAll is carbon's FORWARD_ALL: also store the raw inputs of
	// matched metrics (unmatched metrics are always stored).
	ForwardAll bool
	// MaxIntervals is carbon's MAX_AGGREGATION_INTERVALS (default 5).
	MaxIntervals int64
}

// DefaultMaxIntervals is carbon's MAX_AGGREGATION_INTERVALS default.
const DefaultMaxIntervals = 5

// maxRuleLine bounds one rule line; longer lines are an error.
const maxRuleLine = 64 << 10

// ParseFile reads an aggregation-rules.conf file.
func ParseFile(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading aggregation rules %q: %w", path, err)
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parsing aggregation rules %q: %w", path, err)
	}
	return r, nil
}

// Parse reads aggregation rules. Like carbon, any invalid line fails the
// whole file.
func Parse(in io.Reader) (*Rules, error) {
	rs := &Rules{MaxIntervals: DefaultMaxIntervals}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 4096), maxRuleLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		r, err := ParseRule(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		r.Line = n
		rs.Rules = append(rs.Rules, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return rs, nil
}

// ParseRule parses one rule line.
func ParseRule(line string) (*Rule, error) {
	left, right, ok := strings.Cut(line, "=")
	if !ok {
		return nil, fmt.Errorf("rule %q: missing '='", line)
	}
	lf, rf := strings.Fields(left), strings.Fields(right)
	if len(lf) != 2 || len(rf) != 2 {
		return nil, fmt.Errorf("rule %q: want 'output (frequency) = method input'", line)
	}
	fs := strings.TrimRight(strings.TrimLeft(lf[1], "("), ")")
	freq, err := strconv.ParseInt(fs, 10, 64)
	if err != nil || freq <= 0 || freq > 1<<31 {
		return nil, fmt.Errorf("rule %q: bad frequency %q", line, lf[1])
	}
	m, ok := ParseMethod(rf[0])
	if !ok {
		return nil, fmt.Errorf("rule %q: invalid aggregation method %q", line, rf[0])
	}
	r := &Rule{Output: lf[0], Frequency: freq, Method: m, Input: rf[1]}
	if err := r.compile(); err != nil {
		return nil, fmt.Errorf("rule %q: %w", line, err)
	}
	return r, nil
}

// Regexp returns the compiled input pattern (a Go translation of carbon's).
func (r *Rule) Regexp() *regexp.Regexp { return r.re }

func (r *Rule) compile() error {
	var parts []string
	for _, node := range strings.Split(r.Input, ".") {
		i, j := strings.Index(node, "<<"), strings.Index(node, ">>")
		if i >= 0 && j >= 0 {
			// carbon uses find() for both, so j may precede i: the field
			// name is then an empty/odd slice and the regex fails, as there.
			if j < i+2 {
				return fmt.Errorf("malformed field in node %q", node)
			}
			parts = append(parts, node[:i]+"(?P<"+node[i+2:j]+">.+?)"+node[j+2:])
			continue
		}
		i, j = strings.Index(node, "<"), strings.Index(node, ">")
		switch {
		case i > -1 && j > i:
			parts = append(parts, node[:i]+"(?P<"+node[i+1:j]+">[^.]+?)"+node[j+1:])
		case node == "*":
			parts = append(parts, "[^.]+")
		default:
			parts = append(parts, strings.ReplaceAll(node, "*", "[^.]*"))
		}
	}
	// Python's re.match anchors at the start of every alternative; carbon
	// appends '$'.
	re, err := regexp.Compile(`^(?:` + strings.Join(parts, `\.`) + `$)`)
	if err != nil {
		return fmt.Errorf("input pattern %q: %w", r.Input, err)
	}
	r.re = re
	r.fields = re.SubexpNames()
	// Output template: <field> (or <<field>>) is replaced by the capture.
	out := r.Output
	for len(out) > 0 {
		i := strings.IndexByte(out, '<')
		if i < 0 {
			r.tmpl = append(r.tmpl, tmplPart{lit: out, group: -1})
			break
		}
		j := strings.IndexByte(out[i:], '>')
		if j < 0 {
			return fmt.Errorf("output template %q: unclosed '<'", r.Output)
		}
		j += i
		if i > 0 {
			r.tmpl = append(r.tmpl, tmplPart{lit: out[:i], group: -1})
		}
		name := out[i+1 : j]
		end := j + 1
		if strings.HasPrefix(name, "<") && strings.HasPrefix(out[end:], ">") {
			name = name[1:]
			end++
		}
		g := re.SubexpIndex(name)
		if name == "" || g < 0 {
			return fmt.Errorf("output template %q: field %q is not captured by %q", r.Output, name, r.Input)
		}
		r.tmpl = append(r.tmpl, tmplPart{group: g})
		out = out[end:]
	}
	return nil
}

// AppendOutput appends the output name for input to dst when the rule
// matches, reporting whether it did.
func (r *Rule) AppendOutput(dst []byte, input []byte) ([]byte, bool) {
	loc := r.re.FindSubmatchIndex(input)
	if loc == nil {
		return dst, false
	}
	for _, p := range r.tmpl {
		if p.group < 0 {
			dst = append(dst, p.lit...)
			continue
		}
		if s := loc[2*p.group]; s >= 0 {
			dst = append(dst, input[s:loc[2*p.group+1]]...)
		}
	}
	return dst, true
}

// aggregate computes the method over an interval buffer, exactly as carbon's
// functions do. It reports false for a percentile over a buffer whose
// values were not kept.
func (m Method) aggregate(a *acc) (float64, bool) {
	switch m {
	case Sum:
		return a.sum, true
	case Avg:
		return a.sum / float64(a.n), true
	case Min:
		return a.min, true
	case Max:
		return a.max, true
	case Count:
		return float64(a.n), true
	}
	vals := a.vals
	if len(vals) == 0 {
		return 0, false
	}
	sort.Float64s(vals)
	rank := percentileFactor[m] * float64(len(vals)-1)
	l, r := math.Floor(rank), math.Ceil(rank)
	if l == r {
		return vals[int(l)], true
	}
	return vals[int(l)]*(r-rank) + vals[int(r)]*(rank-l), true
}
