package query

import (
	"math"
	"slices"
)

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

func init() {
	Register("filterSeries", func(e *Env, a *Args) ([]*Series, error) {
		return filterSeries(a.SeriesList(0), a.String(1, ""), a.String(2, ""), a.Float(3, 0))
	}, FuncMeta{
		Group:       "Filter Series",
		Description: "Keeps the series whose aggregate (func) compares true with threshold using operator.",
		Params: []Param{
			seriesListParam(),
			{Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()},
			{Name: "operator", Type: TypeString, Required: true, Options: operatorNames},
			{Name: "threshold", Type: TypeFloat, Required: true},
		},
	})
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
		Register(f.name, func(e *Env, a *Args) ([]*Series, error) {
			return filterSeries(a.SeriesList(0), fn, op, a.Float(1, 0))
		}, FuncMeta{Group: "Filter Series", Description: f.desc, Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}})
	}
	Register("removeAboveValue", func(e *Env, a *Args) ([]*Series, error) {
		n := a.Float(1, 0)
		list := a.SeriesList(0)
		for _, s := range list {
			s.Name = "removeAboveValue(" + s.Name + ", " + FormatG(n) + ")"
			s.PathExpression = s.Name
			for i, v := range s.Values {
				if v > n {
					s.Values[i] = math.NaN()
				}
			}
		}
		return list, nil
	}, FuncMeta{Group: "Filter Data", Description: "Removes values above n.", Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}})
	Register("removeBelowValue", func(e *Env, a *Args) ([]*Series, error) {
		n := a.Float(1, 0)
		list := a.SeriesList(0)
		for _, s := range list {
			s.Name = "removeBelowValue(" + s.Name + ", " + FormatG(n) + ")"
			s.PathExpression = s.Name
			for i, v := range s.Values {
				if v < n {
					s.Values[i] = math.NaN()
				}
			}
		}
		return list, nil
	}, FuncMeta{Group: "Filter Data", Description: "Removes values below n.", Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}})
	Register("removeEmptySeries", func(e *Env, a *Args) ([]*Series, error) {
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
	}, FuncMeta{Group: "Filter Series", Description: "Drops series without values (or with a share of values below xFilesFactor).", Params: []Param{seriesListParam(), {Name: "xFilesFactor", Type: TypeFloat}}})
	Register("nPercentile", fnNPercentile, FuncMeta{
		Group:       "Calculate",
		Description: "A horizontal line per series at its n-th percentile.",
		Params:      []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}},
	})
	Register("percentileOfSeries", fnPercentileOfSeries, FuncMeta{
		Group:       "Combine",
		Description: "At each point, the n-th percentile of the values of all series (interpolated between ranks with interpolate=true).",
		Params: []Param{
			seriesListParam(),
			{Name: "n", Type: TypeFloat, Required: true},
			{Name: "interpolate", Type: TypeBoolean, Default: false},
		},
	})
}

// percentile is graphite-web's _getPercentile.
func percentile(points []float64, n float64, interpolate bool) float64 {
	var sorted []float64
	for _, p := range points {
		if !math.IsNaN(p) {
			sorted = append(sorted, p)
		}
	}
	if len(sorted) == 0 {
		return math.NaN()
	}
	slices.Sort(sorted)
	frac := (n / 100.0) * float64(len(sorted)+1)
	rank := int(frac)
	rankFrac := frac - float64(rank)
	if !interpolate {
		rank += int(math.Ceil(rankFrac))
	}
	var p float64
	switch {
	case rank == 0:
		p = sorted[0]
	case rank-1 == len(sorted):
		p = sorted[len(sorted)-1]
	default:
		i := rank - 1
		if i < 0 {
			i += len(sorted)
		}
		if i < 0 || i >= len(sorted) {
			return math.NaN()
		}
		p = sorted[i]
	}
	if interpolate && rank != len(sorted) {
		if rank < 0 || rank >= len(sorted) {
			return p
		}
		p = p + rankFrac*(sorted[rank]-p)
	}
	return p
}

func fnNPercentile(e *Env, a *Args) ([]*Series, error) {
	n := a.Float(1, 0)
	if n == 0 {
		return nil, inputErrorf("The requested percent is required to be greater than 0")
	}
	ns := a.Value(1).PyStr()
	var out []*Series
	for _, s := range a.SeriesList(0) {
		p := percentile(s.Consolidated(), n, false)
		if math.IsNaN(p) {
			continue
		}
		s.Tags.Set("nPercentile", ns)
		var count int64
		if s.Step > 0 {
			count = min((s.End-s.Start)/s.Step, maxGeneratedPoints)
		}
		vals := make([]float64, count)
		for i := range vals {
			vals[i] = p
		}
		out = append(out, s.copyWith("nPercentile("+s.Name+", "+FormatG(n)+")", vals))
	}
	return out, nil
}

func fnPercentileOfSeries(e *Env, a *Args) ([]*Series, error) {
	n := a.Float(1, 0)
	if n <= 0 {
		return nil, inputErrorf("The requested percent is required to be greater than 0")
	}
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	name := "percentileOfSeries(" + list[0].PathExpression + "," + FormatG(n) + ")"
	_, start, end, step, _ := normalize([][]*Series{list})
	cols := make([][]float64, len(list))
	rows := 0
	for i, s := range list {
		cols[i] = s.Consolidated()
		rows = max(rows, len(cols[i]))
	}
	interp := a.Bool(2, false)
	vals := make([]float64, rows)
	row := make([]float64, len(list))
	for r := range vals {
		for i, c := range cols {
			row[i] = column(c, r)
		}
		vals[r] = percentile(row, n, interp)
	}
	return []*Series{NewSeries(name, start, end, step, vals, e.XFilesFactor)}, nil
}
