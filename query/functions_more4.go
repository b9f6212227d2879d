package query

import (
	"math"
	"sort"
	"strings"
)

func init() {
	Register("mapSeries", fnMapSeries, FuncMeta{Group: "Combine",
		Description: "Groups series by the given nodes (or tags) for reduceSeries; the groups are returned one after the other.",
		Params:      []Param{seriesListParam(), {Name: "mapNodes", Type: TypeNodeOrTag, Required: true, Multiple: true}}})
	Register("map", fnMapSeries, FuncMeta{Group: "Combine",
		Description: "Short form of mapSeries.",
		Params:      []Param{seriesListParam(), {Name: "mapNodes", Type: TypeNodeOrTag, Required: true, Multiple: true}}})
	reduceParams := []Param{
		{Name: "seriesLists", Type: TypeSeriesLists, Required: true},
		{Name: "reduceFunction", Type: TypeString, Required: true},
		{Name: "reduceNode", Type: TypeNode, Required: true},
		{Name: "reduceMatchers", Type: TypeString, Required: true, Multiple: true},
	}
	for _, n := range []string{"reduceSeries", "reduce"} {
		Register(n, fnReduceSeries, FuncMeta{Group: "Combine",
			Description: "For each group of series sharing the path up to reduceNode, calls reduceFunction with the series whose node matches each reduceMatcher, in matcher order; results are named <prefix>.reduce.<reduceFunction>.",
			Params:      reduceParams})
	}
	Register("weightedAverage", fnWeightedAverage, FuncMeta{Group: "Combine",
		Description: "Average of the first list weighted by the second, series matched by the given nodes.",
		Params: []Param{{Name: "seriesListAvg", Type: TypeSeriesList, Required: true}, {Name: "seriesListWeight", Type: TypeSeriesList, Required: true},
			{Name: "nodes", Type: TypeNodeOrTag, Multiple: true}}})
	Register("averageOutsidePercentile", fnAverageOutsidePercentile, FuncMeta{Group: "Filter Series",
		Description: "Keeps the series whose average lies outside the n-th (and 100-n-th) percentile of all averages.",
		Params:      []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}})
	Register("removeBetweenPercentile", fnRemoveBetweenPercentile, FuncMeta{Group: "Filter Series",
		Description: "Keeps the series with at least one value outside the n-th (and 100-n-th) percentile of the values at that time.",
		Params:      []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}})
}

func fnMapSeries(e *Env, a *Args) ([]*Series, error) {
	nodes := a.Multi(1)
	var keys []string
	groups := map[string][]*Series{}
	for _, s := range a.SeriesList(0) {
		k := aggKey(s, nodes)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	var out []*Series
	for _, k := range keys {
		out = append(out, groups[k]...)
	}
	return out, nil
}

func fnReduceSeries(e *Env, a *Args) ([]*Series, error) {
	fn := a.String(1, "")
	node := a.Int(2, 0)
	var matchers []string
	for _, v := range a.Multi(3) {
		matchers = append(matchers, v.PyStr())
	}
	f, ok := Lookup(fn)
	if !ok {
		return nil, inputErrorf("Received request for unknown function: %s", fn)
	}
	var keys []string
	groups := map[string][]*Series{}
	for _, s := range a.SeriesList(0) {
		nodes := strings.Split(s.Name, ".")
		i := node
		if i < 0 {
			i += len(nodes)
		}
		if i < 0 || i >= len(nodes) {
			return nil, inputErrorf("reduceSeries: %q has no node %d", s.Name, node)
		}
		_, hi := pySliceBounds(len(nodes), 0, node, false)
		name := strings.Join(nodes[:hi], ".") + ".reduce." + fn
		m := -1
		for k, x := range matchers {
			if x == nodes[i] {
				m = k
				break
			}
		}
		if m < 0 {
			continue
		}
		if _, ok := groups[name]; !ok {
			groups[name] = make([]*Series, len(matchers))
			keys = append(keys, name)
		}
		groups[name][m] = s
	}
	var out []*Series
	for _, k := range keys {
		var pos []Value
		for i, s := range groups[k] {
			if s == nil {
				return nil, inputErrorf("reduceSeries: no series for matcher %q under %s", matchers[i], k)
			}
			pos = append(pos, Value{Kind: ValSeries, Series: []*Series{s}})
		}
		args, err := bind(f, nil, pos, nil, nil)
		if err != nil {
			return nil, err
		}
		res, err := f.Fn(e, args)
		if err != nil {
			return nil, err
		}
		if len(res) == 0 {
			return nil, inputErrorf("reduceSeries: %s returned no series", fn)
		}
		res[0].Name = k
		out = append(out, res[0])
	}
	return out, nil
}

func fnWeightedAverage(e *Env, a *Args) ([]*Series, error) {
	avgs, weights := a.SeriesList(0), a.SeriesList(1)
	nodes := a.Multi(2)
	if len(avgs) != len(weights) {
		return nil, inputErrorf("weightedAverage must receive the same number of series for seriesListAvg and seriesListWeight but received respectively %d and %d", len(avgs), len(weights))
	}
	type pair struct{ avg, weight *Series }
	var keys []string
	pairs := map[string]*pair{}
	get := func(k string) *pair {
		p, ok := pairs[k]
		if !ok {
			p = &pair{}
			pairs[k] = p
			keys = append(keys, k)
		}
		return p
	}
	for i := range avgs {
		get(aggKey(avgs[i], nodes)).avg = avgs[i]
		get(aggKey(weights[i], nodes)).weight = weights[i]
	}
	var products []*Series
	for _, k := range keys {
		p := pairs[k]
		if p.avg == nil || p.weight == nil {
			continue
		}
		ca, cw := p.avg.Consolidated(), p.weight.Consolidated()
		vals := make([]float64, max(len(ca), len(cw)))
		for i := range vals {
			vals[i] = safeMul2(column(ca, i), column(cw, i))
		}
		products = append(products, NewSeries("product("+p.weight.Name+","+p.avg.Name+")", p.avg.Start, p.avg.End, p.avg.Step, vals, e.XFilesFactor))
	}
	if len(products) == 0 {
		return nil, nil
	}
	sp, err := aggregate(e, [][]*Series{products}, "sum", "sum", math.NaN())
	if err != nil {
		return nil, err
	}
	sw, err := aggregate(e, [][]*Series{weights}, "sum", "sum", math.NaN())
	if err != nil {
		return nil, err
	}
	cp, cw := sp[0].Consolidated(), sw[0].Consolidated()
	vals := make([]float64, max(len(cp), len(cw)))
	for i := range vals {
		vals[i] = safeDiv(column(cp, i), column(cw, i))
	}
	set := func(list []*Series) string {
		m := map[string]bool{}
		var out []string
		for _, s := range list {
			if !m[s.PathExpression] {
				m[s.PathExpression] = true
				out = append(out, s.PathExpression)
			}
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	var ns []string
	for _, n := range nodes {
		ns = append(ns, n.PyStr())
	}
	name := "weightedAverage(" + set(avgs) + ", " + set(weights) + ", " + strings.Join(ns, ",") + ")"
	return []*Series{NewSeries(name, sp[0].Start, sp[0].End, sp[0].Step, vals, e.XFilesFactor)}, nil
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
