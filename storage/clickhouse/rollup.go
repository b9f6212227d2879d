package clickhouse

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/plumbago/plumbago/storage/schema"
)

// RollupSection is the default name of the graphite_rollup section the
// DDL's GraphiteMergeTree tables refer to in the server's config.xml.
const RollupSection = "graphite_rollup"

// clickhouseFunc is the aggregate function GraphiteMergeTree rolls a
// whisper method up with at merge time. avg_zero, absmax and absmin have
// no ClickHouse aggregate of one argument with their meaning: avg, max and
// min stand in (docs/clickhouse.md, "Rollup"); Fetch still applies the
// whisper method to rows not merged yet.
func clickhouseFunc(m schema.Method) string {
	switch m {
	case schema.Sum:
		return "sum"
	case schema.Last:
		return "anyLast"
	case schema.Max, schema.AbsMax:
		return "max"
	case schema.Min, schema.AbsMin:
		return "min"
	default:
		return "avg"
	}
}

// catchAll reports whether a schema pattern matches every name.
func catchAll(re *regexp.Regexp) bool {
	switch re.String() {
	case ".*", "^.*", "^.*$", ".*$", "", ".", "^", "(?s).*":
		return true
	}
	return false
}

// topLevelAlt reports whether s has a | outside every group.
func topLevelAlt(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
		case '|':
			if depth == 0 {
				return true
			}
		}
	}
	return false
}

// literalPrefix returns p when re is exactly ^ and the literal p.
func literalPrefix(re *regexp.Regexp) (string, bool) {
	s := re.String()
	if !strings.HasPrefix(s, "^") {
		return "", false
	}
	lit, err := regexp.Compile(s[1:])
	if err != nil {
		return "", false
	}
	p, complete := lit.LiteralPrefix()
	return p, complete
}

// prefixOnly reports whether re is anchored at the start only, with no
// alternation at its top: "^stats\." and the like.
func prefixOnly(s string) bool {
	return strings.HasPrefix(s, "^") && !strings.HasSuffix(s, "$") && !topLevelAlt(s)
}

// suffixOnly reports whether re is anchored at the end only: "\.count$".
func suffixOnly(s string) bool {
	return strings.HasSuffix(s, "$") && !strings.HasPrefix(s, "^") && !topLevelAlt(s)
}

// rollupPattern is one <pattern> (or the <default>) of graphite_rollup.
type rollupPattern struct {
	regexp   string // empty for <default>
	function string
	rets     []schema.Retention
	comment  string
}

// conjoin returns a regexp matching what both a schema pattern and an
// aggregation pattern match, when it can be written without lookahead
// (ClickHouse's re2 has none): one of them matches everything, both are
// literal prefixes (the longer, or nothing when neither extends the
// other: empty is true), or the schema is anchored at the start and the
// aggregation at the end.
func conjoin(s, a *regexp.Regexp) (re string, ok bool) {
	ps, oks := literalPrefix(s)
	pa, oka := literalPrefix(a)
	switch {
	case oks && oka && strings.HasPrefix(ps, pa):
		return s.String(), true
	case oks && oka && strings.HasPrefix(pa, ps):
		return a.String(), true
	case oks && oka:
		return "", true // no name matches both
	}
	switch {
	case catchAll(a):
		return s.String(), true
	case catchAll(s):
		return a.String(), true
	case prefixOnly(s.String()) && suffixOnly(a.String()):
		return "(?:" + s.String() + ").*(?:" + strings.TrimSuffix(a.String(), "$") + ")$", true
	}
	return "", false
}

// rollupPatterns turns the two carbon files into graphite_rollup's first
// match list. ClickHouse 18.16 needs a function and retentions in every
// pattern, so each (schema, aggregation) pair becomes a pattern, in
// carbon's order of precedence: aggregation sections first (the finer
// rule), schemas within them. A pair whose conjunction re2 cannot express
// is left out with a comment saying so.
func rollupPatterns(rules *schema.Rules) []rollupPattern {
	var out []rollupPattern
	var defRets []schema.Retention
	for _, s := range rules.Schemas {
		if catchAll(s.Pattern) {
			defRets = s.Retentions
			break
		}
	}
	defFunc := clickhouseFunc(schema.DefaultMethod)
	for _, a := range rules.Aggregations {
		if catchAll(a.Pattern) {
			defFunc = clickhouseFunc(a.Method)
			break
		}
	}
	for _, a := range rules.Aggregations {
		for _, s := range rules.Schemas {
			if catchAll(a.Pattern) && catchAll(s.Pattern) {
				continue // the <default>
			}
			re, ok := conjoin(s.Pattern, a.Pattern)
			if ok && re == "" {
				continue
			}
			if !ok {
				out = append(out, rollupPattern{comment: fmt.Sprintf("schema [%s] and aggregation [%s] cannot be combined in one re2 pattern; names they both match roll up by a later pattern", s.Name, a.Name)})
				continue
			}
			out = append(out, rollupPattern{regexp: re, function: clickhouseFunc(a.Method), rets: s.Retentions,
				comment: fmt.Sprintf("schema [%s], aggregation [%s] (%s)", s.Name, a.Name, a.Method)})
		}
		if catchAll(a.Pattern) {
			break // later sections never match
		}
	}
	// Names no aggregation section matches roll up with whisper's default.
	for _, s := range rules.Schemas {
		if catchAll(s.Pattern) {
			break
		}
		out = append(out, rollupPattern{regexp: s.Pattern.String(), function: defFunc, rets: s.Retentions,
			comment: fmt.Sprintf("schema [%s], default aggregation", s.Name)})
	}
	if defRets != nil {
		out = append(out, rollupPattern{function: defFunc, rets: defRets, comment: "default"})
	}
	return out
}

// RollupXML returns the graphite_rollup section for the server's
// config.xml (or a file in config.d) that makes GraphiteMergeTree keep
// what the schemas keep: the finest step from age 0, each coarser step
// from the age where whisper's finer archive ends. Columns are carbon-
// clickhouse's: Path, Time, Value, and Timestamp as the version.
func RollupXML(rules *schema.Rules, section string) string {
	if section == "" {
		section = RollupSection
	}
	var b strings.Builder
	b.WriteString("<yandex>\n  <" + section + ">\n")
	b.WriteString("    <path_column_name>Path</path_column_name>\n")
	b.WriteString("    <time_column_name>Time</time_column_name>\n")
	b.WriteString("    <value_column_name>Value</value_column_name>\n")
	b.WriteString("    <version_column_name>Timestamp</version_column_name>\n")
	for _, p := range rollupPatterns(rules) {
		if p.comment != "" {
			fmt.Fprintf(&b, "    <!-- %s -->\n", xmlComment(p.comment))
		}
		if p.function == "" {
			continue
		}
		tag := "pattern"
		if p.regexp == "" {
			tag = "default"
		}
		fmt.Fprintf(&b, "    <%s>\n", tag)
		if p.regexp != "" {
			fmt.Fprintf(&b, "      <regexp>%s</regexp>\n", xmlText(p.regexp))
		}
		fmt.Fprintf(&b, "      <function>%s</function>\n", p.function)
		age := int64(0)
		for i, r := range p.rets {
			if i > 0 {
				age = p.rets[i-1].MaxRetention()
			}
			fmt.Fprintf(&b, "      <retention><age>%d</age><precision>%d</precision></retention>\n", age, r.SecondsPerPoint)
		}
		fmt.Fprintf(&b, "    </%s>\n", tag)
	}
	b.WriteString("  </" + section + ">\n</yandex>\n")
	return b.String()
}

func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func xmlComment(s string) string { return strings.ReplaceAll(s, "--", "- -") }
