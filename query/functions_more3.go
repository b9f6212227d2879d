package query

import (
	"math"
	"strconv"
	"strings"
)

func init() {
	listsParams := func(extra ...Param) []Param {
		return append([]Param{
			{Name: "seriesListFirstPos", Type: TypeSeriesList, Required: true},
			{Name: "seriesListSecondPos", Type: TypeSeriesList, Required: true},
		}, extra...)
	}
	for _, l := range []struct{ name, fn, desc string }{
		{"sumSeriesLists", "sum", "Sums the series of two lists pairwise by position."},
		{"diffSeriesLists", "diff", "Subtracts the series of the second list from those of the first, pairwise by position."},
		{"multiplySeriesLists", "multiply", "Multiplies the series of two lists pairwise by position."},
	} {
		fn := l.fn
		Register(l.name, func(e *Env, a *Args) ([]*Series, error) {
			return aggregateSeriesLists(e, a.SeriesList(0), a.SeriesList(1), fn, math.NaN())
		}, FuncMeta{Group: "Combine", Description: l.desc, Params: listsParams(), Aggregator: true})
	}
	Register("aggregateSeriesLists", func(e *Env, a *Args) ([]*Series, error) {
		return aggregateSeriesLists(e, a.SeriesList(0), a.SeriesList(1), a.String(2, ""), a.Float(3, math.NaN()))
	}, FuncMeta{Group: "Combine", Description: "Aggregates the series of two lists pairwise by position with func.",
		Params: listsParams(Param{Name: "func", Type: TypeAggFunc, Required: true, Options: AggFuncNames()}, Param{Name: "xFilesFactor", Type: TypeFloat})})
	Register("powSeries", fnPowSeries, FuncMeta{Group: "Combine", Description: "At each point, the first series' value raised to the next one's, and so on.",
		Params: []Param{{Name: "seriesList", Type: TypeSeriesList, Required: true, Multiple: true}}, Aggregator: true,
		Signature: "*seriesLists"})
	Register("aggregateLine", fnAggregateLine, FuncMeta{Group: "Calculate",
		Description: "A horizontal line per series at an aggregate of its values (func, default average); keepStep keeps the series' own points.",
		Params:      []Param{seriesListParam(), {Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()}, {Name: "keepStep", Type: TypeBoolean, Default: false}}})
	Register("exponentialMovingAverage", fnEMA, FuncMeta{Group: "Calculate",
		Description: "Exponential moving average with smoothing 2/(windowSize+1); data before 'from' is fetched to seed it.",
		Params:      []Param{seriesListParam(), {Name: "windowSize", Type: TypeIntOrInterval, Required: true, Suggestions: intOrIntervalSuggestions}}})
	Register("identity", func(e *Env, a *Args) ([]*Series, error) {
		name := a.String(0, "")
		var vals []float64
		for t := e.From; t < e.Until; t += 60 {
			vals = append(vals, float64(t))
		}
		s := NewSeries(name, e.From, e.Until, 60, vals, e.XFilesFactor)
		s.PathExpression = "identity(\"" + name + "\")"
		s.IntValues = true
		return []*Series{s}, nil
	}, FuncMeta{Group: "Calculate", Description: "A series whose value is its own timestamp, one point per minute.", Params: []Param{{Name: "name", Type: TypeString, Required: true}}})
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

func fnAggregateLine(e *Env, a *Args) ([]*Series, error) {
	fn := a.String(1, "average")
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	isInt := fn == "count"
	var out []*Series
	for _, s := range a.SeriesList(0) {
		v := agg(s.Consolidated())
		var name, str string
		if math.IsNaN(v) {
			name, str = "aggregateLine("+s.Name+", None)", "None"
		} else {
			name = "aggregateLine(" + s.Name + ", " + FormatG(v) + ")"
			if isInt {
				str = strconv.FormatInt(int64(v), 10)
			} else {
				str = FloatRepr(v)
			}
		}
		var r *Series
		if a.Bool(2, false) {
			vals := make([]float64, len(s.Values))
			for i := range vals {
				vals[i] = v
			}
			r = s.copyWith(name, vals)
		} else {
			r = constantLine(e, v, str)
			r.Name, r.PathExpression = name, name
		}
		r.IntValues = isInt
		out = append(out, r)
	}
	return out, nil
}

func fnEMA(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	w := a.Value(1)
	var preview int64
	var constant float64
	switch w.Kind {
	case ValString:
		sec, err := intervalSeconds(w.Str)
		if err != nil {
			return nil, err
		}
		preview = max(sec, -sec)
		constant = 2.0 / float64(preview+1)
	case ValNumber:
		if math.IsInf(w.Num, 0) || math.Abs(w.Num) > 1e9 || int64(w.Num) < 0 {
			return nil, inputErrorf("invalid windowSize %s", w.PyStr())
		}
		var maxStep int64
		for _, s := range list {
			maxStep = max(maxStep, s.Step)
		}
		preview = maxStep * int64(w.Num)
		constant = 2.0 / float64(int64(w.Num)+1)
	default:
		return nil, inputErrorf("invalid windowSize %s", w.PyStr())
	}
	long, err := e.EvalRange(a.Value(0).Node, e.From-preview, e.Until)
	if err != nil {
		return nil, err
	}
	var out []*Series
	for _, s := range long {
		var name string
		var wp int
		if w.Kind == ValString {
			name = "exponentialMovingAverage(" + s.Name + ",\"" + w.Str + "\")"
			if s.Step > 0 {
				wp = int(preview / s.Step)
			}
		} else {
			name = "exponentialMovingAverage(" + s.Name + "," + w.PyStr() + ")"
			wp = int(w.Num)
		}
		s.Tags.Set("exponentialMovingAverage", w.PyStr())
		v := s.Values
		ema := safeAvg(v[:min(wp, len(v))])
		if math.IsNaN(ema) {
			ema = 0
		}
		vals := []float64{pyRound(ema, 6)}
		for i := wp; i < len(v); i++ {
			if math.IsNaN(v[i]) {
				vals = append(vals, math.NaN())
				continue
			}
			ema = constant*v[i] + (1-constant)*ema
			vals = append(vals, pyRound(ema, 6))
		}
		ns := s.copyWith(name, vals)
		ns.Start = s.Start + preview
		out = append(out, ns)
	}
	return out, nil
}
