package query

import (
	"math"
	"sort"
	"strings"
)

// combineFunctions is graphite-web's "Combine" function group.
func combineFunctions() []Function {
	seriesLists := []Param{{Name: "seriesLists", Type: TypeSeriesList, Required: true, Multiple: true}}
	listsParams := func(extra ...Param) []Param {
		return append([]Param{
			{Name: "seriesListFirstPos", Type: TypeSeriesList, Required: true},
			{Name: "seriesListSecondPos", Type: TypeSeriesList, Required: true},
		}, extra...)
	}
	reduceParams := []Param{
		{Name: "seriesLists", Type: TypeSeriesLists, Required: true},
		{Name: "reduceFunction", Type: TypeString, Required: true},
		{Name: "reduceNode", Type: TypeNode, Required: true},
		{Name: "reduceMatchers", Type: TypeString, Required: true, Multiple: true},
	}
	asPercent := FuncMeta{
		Description: "Each series as a percentage of a total: the sum of the list (no total), a number, one series, a list matched one-to-one by name, or groups matched by the given nodes.",
		Params: []Param{
			seriesListParam(),
			{Name: "total", Type: TypeAny},
			{Name: "nodes", Type: TypeNodeOrTag, Multiple: true},
		},
		Aggregator: true,
	}
	mapSeries := FuncMeta{Description: "Groups series by the given nodes (or tags) for reduceSeries; the groups are returned one after the other.",
		Params: []Param{seriesListParam(), {Name: "mapNodes", Type: TypeNodeOrTag, Required: true, Multiple: true}}}
	fns := []Function{
		{"aggregate", fnAggregate, FuncMeta{
			Description: "Aggregate series using the specified function.",
			Params: []Param{
				{Name: "seriesList", Type: TypeSeriesList, Required: true},
				{Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()},
				{Name: "xFilesFactor", Type: TypeFloat},
			},
		}},
		{"aggregateSeriesLists", fnAggregateSeriesLists, FuncMeta{Description: "Aggregates the series of two lists pairwise by position with func.",
			Params: listsParams(Param{Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()}, Param{Name: "xFilesFactor", Type: TypeFloat})}},
		{"aggregateWithWildcards", fnAggregateWithWildcards, FuncMeta{Description: "Aggregates with func the series that are equal once the given node positions are removed.",
			Params:    []Param{seriesListParam(), {Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()}, {Name: "position", Type: TypeNode, Multiple: true}},
			Signature: "seriesList, func, *positions"}},
		{"applyByNode", fnApplyByNode, FuncMeta{Description: "For each distinct prefix of the series names up to nodeNum, evaluates templateFunction with % replaced by the prefix (optionally renaming the results with newName, % replaced likewise).",
			Params: []Param{seriesListParam(), {Name: "nodeNum", Type: TypeNode, Required: true},
				{Name: "templateFunction", Type: TypeString, Required: true}, {Name: "newName", Type: TypeString}}}},
		{"asPercent", fnAsPercent, asPercent},
		{"countSeries", fnCountSeries, FuncMeta{
			Description: "Draws a horizontal line with the number of input series at each point; with no input, a constant 0 line.",
			Params:      []Param{{Name: "seriesLists", Type: TypeSeriesList, Multiple: true}},
			Aggregator:  true,
		}},
		{"divideSeries", fnDivideSeries, FuncMeta{
			Description: "Divides each series by the divisor, which must be exactly one series; division by zero or a missing value is missing.",
			Params: []Param{
				{Name: "dividendSeriesList", Type: TypeSeriesList, Required: true},
				{Name: "divisorSeries", Type: TypeSeriesList, Required: true},
			},
		}},
		{"divideSeriesLists", fnDivideSeriesLists, FuncMeta{
			Description: "Divides the series of the first list by the series at the same position in the second list.",
			Params: []Param{
				{Name: "dividendSeriesList", Type: TypeSeriesList, Required: true},
				{Name: "divisorSeriesList", Type: TypeSeriesList, Required: true},
			},
		}},
		{"group", fnGroup, FuncMeta{Description: "Concatenates series lists.", Params: []Param{{Name: "seriesLists", Type: TypeSeriesList, Multiple: true}}}},
		{"groupByNode", fnGroupByNode, FuncMeta{
			Description: "Groups the series by the value of one node (or tag) and aggregates each group with callback (an aggregation or an aggregating series function); each result is named after its key.",
			Params: []Param{
				{Name: "seriesList", Type: TypeSeriesList, Required: true},
				{Name: "nodeNum", Type: TypeNodeOrTag, Required: true},
				{Name: "callback", Type: TypeAggOrSeriesFunc, Default: "average", Options: AggFuncNames()},
			},
		}},
		{"groupByNodes", fnGroupByNodes, FuncMeta{
			Description: "Like groupByNode with a key made of several nodes (or tags) joined by dots.",
			Params: []Param{
				{Name: "seriesList", Type: TypeSeriesList, Required: true},
				{Name: "callback", Type: TypeAggOrSeriesFunc, Required: true, Options: AggFuncNames()},
				{Name: "nodes", Type: TypeNodeOrTag, Multiple: true},
			},
		}},
		{"groupByTags", fnGroupByTags, FuncMeta{
			Description: "Groups series by the values of the given tags and aggregates each group with callback; results are named name;tag=value;...",
			Params: []Param{
				seriesListParam(),
				{Name: "callback", Type: TypeAggOrSeriesFunc, Required: true, Options: AggFuncNames()},
				{Name: "tags", Type: TypeTag, Required: true, Multiple: true},
			},
		}},
		{"map", fnMapSeries, shortFormOf("mapSeries", mapSeries)},
		{"mapSeries", fnMapSeries, mapSeries},
		{"pct", fnAsPercent, shortFormOf("asPercent", asPercent)},
		{"percentileOfSeries", fnPercentileOfSeries, FuncMeta{
			Description: "At each point, the n-th percentile of the values of all series (interpolated between ranks with interpolate=true).",
			Params: []Param{
				seriesListParam(),
				{Name: "n", Type: TypeFloat, Required: true},
				{Name: "interpolate", Type: TypeBoolean, Default: false},
			},
		}},
		{"powSeries", fnPowSeries, FuncMeta{Description: "At each point, the first series' value raised to the next one's, and so on.",
			Params: []Param{{Name: "seriesList", Type: TypeSeriesList, Required: true, Multiple: true}}, Aggregator: true,
			Signature: "*seriesLists"}},
		{"weightedAverage", fnWeightedAverage, FuncMeta{Description: "Average of the first list weighted by the second, series matched by the given nodes.",
			Params: []Param{{Name: "seriesListAvg", Type: TypeSeriesList, Required: true}, {Name: "seriesListWeight", Type: TypeSeriesList, Required: true},
				{Name: "nodes", Type: TypeNodeOrTag, Multiple: true}}}},
	}
	for _, a := range []struct{ name, fn, desc string }{
		// fn is the aggregation graphite-web names the result after.
		{"sumSeries", "sum", "This will add metrics together and return the sum at each datapoint."},
		{"sum", "sum", "This will add metrics together and return the sum at each datapoint."},
		{"averageSeries", "average", "Takes one metric or a wildcard seriesList. Draws the average value of all metrics passed at each time."},
		{"avg", "average", "Takes one metric or a wildcard seriesList. Draws the average value of all metrics passed at each time."},
		{"minSeries", "min", "Takes one metric or a wildcard seriesList. For each datapoint from each metric passed in, pick the minimum value and graph it."},
		{"maxSeries", "max", "Takes one metric or a wildcard seriesList. For each datapoint from each metric passed in, pick the maximum value and graph it."},
		{"diffSeries", "diff", "Subtracts series 2 through n from series 1."},
		{"multiplySeries", "multiply", "Takes two or more series and multiplies their points. A constant may not be used."},
		{"rangeOfSeries", "rangeOf", "Takes a wildcard seriesList. Distills down a set of inputs into the range of the series."},
		{"stddevSeries", "stddev", "Takes one metric or a wildcard seriesList. Draws the standard deviation of all metrics passed at each time."},
	} {
		fn := a.fn
		fns = append(fns, Function{a.name, func(e *Env, args *Args) ([]*Series, error) {
			return aggregate(e, args.SeriesLists(0), fn, fn, math.NaN())
		}, FuncMeta{Description: a.desc, Params: seriesLists, Aggregator: true}})
	}
	for _, w := range []struct{ name, fn, desc string }{
		{"sumSeriesWithWildcards", "sum", "Sums the series that are equal once the given node positions are removed; results are named by the remaining nodes."},
		{"averageSeriesWithWildcards", "average", "Averages the series that are equal once the given node positions are removed."},
		{"multiplySeriesWithWildcards", "multiply", "Multiplies the series that are equal once the given node positions are removed."},
	} {
		fn := w.fn
		fns = append(fns, Function{w.name, func(e *Env, a *Args) ([]*Series, error) {
			return aggregateWithWildcards(e, a.SeriesList(0), fn, a.Multi(1))
		}, FuncMeta{Description: w.desc, Aggregator: true,
			Params: []Param{seriesListParam(), {Name: "position", Type: TypeNode, Multiple: true}}}})
	}
	for _, l := range []struct{ name, fn, desc string }{
		{"sumSeriesLists", "sum", "Sums the series of two lists pairwise by position."},
		{"diffSeriesLists", "diff", "Subtracts the series of the second list from those of the first, pairwise by position."},
		{"multiplySeriesLists", "multiply", "Multiplies the series of two lists pairwise by position."},
	} {
		fn := l.fn
		fns = append(fns, Function{l.name, func(e *Env, a *Args) ([]*Series, error) {
			return aggregateSeriesLists(e, a.SeriesList(0), a.SeriesList(1), fn, math.NaN())
		}, FuncMeta{Description: l.desc, Params: listsParams(), Aggregator: true}})
	}
	for _, n := range []string{"reduceSeries", "reduce"} {
		fns = append(fns, Function{n, fnReduceSeries, FuncMeta{Description: "For each group of series sharing the path up to reduceNode, calls reduceFunction with the series whose node matches each reduceMatcher, in matcher order; results are named <prefix>.reduce.<reduceFunction>.",
			Params: reduceParams}})
	}
	return fns
}

func fnAggregateSeriesLists(e *Env, a *Args) ([]*Series, error) {
	return aggregateSeriesLists(e, a.SeriesList(0), a.SeriesList(1), a.String(2, ""), a.Float(3, math.NaN()))
}

func fnAggregateWithWildcards(e *Env, a *Args) ([]*Series, error) {
	return aggregateWithWildcards(e, a.SeriesList(0), a.String(1, ""), a.Multi(2))
}

func fnGroup(e *Env, a *Args) ([]*Series, error) {
	var out []*Series
	for _, l := range a.SeriesLists(0) {
		out = append(out, l...)
	}
	return out, nil
}

func fnCountSeries(e *Env, a *Args) ([]*Series, error) {
	lists := a.SeriesLists(0)
	if len(lists) == 0 {
		s := constantLine(e, 0, "0")
		s.PathExpression = "countSeries()"
		s.IntValues = true
		return []*Series{s}, nil
	}
	all, start, end, step, ok := normalize(lists)
	if !ok {
		return nil, nil
	}
	rows := 0
	for _, s := range all {
		rows = max(rows, len(s.Consolidated()))
	}
	values := make([]float64, rows)
	for i := range values {
		values[i] = float64(len(all))
	}
	name := "countSeries(" + formatPathExpressions(all) + ")"
	s := NewSeries(name, start, end, step, values, e.XFilesFactor)
	s.IntValues = true
	return []*Series{s}, nil
}

func fnGroupByNode(e *Env, a *Args) ([]*Series, error) {
	return groupByNodes(e, a.SeriesList(0), a.String(2, "average"), []Value{a.Value(1)})
}

func fnGroupByNodes(e *Env, a *Args) ([]*Series, error) {
	return groupByNodes(e, a.SeriesList(0), a.String(1, ""), a.Multi(2))
}

// groupByNodes is graphite-web's groupByNodes: groups in first-seen key
// order; a callback naming a registered function is called as that
// function (so "sum" and "avg" behave as sumSeries and averageSeries),
// anything else goes through aggregate().
func groupByNodes(e *Env, list []*Series, callback string, nodes []Value) ([]*Series, error) {
	keys, groups := groupByAggKey(list, nodes)
	out := make([]*Series, 0, len(keys))
	for _, k := range keys {
		res, err := callAggregator(e, callback, groups[k])
		if err != nil {
			return nil, err
		}
		if len(res) == 0 {
			return nil, inputErrorf("callback %s returned no series", callback)
		}
		r := res[0]
		r.Name = k
		out = append(out, r)
	}
	return out, nil
}

// callAggregator applies a series function (by name) or an aggregation
// to one list of series.
func callAggregator(e *Env, callback string, list []*Series) ([]*Series, error) {
	if f, ok := Lookup(callback); ok {
		if len(f.Meta.Params) == 0 || f.Meta.Params[0].Type != TypeSeriesList || !(f.Meta.Params[0].Multiple || len(f.Meta.Params) == 1 || !f.Meta.Params[1].Required) {
			return nil, inputErrorf("function %s cannot be used as a callback", callback)
		}
		v := Value{Kind: ValSeries, Series: list}
		args, err := bind(f, nil, []Value{v}, nil, nil)
		if err != nil {
			return nil, err
		}
		return f.Fn(e, args)
	}
	fn := strings.TrimSuffix(callback, "Series")
	return aggregate(e, [][]*Series{list}, fn, callback, math.NaN())
}

func fnAggregate(e *Env, a *Args) ([]*Series, error) {
	raw := a.String(1, "")
	fn := strings.TrimSuffix(raw, "Series")
	return aggregate(e, [][]*Series{a.SeriesList(0)}, fn, raw, a.Float(2, math.NaN()))
}

func safeDiv(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

func pct(a, b float64) float64 { return safeMul2(safeDiv(a, b), 100) }

// column returns c[i] or NaN past its end (izip_longest padding).
func column(c []float64, i int) float64 {
	if i < len(c) {
		return c[i]
	}
	return math.NaN()
}

// pairNormalize is the LCM-step normalisation of two series used by
// divideSeries and asPercent; it returns both consolidated columns.
func pairNormalize(a, b *Series) (start, end, step int64, ca, cb []float64) {
	_, start, end, step, _ = normalize([][]*Series{{a, b}})
	return start, end, step, a.Consolidated(), b.Consolidated()
}

func divide(e *Env, a, b *Series) *Series {
	start, end, step, ca, cb := pairNormalize(a, b)
	n := max(len(ca), len(cb))
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = safeDiv(column(ca, i), column(cb, i))
	}
	return NewSeries("divideSeries("+a.Name+","+b.Name+")", start, end, step, vals, e.XFilesFactor)
}

func fnDivideSeries(e *Env, a *Args) ([]*Series, error) {
	list, div := a.SeriesList(0), a.SeriesList(1)
	if len(div) == 0 {
		for _, s := range list {
			s.Name = "divideSeries(" + s.Name + ",MISSING)"
			s.PathExpression = s.Name
			for i := range s.Values {
				s.Values[i] = math.NaN()
			}
		}
		return list, nil
	}
	if len(div) > 1 {
		return nil, inputErrorf("divideSeries second argument must reference exactly 1 series (got %d)", len(div))
	}
	out := make([]*Series, 0, len(list))
	for _, s := range list {
		out = append(out, divide(e, s, div[0]))
	}
	return out, nil
}

func fnDivideSeriesLists(e *Env, a *Args) ([]*Series, error) {
	l1, l2 := a.SeriesList(0), a.SeriesList(1)
	if len(l1) != len(l2) {
		return nil, inputErrorf("dividendSeriesList and divisorSeriesList argument must have equal length")
	}
	out := make([]*Series, 0, len(l1))
	for i := range l1 {
		out = append(out, divide(e, l1[i], l2[i]))
	}
	return out, nil
}

// sumRows is [safeSum(row) for row in izip_longest(*list)].
func sumRows(list []*Series) []float64 {
	cols := make([][]float64, len(list))
	rows := 0
	for i, s := range list {
		cols[i] = s.Consolidated()
		rows = max(rows, len(cols[i]))
	}
	out := make([]float64, rows)
	row := make([]float64, len(list))
	for r := range out {
		for i, c := range cols {
			row[i] = column(c, r)
		}
		out[r] = safeSum(row)
	}
	return out
}

func fnAsPercent(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	if _, _, _, _, ok := normalize([][]*Series{list}); !ok {
		return nil, nil
	}
	total := a.Value(1)
	hasTotal := total.Kind != ValMissing && total.Kind != ValNone
	if hasTotal && total.Kind != ValSeries && total.Kind != ValNumber {
		return nil, inputErrorf("asPercent total must be None, a number or a seriesList")
	}
	xff := e.XFilesFactor
	if nodes := a.Multi(2); len(nodes) > 0 {
		return asPercentNodes(e, list, total, hasTotal, nodes)
	}
	var totalValues []float64
	totalText := ""
	switch {
	case !hasTotal:
		totalValues = sumRows(list)
		totalText = "sumSeries(" + formatPathExpressions(list) + ")"
	case total.Kind == ValSeries:
		tl := total.Series
		if len(tl) != 1 && len(tl) != len(list) {
			return nil, inputErrorf("asPercent second argument must be missing, a single digit, reference exactly 1 series or reference the same number of series as the first argument")
		}
		if len(tl) == 1 {
			normalize([][]*Series{list, tl})
			totalValues = tl[0].Consolidated()
			totalText = tl[0].Name
		}
		if len(tl) == len(list) {
			l1 := append([]*Series(nil), list...)
			l2 := append([]*Series(nil), tl...)
			sort.SliceStable(l1, func(i, j int) bool { return l1[i].Name < l1[j].Name })
			sort.SliceStable(l2, func(i, j int) bool { return l2[i].Name < l2[j].Name })
			out := make([]*Series, 0, len(l1))
			for i := range l1 {
				start, end, step, c1, c2 := pairNormalize(l1[i], l2[i])
				vals := make([]float64, max(len(c1), len(c2)))
				for k := range vals {
					vals[k] = pct(column(c1, k), column(c2, k))
				}
				out = append(out, NewSeries("asPercent("+l1[i].Name+","+l2[i].Name+")", start, end, step, vals, xff))
			}
			return out, nil
		}
	default:
		totalValues = make([]float64, len(list[0].Values))
		for i := range totalValues {
			totalValues[i] = total.Num
		}
		totalText = total.PyStr()
	}
	out := make([]*Series, 0, len(list))
	for _, s := range list {
		c := s.Consolidated()
		vals := make([]float64, max(len(c), len(totalValues)))
		for i := range vals {
			vals[i] = pct(column(c, i), column(totalValues, i))
		}
		text := totalText
		if text == "" {
			text = s.PathExpression
		}
		out = append(out, NewSeries("asPercent("+s.Name+","+text+")", s.Start, s.End, s.Step, vals, xff))
	}
	return out, nil
}

// asPercentNodes is asPercent with nodes: series and totals grouped by
// aggKey and matched per key.
func asPercentNodes(e *Env, list []*Series, total Value, hasTotal bool, nodes []Value) ([]*Series, error) {
	xff := e.XFilesFactor
	keys, meta := groupByAggKey(list, nodes)
	totals := map[string]*Series{}
	sumGroup := func(group []*Series) *Series {
		if len(group) == 1 {
			return group[0]
		}
		name := "sumSeries(" + formatPathExpressions(group) + ")"
		_, start, end, step, _ := normalize([][]*Series{group})
		return NewSeries(name, start, end, step, sumRows(group), xff)
	}
	switch {
	case !hasTotal:
		for _, k := range keys {
			totals[k] = sumGroup(meta[k])
		}
	case total.Kind == ValSeries:
		order, groups := groupByAggKey(total.Series, nodes)
		for _, k := range order {
			if _, seen := meta[k]; !seen {
				keys = append(keys, k)
			}
			totals[k] = sumGroup(groups[k])
		}
	default:
		return nil, inputErrorf("total must be None or a seriesList")
	}
	var out []*Series
	var start, end, step int64
	for _, k := range keys {
		group, ok := meta[k]
		if !ok {
			t := totals[k]
			vals := make([]float64, len(t.Consolidated()))
			for i := range vals {
				vals[i] = math.NaN()
			}
			out = append(out, NewSeries("asPercent(MISSING,"+t.Name+")", start, end, step, vals, xff))
			continue
		}
		for _, s1 := range group {
			t, ok := totals[k]
			if !ok {
				vals := make([]float64, len(s1.Consolidated()))
				for i := range vals {
					vals[i] = math.NaN()
				}
				out = append(out, NewSeries("asPercent("+s1.Name+",MISSING)", start, end, step, vals, xff))
				continue
			}
			var c1, c2 []float64
			start, end, step, c1, c2 = pairNormalize(s1, t)
			vals := make([]float64, max(len(c1), len(c2)))
			for i := range vals {
				vals[i] = pct(column(c1, i), column(c2, i))
			}
			out = append(out, NewSeries("asPercent("+s1.Name+","+t.Name+")", start, end, step, vals, xff))
		}
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

func aggregateSeriesLists(e *Env, l1, l2 []*Series, fn string, xff float64) ([]*Series, error) {
	if len(l1) != len(l2) {
		return nil, inputErrorf("seriesListFirstPos and seriesListSecondPos argument must have equal length")
	}
	var out []*Series
	for i := range l1 {
		r, err := aggregate(e, [][]*Series{{l1[i], l2[i]}}, strings.TrimSuffix(fn, "Series"), fn, xff)
		if err != nil {
			return nil, err
		}
		if len(r) == 0 {
			continue
		}
		s := r[0]
		if k := strings.Index(s.Name, "Series("); k >= 0 {
			s.Name = s.Name[:k] + "Series(" + l1[i].Name + "," + l2[i].Name + ")"
		}
		out = append(out, s)
	}
	return out, nil
}

func fnPowSeries(e *Env, a *Args) ([]*Series, error) {
	all, start, end, step, ok := normalize(a.SeriesLists(0))
	if !ok {
		return nil, nil
	}
	names := make([]string, len(all))
	cols := make([][]float64, len(all))
	rows := 0
	for i, s := range all {
		names[i] = s.Name
		cols[i] = s.Consolidated()
		rows = max(rows, len(cols[i]))
	}
	vals := make([]float64, rows)
	for r := range vals {
		v := column(cols[0], r)
		for _, c := range cols[1:] {
			v = safePow(v, column(c, r))
		}
		vals[r] = v
	}
	return []*Series{NewSeries("powSeries("+strings.Join(names, ",")+")", start, end, step, vals, e.XFilesFactor)}, nil
}

func fnMapSeries(e *Env, a *Args) ([]*Series, error) {
	keys, groups := groupByAggKey(a.SeriesList(0), a.Multi(1))
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
