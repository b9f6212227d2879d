package query

import (
	"math"
	"sort"
)

func nParam() Param { return Param{Name: "n", Type: TypeInteger, Required: true} }

func init() {
	Register("highest", func(e *Env, a *Args) ([]*Series, error) {
		return highestLowest(a.SeriesList(0), a.Int(1, 1), a.String(2, "average"), true)
	}, FuncMeta{
		Group:       "Filter Series",
		Description: "Keeps the n series with the highest aggregate (func, default average).",
		Params:      []Param{seriesListParam(), nParam(), {Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()}},
		Signature:   "seriesList, n=1, func='average'",
	})
	Register("lowest", func(e *Env, a *Args) ([]*Series, error) {
		return highestLowest(a.SeriesList(0), a.Int(1, 1), a.String(2, "average"), false)
	}, FuncMeta{
		Group:       "Filter Series",
		Description: "Keeps the n series with the lowest aggregate (func, default average).",
		Params:      []Param{seriesListParam(), nParam(), {Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()}},
		Signature:   "seriesList, n=1, func='average'",
	})
	for _, h := range []struct {
		name, fn string
		high     bool
		desc     string
	}{
		{"highestCurrent", "current", true, "Keeps the n series whose last value is highest."},
		{"highestMax", "max", true, "Keeps the n series with the highest maximum."},
		{"highestAverage", "average", true, "Keeps the n series with the highest average."},
		{"lowestCurrent", "current", false, "Keeps the n series whose last value is lowest."},
		{"lowestAverage", "average", false, "Keeps the n series with the lowest average."},
	} {
		fn, high := h.fn, h.high
		Register(h.name, func(e *Env, a *Args) ([]*Series, error) {
			return highestLowest(a.SeriesList(0), a.Int(1, 1), fn, high)
		}, FuncMeta{Group: "Filter Series", Description: h.desc, Params: []Param{seriesListParam(), nParam()}})
	}
	Register("limit", fnLimit, FuncMeta{
		Group:       "Filter Series",
		Description: "Keeps the first n series.",
		Params:      []Param{seriesListParam(), nParam()},
	})
	Register("exclude", func(e *Env, a *Args) ([]*Series, error) { return grepSeries(a, false) }, FuncMeta{
		Group:       "Filter Series",
		Description: "Drops the series whose name matches the regular expression.",
		Params:      []Param{seriesListParam(), {Name: "pattern", Type: TypeString, Required: true}},
	})
	Register("grep", func(e *Env, a *Args) ([]*Series, error) { return grepSeries(a, true) }, FuncMeta{
		Group:       "Filter Series",
		Description: "Keeps only the series whose name matches the regular expression.",
		Params:      []Param{seriesListParam(), {Name: "pattern", Type: TypeString, Required: true}},
	})
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

// pySlice returns list[0:n] with Python's negative index rules.
func pySlice(list []*Series, n int) []*Series {
	if n < 0 {
		n += len(list)
		if n < 0 {
			n = 0
		}
	}
	return list[:min(n, len(list))]
}

func highestLowest(list []*Series, n int, fn string, high bool) ([]*Series, error) {
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	sortByAgg(list, agg, high)
	return pySlice(list, n), nil
}

func fnLimit(e *Env, a *Args) ([]*Series, error) {
	return pySlice(a.SeriesList(0), a.Int(1, 0)), nil
}

func grepSeries(a *Args, keep bool) ([]*Series, error) {
	re, err := CompilePythonRegexp(a.String(1, ""))
	if err != nil {
		return nil, err
	}
	var out []*Series
	for _, s := range a.SeriesList(0) {
		if re.MatchString(s.Name) == keep {
			out = append(out, s)
		}
	}
	return out, nil
}
