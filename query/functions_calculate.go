package query

import (
	"math"
	"strings"

	"github.com/plumbago/plumbago/query/attime"
)

var intOrIntervalSuggestions = []any{5, 7, 10, "1min", "5min", "10min", "30min", "1hour"}

func init() {
	for _, m := range []struct{ name, fn, desc string }{
		{"movingAverage", "average", "Average of the preceding windowSize points (an integer) or time (an interval string such as '5min'); data before 'from' is fetched so the first points are complete."},
		{"movingSum", "sum", "Sum of the preceding windowSize points or interval, like movingAverage."},
		{"movingMin", "min", "Minimum of the preceding windowSize points or interval, like movingAverage."},
		{"movingMax", "max", "Maximum of the preceding windowSize points or interval, like movingAverage."},
		{"movingMedian", "median", "Median of the preceding windowSize points or interval, like movingAverage."},
	} {
		fn := m.fn
		Register(m.name, func(e *Env, a *Args) ([]*Series, error) {
			return movingWindow(e, a, a.Value(1), fn, a.Float(2, math.NaN()))
		}, FuncMeta{
			Group:       "Calculate",
			Description: m.desc,
			Params: []Param{
				seriesListParam(),
				{Name: "windowSize", Type: TypeIntOrInterval, Required: true, Suggestions: intOrIntervalSuggestions},
				{Name: "xFilesFactor", Type: TypeFloat},
			},
		})
	}
	Register("movingWindow", func(e *Env, a *Args) ([]*Series, error) {
		return movingWindow(e, a, a.Value(1), a.String(2, "average"), a.Float(3, math.NaN()))
	}, FuncMeta{
		Group:       "Calculate",
		Description: "Aggregates the preceding windowSize points or interval with func (an aggregation function), like movingAverage.",
		Params: []Param{
			seriesListParam(),
			{Name: "windowSize", Type: TypeIntOrInterval, Required: true, Suggestions: intOrIntervalSuggestions},
			{Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()},
			{Name: "xFilesFactor", Type: TypeFloat},
		},
	})
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

// pyCapitalize is Python's str.capitalize for ASCII names.
func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

// movingWindow is graphite-web's movingWindow: the first argument is
// evaluated again from 'from' minus the window, and output point k
// aggregates raw points [k, k+windowPoints) of that longer series.
func movingWindow(e *Env, a *Args, window Value, fn string, xff float64) ([]*Series, error) {
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	var preview int64
	isInterval := window.Kind == ValString
	switch window.Kind {
	case ValString:
		sec, err := intervalSeconds(window.Str)
		if err != nil {
			return nil, err
		}
		preview = max(sec, -sec)
	case ValNumber:
		if math.IsInf(window.Num, 0) || math.Abs(window.Num) > 1e9 {
			return nil, inputErrorf("invalid windowSize %s", window.PyStr())
		}
		var maxStep int64
		for _, s := range list {
			maxStep = max(maxStep, s.Step)
		}
		preview = maxStep * int64(window.Num)
	default:
		return nil, inputErrorf("invalid windowSize %s", window.PyStr())
	}
	if preview < 0 {
		return nil, inputErrorf("invalid windowSize %s", window.PyStr())
	}
	long, err := e.EvalRange(a.Value(0).Node, e.From-preview, e.Until)
	if err != nil {
		return nil, err
	}
	tag := "moving" + pyCapitalize(fn)
	out := make([]*Series, 0, len(long))
	buf := make([]float64, 0, 64)
	for _, s := range long {
		var name string
		var wp int64
		if isInterval {
			name = tag + "(" + s.Name + ",\"" + window.Str + "\")"
			if s.Step > 0 {
				wp = preview / s.Step
			}
		} else {
			name = tag + "(" + s.Name + "," + window.PyStr() + ")"
			wp = int64(window.Num)
		}
		s.Tags.Set(tag, window.PyStr())
		ns := s.copyWith(name, nil)
		ns.Start = s.Start + preview
		x := xff
		if math.IsNaN(x) {
			x = s.XFilesFactor
		}
		vals := s.Values
		if wp < 0 {
			wp = 0
		}
		for i := int(wp); i < len(vals); i++ {
			buf = buf[:0]
			for _, v := range vals[i-int(wp) : i] {
				if !math.IsNaN(v) {
					buf = append(buf, v)
				}
			}
			if len(buf) > 0 && xffOK(len(buf), int(wp), x) {
				ns.Values = append(ns.Values, agg(buf))
			} else {
				ns.Values = append(ns.Values, math.NaN())
			}
		}
		out = append(out, ns)
	}
	return out, nil
}
