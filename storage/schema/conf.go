package schema

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Schema is one section of storage-schemas.conf.
type Schema struct {
	Name    string
	Pattern *regexp.Regexp
	// Retentions are sorted finest first (whisper's archive order) and valid
	// per ValidateRetentions.
	Retentions []Retention
}

// Aggregation is one section of storage-aggregation.conf.
type Aggregation struct {
	Name         string
	Pattern      *regexp.Regexp
	Method       Method
	XFilesFactor float64
}

// Whisper's defaults when a key (or the whole match) is missing.
const (
	DefaultMethod       = Average
	DefaultXFilesFactor = 0.5
)

// Rules is a loaded pair of configuration files. A running server swaps
// in re-read files with Replace (they apply to series created afterwards);
// Match may run meanwhile. Read the fields directly only where no Replace
// can run (start-up, check-config, tests).
type Rules struct {
	Schemas      []Schema
	Aggregations []Aggregation
	mu           sync.RWMutex
}

// Replace makes n's schemas and aggregations the ones Match uses from now
// on. n is not used afterwards.
func (r *Rules) Replace(n *Rules) {
	n.mu.RLock()
	s, a := n.Schemas, n.Aggregations
	n.mu.RUnlock()
	r.mu.Lock()
	r.Schemas, r.Aggregations = s, a
	r.mu.Unlock()
}

// Bounds on configuration input.
const (
	maxConfigBytes = 4 << 20
	maxSections    = 10000
	maxLineLen     = 64 << 10
)

type section struct {
	name string
	line int
	keys map[string]string
}

// parseINI reads the subset of Python's configparser that carbon's files use:
// [section] headers, "key = value" or "key: value" options (keys are
// case-insensitive), full-line comments starting with # or ;, indented
// continuation lines, and "%%" as an escaped "%". [DEFAULT] supplies keys to
// every other section and is not a rule itself.
func parseINI(r io.Reader) ([]section, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxConfigBytes+1))
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	var (
		secs     []section
		defaults = map[string]string{}
		cur      map[string]string
		lastKey  string
		total    int
		seen     = map[string]bool{}
		lineNo   int
	)
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		total += len(raw) + 1
		if total > maxConfigBytes {
			return nil, fmt.Errorf("config larger than %d bytes", maxConfigBytes)
		}
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			if trimmed == "" {
				lastKey = ""
			}
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' {
			if cur != nil && lastKey != "" {
				cur[lastKey] += "\n" + trimmed
				continue
			}
		}
		if trimmed[0] == '[' {
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fmt.Errorf("line %d: malformed section header %q", lineNo, trimmed)
			}
			name := trimmed[1 : len(trimmed)-1]
			if name == "DEFAULT" {
				cur, lastKey = defaults, ""
				continue
			}
			if seen[name] {
				return nil, fmt.Errorf("line %d: duplicate section [%s]", lineNo, name)
			}
			if len(secs) >= maxSections {
				return nil, fmt.Errorf("line %d: more than %d sections", lineNo, maxSections)
			}
			seen[name] = true
			secs = append(secs, section{name: name, line: lineNo, keys: map[string]string{}})
			cur, lastKey = secs[len(secs)-1].keys, ""
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: option outside a section: %q", lineNo, trimmed)
		}
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("line %d: want key = value, got %q", lineNo, trimmed)
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:i]))
		if _, dup := cur[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate option %q", lineNo, key)
		}
		cur[key] = strings.TrimSpace(trimmed[i+1:])
		lastKey = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	for i := range secs {
		for k, v := range defaults {
			if _, ok := secs[i].keys[k]; !ok {
				secs[i].keys[k] = v
			}
		}
		for k, v := range secs[i].keys {
			u, err := unescapePercent(v)
			if err != nil {
				return nil, fmt.Errorf("section [%s] option %s: %w", secs[i].name, k, err)
			}
			secs[i].keys[k] = u
		}
	}
	return secs, nil
}

// unescapePercent applies configparser's basic interpolation for the only
// form a literal value needs: "%%" is "%". Other uses of % are errors there
// and here (interpolation of other keys is not supported).
func unescapePercent(v string) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 < len(v) && v[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		return "", fmt.Errorf("value %q: '%%' must be written '%%%%' (interpolation is not supported)", v)
	}
	return b.String(), nil
}

// ParseSchemas reads storage-schemas.conf. Every section needs pattern and
// retentions; unlike carbon, which logs and skips a section that lacks one or
// whose retentions whisper would reject, this returns an error naming it.
func ParseSchemas(r io.Reader) ([]Schema, error) {
	secs, err := parseINI(r)
	if err != nil {
		return nil, fmt.Errorf("parsing storage schemas: %w", err)
	}
	out := make([]Schema, 0, len(secs))
	for _, s := range secs {
		pat, ok := s.keys["pattern"]
		if !ok || pat == "" {
			return nil, fmt.Errorf("parsing storage schemas: section [%s]: missing pattern", s.name)
		}
		ret, ok := s.keys["retentions"]
		if !ok {
			return nil, fmt.Errorf("parsing storage schemas: section [%s]: missing retentions", s.name)
		}
		re, err := CompilePattern(pat)
		if err != nil {
			return nil, fmt.Errorf("parsing storage schemas: section [%s]: %w", s.name, err)
		}
		rs, err := ParseRetentions(ret)
		if err != nil {
			return nil, fmt.Errorf("parsing storage schemas: section [%s]: %w", s.name, err)
		}
		SortRetentions(rs)
		if err := ValidateRetentions(rs); err != nil {
			return nil, fmt.Errorf("parsing storage schemas: section [%s]: %w", s.name, err)
		}
		out = append(out, Schema{Name: s.name, Pattern: re, Retentions: rs})
	}
	return out, nil
}

// ParseAggregations reads storage-aggregation.conf. A section needs pattern;
// aggregationMethod and xFilesFactor default to whisper's average and 0.5
// each when missing, as in carbon.
func ParseAggregations(r io.Reader) ([]Aggregation, error) {
	secs, err := parseINI(r)
	if err != nil {
		return nil, fmt.Errorf("parsing storage aggregation: %w", err)
	}
	out := make([]Aggregation, 0, len(secs))
	for _, s := range secs {
		pat, ok := s.keys["pattern"]
		if !ok || pat == "" {
			return nil, fmt.Errorf("parsing storage aggregation: section [%s]: missing pattern", s.name)
		}
		re, err := CompilePattern(pat)
		if err != nil {
			return nil, fmt.Errorf("parsing storage aggregation: section [%s]: %w", s.name, err)
		}
		a := Aggregation{Name: s.name, Pattern: re, Method: DefaultMethod, XFilesFactor: DefaultXFilesFactor}
		if v, ok := s.keys["aggregationmethod"]; ok {
			if a.Method, err = ParseMethod(v); err != nil {
				return nil, fmt.Errorf("parsing storage aggregation: section [%s]: %w", s.name, err)
			}
		}
		if v, ok := s.keys["xfilesfactor"]; ok {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(x >= 0 && x <= 1) {
				return nil, fmt.Errorf("parsing storage aggregation: section [%s]: xFilesFactor %q: want a number from 0 to 1", s.name, v)
			}
			// whisper stores xFilesFactor as a float32; keep what the file will hold.
			a.XFilesFactor = float64(float32(x))
		}
		out = append(out, a)
	}
	return out, nil
}

// Load reads both files; an empty path selects the built-in default for that
// file.
func Load(schemasPath, aggregationPath string) (*Rules, error) {
	def := Default()
	r := &Rules{Schemas: def.Schemas, Aggregations: def.Aggregations}
	if schemasPath != "" {
		f, err := os.Open(schemasPath)
		if err != nil {
			return nil, fmt.Errorf("loading storage schemas %q: %w", schemasPath, err)
		}
		r.Schemas, err = ParseSchemas(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("loading %q: %w", schemasPath, err)
		}
	}
	if aggregationPath != "" {
		f, err := os.Open(aggregationPath)
		if err != nil {
			return nil, fmt.Errorf("loading storage aggregation %q: %w", aggregationPath, err)
		}
		r.Aggregations, err = ParseAggregations(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("loading %q: %w", aggregationPath, err)
		}
	}
	return r, nil
}

// DefaultSchemasConf is the built-in storage-schemas.conf. It keeps statsd's
// 10 s flush resolution for six hours, then minutely data for a week, then
// hourly data for five years (56,040 points, 672,532 bytes per file).
// Plumbago's own carbon.* metrics keep minutely data for 90 days.
const DefaultSchemasConf = `# Built-in Plumbago storage schemas (carbon syntax).
[carbon]
pattern = ^carbon\.
retentions = 10s:6h,1m:90d

[default]
pattern = .*
retentions = 10s:6h,1m:7d,1h:5y
`

// DefaultAggregationConf is the built-in storage-aggregation.conf, tuned for
// statsd's output names (etsy statsd's graphite backend).
const DefaultAggregationConf = `# Built-in Plumbago storage aggregation (carbon syntax).
[stats_counts]
pattern = ^stats_counts\.
xFilesFactor = 0
aggregationMethod = sum

[min]
pattern = \.(min|lower)$
xFilesFactor = 0.1
aggregationMethod = min

[max]
pattern = \.(max|upper(_\d+)?)$
xFilesFactor = 0.1
aggregationMethod = max

[sum]
pattern = \.(count|sum)(_\d+)?$
xFilesFactor = 0
aggregationMethod = sum

[default]
pattern = .*
xFilesFactor = 0.5
aggregationMethod = average
`

// Default returns the built-in rules (DefaultSchemasConf and
// DefaultAggregationConf).
func Default() *Rules {
	s, err := ParseSchemas(strings.NewReader(DefaultSchemasConf))
	if err != nil {
		panic("BUG: built-in storage schemas: " + err.Error())
	}
	a, err := ParseAggregations(strings.NewReader(DefaultAggregationConf))
	if err != nil {
		panic("BUG: built-in storage aggregation: " + err.Error())
	}
	return &Rules{Schemas: s, Aggregations: a}
}

// ErrNoSchema is returned by Match when no schema pattern matches a name.
var ErrNoSchema = errors.New("no storage schema matched")

// patternMatches reports whether re matches name, answering the catch-all
// patterns of the stock configurations (".*" and the like: an unanchored
// search for them matches every string, empty at worst) without running
// the regexp. Every new series is matched; a server fed a million of them
// spent 2 % of its CPU in these regexps.
func patternMatches(re *regexp.Regexp, name string) bool {
	switch re.String() {
	case "", "^", ".*", "^.*", ".*$":
		return true
	}
	return re.MatchString(name)
}

// Match returns the first schema and the first aggregation whose patterns
// match name (regexp search, as carbon). No matching schema is ErrNoSchema
// (wrapped); no matching aggregation yields whisper's default (average, 0.5)
// named "default".
func (r *Rules) Match(name string) (Schema, Aggregation, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	agg := Aggregation{Name: "default", Method: DefaultMethod, XFilesFactor: DefaultXFilesFactor}
	for _, a := range r.Aggregations {
		if patternMatches(a.Pattern, name) {
			agg = a
			break
		}
	}
	for _, s := range r.Schemas {
		if patternMatches(s.Pattern, name) {
			return s, agg, nil
		}
	}
	return Schema{}, agg, fmt.Errorf("matching %q: %w", name, ErrNoSchema)
}
