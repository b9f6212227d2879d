package query

import (
	"math"
	"strings"
)

func init() {
	seriesLists := []Param{{Name: "seriesLists", Type: TypeSeriesList, Required: true, Multiple: true}}
	Register("aggregate", fnAggregate, FuncMeta{
		Group:       "Combine",
		Description: "Aggregate series using the specified function.",
		Params: []Param{
			{Name: "seriesList", Type: TypeSeriesList, Required: true},
			{Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()},
			{Name: "xFilesFactor", Type: TypeFloat},
		},
	})
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
		Register(a.name, func(e *Env, args *Args) ([]*Series, error) {
			return aggregate(e, args.SeriesLists(0), fn, fn, math.NaN())
		}, FuncMeta{Group: "Combine", Description: a.desc, Params: seriesLists, Aggregator: true})
	}
}

func init() {
	Register("countSeries", fnCountSeries, FuncMeta{
		Group:       "Combine",
		Description: "Draws a horizontal line with the number of input series at each point; with no input, a constant 0 line.",
		Params:      []Param{{Name: "seriesLists", Type: TypeSeriesList, Multiple: true}},
		Aggregator:  true,
	})
	Register("groupByNode", fnGroupByNode, FuncMeta{
		Group:       "Combine",
		Description: "Groups the series by the value of one node (or tag) and aggregates each group with callback (an aggregation or an aggregating series function); each result is named after its key.",
		Params: []Param{
			{Name: "seriesList", Type: TypeSeriesList, Required: true},
			{Name: "nodeNum", Type: TypeNodeOrTag, Required: true},
			{Name: "callback", Type: TypeAggOrSeriesFunc, Default: "average", Options: AggFuncNames()},
		},
	})
	Register("groupByNodes", fnGroupByNodes, FuncMeta{
		Group:       "Combine",
		Description: "Like groupByNode with a key made of several nodes (or tags) joined by dots.",
		Params: []Param{
			{Name: "seriesList", Type: TypeSeriesList, Required: true},
			{Name: "callback", Type: TypeAggOrSeriesFunc, Required: true, Options: AggFuncNames()},
			{Name: "nodes", Type: TypeNodeOrTag, Multiple: true},
		},
	})
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
	var keys []string
	groups := map[string][]*Series{}
	for _, s := range list {
		k := aggKey(s, nodes)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
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

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int64) int64 {
	if a == b {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a / gcd(a, b) * b
}

// normalize is graphite-web's normalize(): all series on the LCM step
// (finer ones consolidated by their own function), start = min start,
// end = max end trimmed to whole steps. ok is false for no series.
func normalize(lists [][]*Series) (all []*Series, start, end, step int64, ok bool) {
	for _, l := range lists {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return nil, 0, 0, 0, false
	}
	step = all[0].Step
	for _, s := range all[1:] {
		step = lcm(step, s.Step)
	}
	start, end = all[0].Start, all[0].End
	for _, s := range all {
		if s.Step > 0 {
			s.ValuesPerPoint = int(step / s.Step)
		}
		start = min(start, s.Start)
		end = max(end, s.End)
	}
	if step > 0 {
		end -= (end - start) % step
	}
	return all, start, end, step, true
}

// formatPathExpressions joins the distinct path expressions in order.
func formatPathExpressions(list []*Series) string {
	var seen []string
	for _, s := range list {
		dup := false
		for _, p := range seen {
			if p == s.PathExpression {
				dup = true
				break
			}
		}
		if !dup {
			seen = append(seen, s.PathExpression)
		}
	}
	return strings.Join(seen, ",")
}

// commonTags keeps the tags of the first series that every series shares.
func commonTags(list []*Series) Tags {
	var tags Tags
	for _, kv := range list[0].Tags {
		keep := true
		for _, s := range list[1:] {
			if v, ok := s.Tags.Get(kv.Key); !ok || v != kv.Value {
				keep = false
				break
			}
		}
		if keep {
			tags = append(tags, kv)
		}
	}
	return tags
}

// xffOK is graphite-web's xff(): some non-null values and a non-null
// share of at least xFilesFactor.
func xffOK(nonNull, total int, xff float64) bool {
	if nonNull == 0 || total == 0 {
		return false
	}
	return float64(nonNull)/float64(total) >= xff
}

// aggregate is graphite-web's aggregate(): one series combining the
// lists row by row. xff NaN means the request's xFilesFactor.
func aggregate(e *Env, lists [][]*Series, fn, rawFn string, xff float64) ([]*Series, error) {
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", rawFn)
	}
	all, start, end, step, ok := normalize(lists)
	if !ok {
		return nil, nil
	}
	if math.IsNaN(xff) {
		xff = e.XFilesFactor
	}
	cols := make([][]float64, len(all))
	rows := 0
	for i, s := range all {
		cols[i] = s.Consolidated()
		rows = max(rows, len(cols[i]))
	}
	values := make([]float64, rows)
	row := make([]float64, len(all))
	for r := 0; r < rows; r++ {
		nonNull := 0
		for i, c := range cols {
			if r < len(c) {
				row[i] = c[r]
			} else {
				row[i] = math.NaN()
			}
			if !math.IsNaN(row[i]) {
				nonNull++
			}
		}
		if xffOK(nonNull, len(row), xff) {
			values[r] = agg(row)
		} else {
			values[r] = math.NaN()
		}
	}
	name := fn + "Series(" + formatPathExpressions(all) + ")"
	tags := commonTags(all)
	if _, ok := tags.Get("name"); !ok {
		tags.Set("name", name)
	}
	tags.Set("aggregatedBy", fn)
	s := NewSeries(name, start, end, step, values, xff)
	s.Tags = tags
	s.IntValues = fn == "count"
	return []*Series{s}, nil
}
