package query

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

func init() {
	// Combine
	for _, w := range []struct{ name, fn, desc string }{
		{"sumSeriesWithWildcards", "sum", "Sums the series that are equal once the given node positions are removed; results are named by the remaining nodes."},
		{"averageSeriesWithWildcards", "average", "Averages the series that are equal once the given node positions are removed."},
		{"multiplySeriesWithWildcards", "multiply", "Multiplies the series that are equal once the given node positions are removed."},
	} {
		fn := w.fn
		Register(w.name, func(e *Env, a *Args) ([]*Series, error) {
			return aggregateWithWildcards(e, a.SeriesList(0), fn, a.Multi(1))
		}, FuncMeta{Group: "Combine", Description: w.desc, Aggregator: true,
			Params: []Param{seriesListParam(), {Name: "position", Type: TypeNode, Multiple: true}}})
	}
	Register("aggregateWithWildcards", func(e *Env, a *Args) ([]*Series, error) {
		return aggregateWithWildcards(e, a.SeriesList(0), a.String(1, ""), a.Multi(2))
	}, FuncMeta{Group: "Combine", Description: "Aggregates with func the series that are equal once the given node positions are removed.",
		Params:    []Param{seriesListParam(), {Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()}, {Name: "position", Type: TypeNode, Multiple: true}},
		Signature: "seriesList, func, *positions"})
	Register("groupByTags", fnGroupByTags, FuncMeta{
		Group:       "Combine",
		Description: "Groups series by the values of the given tags and aggregates each group with callback; results are named name;tag=value;...",
		Params: []Param{
			seriesListParam(),
			{Name: "callback", Type: TypeAggOrSeriesFunc, Required: true, Options: AggFuncNames()},
			{Name: "tags", Type: TypeTag, Required: true, Multiple: true},
		},
	})
	Register("group", func(e *Env, a *Args) ([]*Series, error) {
		var out []*Series
		for _, l := range a.SeriesLists(0) {
			out = append(out, l...)
		}
		return out, nil
	}, FuncMeta{Group: "Combine", Description: "Concatenates series lists.", Params: []Param{{Name: "seriesLists", Type: TypeSeriesList, Multiple: true}}})

	// Filter Series / Special
	Register("unique", func(e *Env, a *Args) ([]*Series, error) {
		var out []*Series
		seen := map[string]bool{}
		for _, l := range a.SeriesLists(0) {
			for _, s := range l {
				if !seen[s.Name] {
					seen[s.Name] = true
					out = append(out, s)
				}
			}
		}
		return out, nil
	}, FuncMeta{Group: "Filter Series", Description: "Drops series whose name was already seen.", Params: []Param{{Name: "seriesLists", Type: TypeSeriesList, Required: true, Multiple: true}}})
	Register("fallbackSeries", func(e *Env, a *Args) ([]*Series, error) {
		if l := a.SeriesList(0); len(l) > 0 {
			return l, nil
		}
		return a.SeriesList(1), nil
	}, FuncMeta{Group: "Special", Description: "Returns fallback when seriesList is empty.", Params: []Param{seriesListParam(), {Name: "fallback", Type: TypeSeriesList, Required: true}}})
	Register("cumulative", func(e *Env, a *Args) ([]*Series, error) {
		list := a.SeriesList(0)
		for _, s := range list {
			s.ConsolidationFunc = "sum"
			s.Tags.Set("consolidateBy", "sum")
			s.Name = "consolidateBy(" + s.Name + ",\"sum\")"
			s.PathExpression = s.Name
		}
		return list, nil
	}, FuncMeta{Group: "Special", Description: "Same as consolidateBy(seriesList, 'sum').", Params: []Param{seriesListParam()}})
	Register("substr", func(e *Env, a *Args) ([]*Series, error) {
		return substr(a.SeriesList(0), a.Int(1, 0), a.Int(2, 0)), nil
	}, FuncMeta{Group: "Special", Description: "Renames each series to a slice of its path nodes (start, stop as Python slice bounds).",
		Params: []Param{seriesListParam(), {Name: "start", Type: TypeNode, Default: 0}, {Name: "stop", Type: TypeNode, Default: 0}}})

	// Alias
	Register("aliasByMetric", func(e *Env, a *Args) ([]*Series, error) {
		return substr(a.SeriesList(0), -1, 0), nil
	}, FuncMeta{Group: "Alias", Description: "Renames each series to the last node of its metric path.", Params: []Param{seriesListParam()}})
	Register("aliasByTags", fnAliasByNode, FuncMeta{
		Group:       "Alias",
		Description: "Renames each series to the values of the given tags (or path nodes for integers) joined by dots.",
		Params:      []Param{seriesListParam(), {Name: "tags", Type: TypeNodeOrTag, Required: true, Multiple: true}},
	})

	// Transform
	Register("offsetToZero", func(e *Env, a *Args) ([]*Series, error) {
		list := a.SeriesList(0)
		for _, s := range list {
			m := safeMin(s.Consolidated())
			if math.IsNaN(m) {
				s.Tags.Set("offsetToZero", "None")
			} else {
				s.Tags.Set("offsetToZero", FloatRepr(m))
			}
			s.Name = "offsetToZero(" + s.Name + ")"
			s.PathExpression = s.Name
			for i, v := range s.Values {
				s.Values[i] = v - m
			}
		}
		return list, nil
	}, FuncMeta{Group: "Transform", Description: "Subtracts the series' minimum from every value.", Params: []Param{seriesListParam()}})
	Register("scaleToSeconds", func(e *Env, a *Args) ([]*Series, error) {
		secs := a.Float(1, 0)
		list := a.SeriesList(0)
		for _, s := range list {
			s.Tags.Set("scaleToSeconds", a.Value(1).PyStr())
			s.Name = "scaleToSeconds(" + s.Name + "," + strconv.FormatInt(int64(secs), 10) + ")"
			s.PathExpression = s.Name
			factor := secs / float64(s.Step)
			for i, v := range s.Values {
				if !math.IsNaN(v) {
					s.Values[i] = pyRound(v*factor, 6)
				}
			}
		}
		return list, nil
	}, FuncMeta{Group: "Transform", Description: "Converts per-step values to per-seconds values (value × seconds / step), rounded to 6 decimals.",
		Params: []Param{seriesListParam(), {Name: "seconds", Type: TypeFloat, Required: true}}})
	powFn := func(name, tag string, exp func(a *Args) float64, nameArg func(a *Args) string) Func {
		return func(e *Env, a *Args) ([]*Series, error) {
			x := exp(a)
			list := a.SeriesList(0)
			for _, s := range list {
				if nameArg != nil {
					s.Tags.Set(tag, a.Value(1).PyStr())
					s.Name = name + "(" + s.Name + "," + nameArg(a) + ")"
				} else {
					s.Tags.Set(tag, "1")
					s.Name = name + "(" + s.Name + ")"
				}
				s.PathExpression = s.Name
				for i, v := range s.Values {
					s.Values[i] = safePow(v, x)
				}
			}
			return list, nil
		}
	}
	Register("pow", powFn("pow", "pow", func(a *Args) float64 { return a.Float(1, 1) }, func(a *Args) string { return FormatG(a.Float(1, 1)) }),
		FuncMeta{Group: "Transform", Description: "Raises every value to the power factor.", Params: []Param{seriesListParam(), {Name: "factor", Type: TypeFloat, Required: true}}})
	Register("squareRoot", powFn("squareRoot", "squareRoot", func(*Args) float64 { return 0.5 }, nil),
		FuncMeta{Group: "Transform", Description: "Square root of every value (missing for negative values).", Params: []Param{seriesListParam()}})
	Register("invert", powFn("invert", "invert", func(*Args) float64 { return -1 }, nil),
		FuncMeta{Group: "Transform", Description: "1/x for every value (missing for 0).", Params: []Param{seriesListParam()}})
	Register("log", fnLog, FuncMeta{Group: "Transform", Description: "Logarithm of every value in base (default 10); missing for values <= 0.",
		Params: []Param{seriesListParam(), {Name: "base", Type: TypeInteger, Default: 10}}})
	Register("minMax", func(e *Env, a *Args) ([]*Series, error) {
		list := a.SeriesList(0)
		for _, s := range list {
			s.Name = "minMax(" + s.Name + ")"
			s.PathExpression = s.Name
			c := s.Consolidated()
			lo, hi := safeMin(c), safeMax(c)
			if math.IsNaN(lo) {
				lo, hi = 0, 0
			}
			for i, v := range s.Values {
				if math.IsNaN(v) {
					continue
				}
				if hi-lo == 0 {
					s.Values[i] = 0
				} else {
					s.Values[i] = (v - lo) / (hi - lo)
				}
			}
		}
		return list, nil
	}, FuncMeta{Group: "Transform", Description: "Scales every series to the 0..1 range of its own minimum and maximum.", Params: []Param{seriesListParam()}})
	Register("integralByInterval", fnIntegralByInterval, FuncMeta{Group: "Transform",
		Description: "Running total that restarts at every interval boundary (counted from 'from').",
		Params:      []Param{seriesListParam(), {Name: "intervalUnit", Type: TypeString, Required: true}}})
	Register("interpolate", fnInterpolate, FuncMeta{Group: "Transform",
		Description: "Fills gaps of at most limit points by linear interpolation between the values around them (not at the ends).",
		Params:      []Param{seriesListParam(), {Name: "limit", Type: TypeIntOrInf, Default: math.Inf(1)}}})
}

// safePow is graphite-web's safePow over Python's math.pow: None on
// missing input, domain errors (0 to a negative power, negative to a
// fractional one) and overflow.
func safePow(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	if a == 0 && b < 0 {
		return math.NaN()
	}
	r := math.Pow(a, b)
	if math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
		return math.NaN()
	}
	return r
}

func aggregateWithWildcards(e *Env, list []*Series, fn string, positions []Value) ([]*Series, error) {
	drop := map[int]bool{}
	for _, p := range positions {
		drop[int(p.Num)] = true
	}
	var keys []string
	groups := map[string][]*Series{}
	for _, s := range list {
		var parts []string
		for i, n := range strings.Split(s.Name, ".") {
			if !drop[i] {
				parts = append(parts, n)
			}
		}
		k := strings.Join(parts, ".")
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	agg := strings.TrimSuffix(fn, "Series")
	out := make([]*Series, 0, len(keys))
	for _, k := range keys {
		r, err := aggregate(e, [][]*Series{groups[k]}, agg, fn, math.NaN())
		if err != nil {
			return nil, err
		}
		r[0].Name = k
		out = append(out, r[0])
	}
	return out, nil
}

func fnGroupByTags(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	callback := a.String(1, "")
	tagVals := a.Multi(2)
	if len(tagVals) == 0 {
		return nil, inputErrorf("groupByTags(): no tags specified")
	}
	var tags []string
	byName := false
	for _, t := range tagVals {
		tags = append(tags, t.PyStr())
		if t.PyStr() == "name" {
			byName = true
		}
	}
	name := callback
	if !byName {
		names := map[string]bool{}
		for _, s := range list {
			n, _ := s.Tags.Get("name")
			names[n] = true
		}
		if len(names) == 1 {
			for n := range names {
				name = n
			}
		}
	}
	var keys []string
	groups := map[string][]*Series{}
	for _, s := range list {
		var kv []string
		for _, t := range tags {
			if byName && t == "name" {
				continue
			}
			v, _ := s.Tags.Get(t)
			kv = append(kv, t+"="+v)
		}
		sort.Strings(kv)
		head := name
		if byName {
			head, _ = s.Tags.Get("name")
		}
		k := strings.Join(append([]string{head}, kv...), ";")
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	out := make([]*Series, 0, len(keys))
	for _, k := range keys {
		tags, ok := parseTagsStrict(k)
		if !ok {
			return nil, inputErrorf("groupByTags: cannot parse series name %q", k)
		}
		res, err := callAggregator(e, callback, groups[k])
		if err != nil {
			return nil, err
		}
		if len(res) == 0 {
			return nil, inputErrorf("callback %s returned no series", callback)
		}
		r := res[0]
		r.Name, r.PathExpression, r.Tags = k, k, tags
		out = append(out, r)
	}
	return out, nil
}

// parseTagsStrict is graphite-web's TaggedSeries.parse (carbon format):
// false where it raises.
func parseTagsStrict(path string) (Tags, bool) {
	segs := strings.Split(path, ";")
	if segs[0] == "" {
		return nil, false
	}
	var tags Tags
	for _, seg := range segs[1:] {
		k, v, ok := strings.Cut(seg, "=")
		if !ok || k == "" || v == "" || strings.ContainsAny(k, ";!^=") || v[0] == '~' {
			return nil, false
		}
		tags.Set(k, v)
	}
	m := strings.TrimLeft(segs[0], "~")
	if m == "" {
		return nil, false
	}
	tags.Set("name", m)
	return tags, true
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

func fnLog(e *Env, a *Args) ([]*Series, error) {
	base := a.Int(1, 10)
	if base == 1 || base <= 0 {
		return nil, inputErrorf("invalid logarithm base %d", base)
	}
	bs := strconv.Itoa(base)
	var out []*Series
	for _, s := range a.SeriesList(0) {
		c := s.Consolidated()
		nv := make([]float64, len(c))
		for i, v := range c {
			if math.IsNaN(v) || v <= 0 {
				nv[i] = math.NaN()
			} else {
				nv[i] = math.Log(v) / math.Log(float64(base))
			}
		}
		s.Tags.Set("log", bs)
		out = append(out, s.copyWith("log("+s.Name+", "+bs+")", nv))
	}
	return out, nil
}

func pyFloorDiv(a, b int64) int64 {
	q, _ := pyDivmod(a, b)
	return q
}

func fnIntegralByInterval(e *Env, a *Args) ([]*Series, error) {
	unit := a.String(1, "")
	d, err := intervalSeconds(unit)
	if err != nil {
		return nil, err
	}
	d = max(d, -d)
	if d == 0 {
		return nil, inputErrorf("integralByInterval interval must not be zero")
	}
	var out []*Series
	for _, s := range a.SeriesList(0) {
		c := s.Consolidated()
		nv := make([]float64, len(c))
		t := s.Start
		cur := 0.0
		for i, v := range c {
			if pyFloorDiv(t-e.From, d) != pyFloorDiv(t-e.From-s.Step, d) {
				cur = 0
			}
			if !math.IsNaN(v) {
				cur += v
			}
			nv[i] = cur
			t += s.Step
		}
		s.Tags.Set("integralByInterval", unit)
		out = append(out, s.copyWith("integralByInterval("+s.Name+",'"+unit+"')", nv))
	}
	return out, nil
}

func fnInterpolate(e *Env, a *Args) ([]*Series, error) {
	limit := a.Float(1, math.Inf(1))
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = "interpolate(" + s.Name + ")"
		s.PathExpression = s.Name
		v := s.Values
		nones := 0
		for i, x := range v {
			if i == 0 {
				continue
			}
			switch {
			case math.IsNaN(x):
				nones++
			case nones == 0:
			case math.IsNaN(v[i-nones-1]):
				nones = 0
			default:
				if nones > 0 && float64(nones) <= limit {
					base := v[i-nones-1]
					for k := i - nones; k < i; k++ {
						v[k] = base + float64(k-(i-nones-1))*(x-base)/float64(nones+1)
					}
				}
				nones = 0
			}
		}
	}
	return list, nil
}
