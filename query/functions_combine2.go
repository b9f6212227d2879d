package query

import (
	"math"
	"sort"
)

func init() {
	Register("asPercent", fnAsPercent, FuncMeta{
		Group:       "Combine",
		Description: "Each series as a percentage of a total: the sum of the list (no total), a number, one series, a list matched one-to-one by name, or groups matched by the given nodes.",
		Params: []Param{
			seriesListParam(),
			{Name: "total", Type: TypeAny},
			{Name: "nodes", Type: TypeNodeOrTag, Multiple: true},
		},
		Aggregator: true,
	})
	Register("pct", fnAsPercent, FuncMeta{
		Group:       "Combine",
		Description: "Short form of asPercent.",
		Params: []Param{
			seriesListParam(),
			{Name: "total", Type: TypeAny},
			{Name: "nodes", Type: TypeNodeOrTag, Multiple: true},
		},
		Aggregator: true,
	})
	Register("divideSeries", fnDivideSeries, FuncMeta{
		Group:       "Combine",
		Description: "Divides each series by the divisor, which must be exactly one series; division by zero or a missing value is missing.",
		Params: []Param{
			{Name: "dividendSeriesList", Type: TypeSeriesList, Required: true},
			{Name: "divisorSeries", Type: TypeSeriesList, Required: true},
		},
	})
	Register("divideSeriesLists", fnDivideSeriesLists, FuncMeta{
		Group:       "Combine",
		Description: "Divides the series of the first list by the series at the same position in the second list.",
		Params: []Param{
			{Name: "dividendSeriesList", Type: TypeSeriesList, Required: true},
			{Name: "divisorSeriesList", Type: TypeSeriesList, Required: true},
		},
	})
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
	var keys []string
	meta := map[string][]*Series{}
	for _, s := range list {
		k := aggKey(s, nodes)
		if _, ok := meta[k]; !ok {
			keys = append(keys, k)
		}
		meta[k] = append(meta[k], s)
	}
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
		groups := map[string][]*Series{}
		var order []string
		for _, s := range total.Series {
			k := aggKey(s, nodes)
			if _, ok := groups[k]; !ok {
				order = append(order, k)
				if _, seen := meta[k]; !seen {
					keys = append(keys, k)
				}
			}
			groups[k] = append(groups[k], s)
		}
		for _, k := range order {
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
