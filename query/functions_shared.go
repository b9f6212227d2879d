package query

// Helpers used by functions of several groups: grouping keys from nodes and
// tags, sorting by an aggregate, renaming by path nodes, the common
// seriesList parameter.

import (
	"math"
	"sort"
	"strings"

	"github.com/plumbago/plumbago/query/attime"
	"github.com/plumbago/plumbago/query/target"
)

// aggKey is graphite-web's aggKey(): the chosen nodes (ints index the
// metric path, taken from inside a function-wrapped name; anything else
// names a tag) joined by dots.
func aggKey(s *Series, nodes []Value) string {
	path := ""
	if strings.HasSuffix(s.Name, ")") {
		if n, err := target.ParsePrefix(s.Name); err == nil {
			path = target.FirstPath(n)
		}
	}
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = nodeOrTag(s, n, path)
	}
	return strings.Join(parts, ".")
}

// groupByAggKey groups list by aggKey, the keys in the order first seen.
func groupByAggKey(list []*Series, nodes []Value) (keys []string, groups map[string][]*Series) {
	groups = map[string][]*Series{}
	for _, s := range list {
		k := aggKey(s, nodes)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	return keys, groups
}

// nodeOrTag is graphite-web's getNodeOrTag().
func nodeOrTag(s *Series, n Value, path string) string {
	if n.Kind == ValNumber && n.IsInt {
		p := path
		if p == "" {
			p = s.Name
		}
		p, _, _ = strings.Cut(p, ";")
		elems := strings.Split(p, ".")
		i := int(n.Num)
		if i < 0 {
			i += len(elems)
		}
		if i >= 0 && i < len(elems) {
			return elems[i]
		}
	}
	v, _ := s.Tags.Get(n.PyStr())
	return v
}

// intervalSeconds is graphite-web's delta.seconds + delta.days*86400 for
// parseTimeOffset(s).
func intervalSeconds(s string) (int64, error) {
	d, err := attime.Offset(s)
	if err != nil {
		return 0, inputErrorf("invalid interval %q: %v", s, err)
	}
	return int64(d.Seconds()), nil
}

// aggKeyValue is graphite-web's keyFunc(aggFunc)(series): None sorts as -inf.
func aggKeyValue(s *Series, agg AggFunc) float64 {
	v := agg(s.Consolidated())
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	return v
}

// sortByAgg is Python's stable list.sort(key=keyFunc(agg), reverse=rev).
func sortByAgg(list []*Series, agg AggFunc, rev bool) {
	keys := make(map[*Series]float64, len(list))
	for _, s := range list {
		keys[s] = aggKeyValue(s, agg)
	}
	sort.SliceStable(list, func(i, j int) bool {
		if rev {
			return keys[list[i]] > keys[list[j]]
		}
		return keys[list[i]] < keys[list[j]]
	})
}

// substr is graphite-web's substr: the name inside the innermost
// parentheses, split on dots and sliced [start:stop] (stop 0 = to the
// end), cut at the first comma.
func substr(list []*Series, start, stop int) []*Series {
	for _, s := range list {
		name := s.Name
		left := strings.LastIndexByte(name, '(') + 1
		right := strings.IndexByte(name, ')')
		if right < 0 {
			right = len(name) + 1
		}
		clean := ""
		if r := min(right, len(name)); left < r {
			clean = name[left:r]
		}
		parts := strings.Split(clean, ".")
		lo, hi := pySliceBounds(len(parts), start, stop, stop == 0)
		n := ""
		if lo < hi {
			n = strings.Join(parts[lo:hi], ".")
		}
		if i := strings.IndexByte(n, ','); i >= 0 {
			n = n[:i]
		}
		s.Name = n
	}
	return list
}

// shortFormOf is the metadata of an alias: the full function's, described
// as its short form.
func shortFormOf(full string, m FuncMeta) FuncMeta {
	m.Description = "Short form of " + full + "."
	return m
}

func seriesListParam() Param { return Param{Name: "seriesList", Type: TypeSeriesList, Required: true} }
