package query

import (
	"math"
	"sort"
)

// filterSeriesFunctions is graphite-web's "Filter Series" function group.
func filterSeriesFunctions() []Function {
	fns := []Function{
		{"averageOutsidePercentile", fnAverageOutsidePercentile, FuncMeta{Description: "Keeps the series whose average lies outside the n-th (and 100-n-th) percentile of all averages.",
			Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}}},
		{"exclude", fnExclude, FuncMeta{
			Description: "Drops the series whose name matches the regular expression.",
			Params:      []Param{seriesListParam(), {Name: "pattern", Type: TypeString, Required: true}},
		}},
		{"filterSeries", fnFilterSeries, FuncMeta{
			Description: "Keeps the series whose aggregate (func) compares true with threshold using operator.",
			Params: []Param{
				seriesListParam(),
				{Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()},
				{Name: "operator", Type: TypeString, Required: true, Options: operatorNames},
				{Name: "threshold", Type: TypeFloat, Required: true},
			},
		}},
		{"grep", fnGrep, FuncMeta{
			Description: "Keeps only the series whose name matches the regular expression.",
			Params:      []Param{seriesListParam(), {Name: "pattern", Type: TypeString, Required: true}},
		}},
		{"highest", fnHighest, FuncMeta{
			Description: "Keeps the n series with the highest aggregate (func, default average).",
			Params:      []Param{seriesListParam(), nParam(), {Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()}},
			Signature:   "seriesList, n=1, func='average'",
		}},
		{"limit", fnLimit, FuncMeta{
			Description: "Keeps the first n series.",
			Params:      []Param{seriesListParam(), nParam()},
		}},
		{"lowest", fnLowest, FuncMeta{
			Description: "Keeps the n series with the lowest aggregate (func, default average).",
			Params:      []Param{seriesListParam(), nParam(), {Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()}},
			Signature:   "seriesList, n=1, func='average'",
		}},
		{"mostDeviant", fnMostDeviant, FuncMeta{Description: "Keeps the n series with the largest variance.", Params: []Param{seriesListParam(), nParam()}}},
		{"removeBetweenPercentile", fnRemoveBetweenPercentile, FuncMeta{Description: "Keeps the series with at least one value outside the n-th (and 100-n-th) percentile of the values at that time.",
			Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}}},
		{"removeEmptySeries", fnRemoveEmptySeries, FuncMeta{Description: "Drops series without values (or with a share of values below xFilesFactor).", Params: []Param{seriesListParam(), {Name: "xFilesFactor", Type: TypeFloat}}}},
		{"unique", fnUnique, FuncMeta{Description: "Drops series whose name was already seen.", Params: []Param{{Name: "seriesLists", Type: TypeSeriesList, Required: true, Multiple: true}}}},
		{"useSeriesAbove", fnUseSeriesAbove, FuncMeta{Description: "For each series whose maximum is above value, fetches the series named by replacing search with replace in its name.",
			Params: []Param{seriesListParam(), {Name: "value", Type: TypeFloat, Required: true},
				{Name: "search", Type: TypeString, Required: true}, {Name: "replace", Type: TypeString, Required: true}}}},
	}
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
		fns = append(fns, Function{h.name, func(e *Env, a *Args) ([]*Series, error) {
			return highestLowest(a.SeriesList(0), a.Int(1, 1), fn, high)
		}, FuncMeta{Description: h.desc, Params: []Param{seriesListParam(), nParam()}}})
	}
	for _, f := range []struct{ name, fn, op, desc string }{
		{"currentAbove", "last", ">", "Keeps the series whose last value is above n."},
		{"currentBelow", "last", "<=", "Keeps the series whose last value is at most n (or missing)."},
		{"averageAbove", "average", ">", "Keeps the series whose average is above n."},
		{"averageBelow", "average", "<=", "Keeps the series whose average is at most n (or missing)."},
		{"maximumAbove", "max", ">", "Keeps the series whose maximum is above n."},
		{"maximumBelow", "max", "<=", "Keeps the series whose maximum is at most n (or missing)."},
		{"minimumAbove", "min", ">", "Keeps the series whose minimum is above n."},
		{"minimumBelow", "min", "<=", "Keeps the series whose minimum is at most n (or missing)."},
	} {
		fn, op := f.fn, f.op
		fns = append(fns, Function{f.name, func(e *Env, a *Args) ([]*Series, error) {
			return filterSeries(a.SeriesList(0), fn, op, a.Float(1, 0))
		}, FuncMeta{Description: f.desc, Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}}})
	}
	return fns
}

func fnExclude(e *Env, a *Args) ([]*Series, error) { return grepSeries(a, false) }

func fnFilterSeries(e *Env, a *Args) ([]*Series, error) {
	return filterSeries(a.SeriesList(0), a.String(1, ""), a.String(2, ""), a.Float(3, 0))
}

func fnGrep(e *Env, a *Args) ([]*Series, error) { return grepSeries(a, true) }

func fnHighest(e *Env, a *Args) ([]*Series, error) {
	return highestLowest(a.SeriesList(0), a.Int(1, 1), a.String(2, "average"), true)
}

func fnLowest(e *Env, a *Args) ([]*Series, error) {
	return highestLowest(a.SeriesList(0), a.Int(1, 1), a.String(2, "average"), false)
}

func fnMostDeviant(e *Env, a *Args) ([]*Series, error) {
	type dev struct {
		sigma float64
		s     *Series
	}
	var devs []dev
	for _, s := range a.SeriesList(0) {
		c := s.Consolidated()
		mean := safeAvg(c)
		if math.IsNaN(mean) {
			continue
		}
		sq := 0.0
		for _, v := range c {
			if !math.IsNaN(v) {
				sq += (v - mean) * (v - mean)
			}
		}
		devs = append(devs, dev{sq / safeCount(c), s})
	}
	sort.SliceStable(devs, func(i, j int) bool { return devs[i].sigma > devs[j].sigma })
	out := make([]*Series, len(devs))
	for i, d := range devs {
		out[i] = d.s
	}
	return pySlice(out, a.Int(1, 0)), nil
}

func fnRemoveEmptySeries(e *Env, a *Args) ([]*Series, error) {
	xff := a.Float(1, 0)
	var out []*Series
	for _, s := range a.SeriesList(0) {
		nonNull := 0
		for _, v := range s.Consolidated() {
			if !math.IsNaN(v) {
				nonNull++
			}
		}
		if xffOK(nonNull, len(s.Values), xff) {
			out = append(out, s)
		}
	}
	return out, nil
}

func fnUnique(e *Env, a *Args) ([]*Series, error) {
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
}

func nParam() Param { return Param{Name: "n", Type: TypeInteger, Required: true} }

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

var operatorNames = []string{"!=", "<", "<=", "=", ">", ">="}

// operatorFuncs are graphite-web's: None passes !=, < and <=.
func operatorFunc(op string) func(v, t float64) bool {
	switch op {
	case "=":
		return func(v, t float64) bool { return !math.IsNaN(v) && v == t }
	case "!=":
		return func(v, t float64) bool { return math.IsNaN(v) || v != t }
	case ">":
		return func(v, t float64) bool { return !math.IsNaN(v) && v > t }
	case ">=":
		return func(v, t float64) bool { return !math.IsNaN(v) && v >= t }
	case "<":
		return func(v, t float64) bool { return math.IsNaN(v) || v < t }
	case "<=":
		return func(v, t float64) bool { return math.IsNaN(v) || v <= t }
	}
	return nil
}

func filterSeries(list []*Series, fn, op string, threshold float64) ([]*Series, error) {
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	f := operatorFunc(op)
	if f == nil {
		return nil, inputErrorf("Unsupported operator: %s", op)
	}
	var out []*Series
	for _, s := range list {
		if f(agg(s.Consolidated()), threshold) {
			out = append(out, s)
		}
	}
	return out, nil
}

func fnAverageOutsidePercentile(e *Env, a *Args) ([]*Series, error) {
	n := a.Float(1, 0)
	list := a.SeriesList(0)
	avgs := make([]float64, len(list))
	for i, s := range list {
		avgs[i] = safeAvg(s.Consolidated())
	}
	if n < 50 {
		n = 100 - n
	}
	lo, hi := percentile(avgs, 100-n, false), percentile(avgs, n, false)
	var out []*Series
	for i, s := range list {
		if math.IsNaN(avgs[i]) {
			continue
		}
		if !(lo < avgs[i] && avgs[i] < hi) {
			out = append(out, s)
		}
	}
	return out, nil
}

func fnRemoveBetweenPercentile(e *Env, a *Args) ([]*Series, error) {
	n := a.Float(1, 0)
	list := a.SeriesList(0)
	if n < 50 {
		n = 100 - n
	}
	if len(list) == 0 {
		return nil, nil
	}
	cols := make([][]float64, len(list))
	rows := math.MaxInt
	for i, s := range list {
		cols[i] = s.Consolidated()
		rows = min(rows, len(cols[i]))
	}
	los, his := make([]float64, rows), make([]float64, rows)
	col := make([]float64, len(list))
	for r := 0; r < rows; r++ {
		for i := range list {
			col[i] = cols[i][r]
		}
		los[r], his[r] = percentile(col, 100-n, false), percentile(col, n, false)
	}
	var out []*Series
	for i, s := range list {
		keep := false
		for r, v := range cols[i] {
			if r >= rows {
				break
			}
			if math.IsNaN(v) {
				continue
			}
			if !(los[r] < v && v < his[r]) {
				keep = true
				break
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out, nil
}
