package query

import (
	"math"
	"strconv"
	"time"
)

// transformFunctions is graphite-web's "Transform" function group.
func transformFunctions() []Function {
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
	fns := []Function{
		{"absolute", fnAbsolute, FuncMeta{
			Description: "Replaces every value with its absolute value.",
			Params:      []Param{seriesListParam()},
		}},
		{"add", fnAdd, FuncMeta{Description: "Adds a constant to every value.", Params: []Param{seriesListParam(), {Name: "constant", Type: TypeFloat, Required: true}}}},
		{"delay", fnDelay, FuncMeta{Description: "Shifts the values later by steps points (earlier for negative steps), padding with missing values.", Params: []Param{seriesListParam(), {Name: "steps", Type: TypeInteger, Required: true}}}},
		{"derivative", fnDerivative, FuncMeta{
			Description: "Difference between each value and the one before it (not divided by time); missing next to a gap.",
			Params:      []Param{seriesListParam()},
		}},
		{"exp", unaryFunc("exp", "exp", "e", math.Exp), FuncMeta{Description: "e raised to every value.", Params: []Param{seriesListParam()}}},
		{"hitcount", fnHitcount, FuncMeta{
			Description: "Treats values as rates per second and returns the total per interval bucket (buckets end at the series' end, or start at a whole unit with alignToInterval).",
			Params: []Param{
				seriesListParam(),
				{Name: "intervalString", Type: TypeInterval, Required: true, Suggestions: []any{"10min", "1h", "1d"}},
				{Name: "alignToInterval", Type: TypeBoolean, Default: false},
			},
		}},
		{"integral", fnIntegral, FuncMeta{
			Description: "Running total of the values; missing values stay missing and add nothing.",
			Params:      []Param{seriesListParam()},
		}},
		{"integralByInterval", fnIntegralByInterval, FuncMeta{Description: "Running total that restarts at every interval boundary (counted from 'from').",
			Params: []Param{seriesListParam(), {Name: "intervalUnit", Type: TypeString, Required: true}}}},
		{"interpolate", fnInterpolate, FuncMeta{Description: "Fills gaps of at most limit points by linear interpolation between the values around them (not at the ends).",
			Params: []Param{seriesListParam(), {Name: "limit", Type: TypeIntOrInf, Default: math.Inf(1)}}}},
		{"invert", powFn("invert", "invert", func(*Args) float64 { return -1 }, nil), FuncMeta{Description: "1/x for every value (missing for 0).", Params: []Param{seriesListParam()}}},
		{"isNonNull", fnIsNonNull, FuncMeta{Description: "1 where the series has a value, 0 where it is missing.", Params: []Param{seriesListParam()}}},
		{"keepLastValue", fnKeepLastValue, FuncMeta{
			Description: "Fills runs of missing values (of at most limit points) with the last value seen before them.",
			Params:      []Param{seriesListParam(), {Name: "limit", Type: TypeIntOrInf, Default: math.Inf(1)}},
		}},
		{"log", fnLog, FuncMeta{Description: "Logarithm of every value in base (default 10); missing for values <= 0.",
			Params: []Param{seriesListParam(), {Name: "base", Type: TypeInteger, Default: 10}}}},
		{"logit", unaryFunc("logit", "logit", "logit", logit), FuncMeta{Description: "The logit function log(x/(1-x)) of every value (missing outside 0 < x < 1).", Params: []Param{seriesListParam()}}},
		{"minMax", fnMinMax, FuncMeta{Description: "Scales every series to the 0..1 range of its own minimum and maximum.", Params: []Param{seriesListParam()}}},
		{"nonNegativeDerivative", fnNonNegativeDerivative, FuncMeta{
			Description: "Like derivative, but a decrease (counter reset) gives a missing value, or a wrapped delta when maxValue (and minValue) describe the counter's range.",
			Params:      []Param{seriesListParam(), {Name: "maxValue", Type: TypeFloat}, {Name: "minValue", Type: TypeFloat}},
		}},
		{"offset", fnOffset, FuncMeta{
			Description: "Adds a constant to every value; missing values stay missing.",
			Params:      []Param{seriesListParam(), {Name: "factor", Type: TypeFloat, Required: true}},
		}},
		{"offsetToZero", fnOffsetToZero, FuncMeta{Description: "Subtracts the series' minimum from every value.", Params: []Param{seriesListParam()}}},
		{"perSecond", fnPerSecond, FuncMeta{
			Description: "nonNegativeDerivative divided by the step in seconds, rounded to 6 decimals.",
			Params:      []Param{seriesListParam(), {Name: "maxValue", Type: TypeFloat}, {Name: "minValue", Type: TypeFloat}},
		}},
		{"pow", powFn("pow", "pow", func(a *Args) float64 { return a.Float(1, 1) }, func(a *Args) string { return FormatG(a.Float(1, 1)) }), FuncMeta{Description: "Raises every value to the power factor.", Params: []Param{seriesListParam(), {Name: "factor", Type: TypeFloat, Required: true}}}},
		{"round", fnRound, FuncMeta{Description: "Rounds every value to precision decimal places (Python's round: ties to even).",
			Params: []Param{seriesListParam(), {Name: "precision", Type: TypeInteger, Default: 0}}, Signature: "seriesList, precision=None"}},
		{"scale", fnScale, FuncMeta{
			Description: "Takes one metric or a wildcard seriesList followed by a constant, and multiplies the datapoint by the constant provided at each point.",
			Params: []Param{
				{Name: "seriesList", Type: TypeSeriesList, Required: true},
				{Name: "factor", Type: TypeFloat, Required: true},
			},
		}},
		{"scaleToSeconds", fnScaleToSeconds, FuncMeta{Description: "Converts per-step values to per-seconds values (value × seconds / step), rounded to 6 decimals.",
			Params: []Param{seriesListParam(), {Name: "seconds", Type: TypeFloat, Required: true}}}},
		{"sigmoid", unaryFunc("sigmoid", "sigmoid", "sigmoid", func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }), FuncMeta{Description: "The logistic function 1/(1+e^-x) of every value.", Params: []Param{seriesListParam()}}},
		{"smartSummarize", fnSmartSummarize, FuncMeta{Description: "Like summarize, but buckets start at the series' start ('from'), optionally moved back to a whole alignTo unit (years, months, weeks, days, hours, minutes, seconds).",
			Params: []Param{
				seriesListParam(),
				{Name: "intervalString", Type: TypeInterval, Required: true, Suggestions: []any{"10min", "1h", "1d"}},
				{Name: "func", Type: TypeAggFunc, Default: "sum", Options: AggFuncNames()},
				{Name: "alignTo", Type: TypeString, Options: []string{"years", "months", "weeks", "days", "hours", "minutes", "seconds"}, ExtraOptions: []any{nil, true, false}},
			}}},
		{"squareRoot", powFn("squareRoot", "squareRoot", func(*Args) float64 { return 0.5 }, nil), FuncMeta{Description: "Square root of every value (missing for negative values).", Params: []Param{seriesListParam()}}},
		{"summarize", fnSummarize, FuncMeta{
			Description: "Re-buckets the data into intervals (aligned to multiples of the interval, or to 'from' with alignToFrom) aggregated with func (default sum).",
			Params: []Param{
				seriesListParam(),
				{Name: "intervalString", Type: TypeInterval, Required: true, Suggestions: []any{"10min", "1h", "1d"}},
				{Name: "func", Type: TypeAggFunc, Default: "sum", Options: AggFuncNames()},
				{Name: "alignToFrom", Type: TypeBoolean, Default: false},
			},
		}},
		{"timeShift", fnTimeShift, FuncMeta{
			Description: "Draws the series as it was a given interval earlier (or later with a leading +), re-stamped into the current window.",
			Params: []Param{
				seriesListParam(),
				{Name: "timeShift", Type: TypeInterval, Required: true, Suggestions: []any{"1h", "6h", "12h", "1d", "2d", "7d", "14d", "30d"}},
				{Name: "resetEnd", Type: TypeBoolean, Default: true},
				{Name: "alignDst", Type: TypeBoolean, Default: false},
			},
			Signature: "seriesList, timeShift, resetEnd=True, alignDST=False",
		}},
		{"timeSlice", fnTimeSlice, FuncMeta{Description: "Keeps the values between startSliceAt and endSliceAt (any from/until form); missing elsewhere.",
			Params: []Param{seriesListParam(), {Name: "startSliceAt", Type: TypeDate, Required: true},
				{Name: "endSliceAt", Type: TypeDate, Default: "now"}}}},
		{"timeStack", fnTimeStack, FuncMeta{Description: "One copy of the series per shift from timeShiftStart to timeShiftEnd-1 units back, each stamped onto the current window.",
			Params: []Param{
				seriesListParam(),
				{Name: "timeShiftUnit", Type: TypeInterval, Default: "1d", Suggestions: []any{"1h", "6h", "12h", "1d", "2d", "7d", "14d", "30d"}},
				{Name: "timeShiftStart", Type: TypeInteger, Default: 0},
				{Name: "timeShiftEnd", Type: TypeInteger, Default: 7},
			}}},
		{"transformNull", fnTransformNull, FuncMeta{
			Description: "Replaces missing values with default (0 unless given); with referenceSeries only where some reference series has a value.",
			Params: []Param{
				seriesListParam(),
				{Name: "default", Type: TypeFloat, Default: 0},
				{Name: "referenceSeries", Type: TypeSeriesList},
			},
		}},
	}
	for _, n := range []string{"timeFunction", "time"} {
		fns = append(fns, Function{n, fnTimeFunction, FuncMeta{Description: "A series whose value at each step is its own timestamp.",
			Params: []Param{{Name: "name", Type: TypeString, Required: true}, {Name: "step", Type: TypeInteger, Default: 60}}}})
	}
	for _, n := range []string{"sinFunction", "sin"} {
		fns = append(fns, Function{n, fnSinFunction, FuncMeta{Description: "A sine wave of the timestamp, times amplitude.",
			Params: []Param{{Name: "name", Type: TypeString, Required: true}, {Name: "amplitude", Type: TypeInteger, Default: 1},
				{Name: "step", Type: TypeInteger, Default: 60}}}})
	}
	return fns
}

func fnAdd(e *Env, a *Args) ([]*Series, error) {
	c := a.Float(1, 0)
	suffix := "," + strconv.FormatInt(int64(c), 10) + ")"
	return mapInPlace(a.SeriesList(0), "add", a.Value(1).PyStr(), func(name string) string { return "add(" + name + suffix },
		func(v float64) float64 { return v + c }), nil
}

func fnDelay(e *Env, a *Args) ([]*Series, error) {
	steps := a.Int(1, 0)
	var out []*Series
	for _, s := range a.SeriesList(0) {
		v := s.Values
		var nv []float64
		if steps < 0 {
			k := min(-steps, len(v))
			nv = append(nv, v[k:]...)
			for i := 0; i < k; i++ {
				nv = append(nv, math.NaN())
			}
		} else {
			k := min(steps, len(v))
			for i := 0; i < k; i++ {
				nv = append(nv, math.NaN())
			}
			// Python's series[:-steps]: empty for steps == 0.
			if steps > 0 && steps < len(v) {
				nv = append(nv, v[:len(v)-steps]...)
			}
		}
		s.Tags.Set("delay", strconv.Itoa(steps))
		out = append(out, s.copyWith("delay("+s.Name+","+strconv.Itoa(steps)+")", nv))
	}
	return out, nil
}

func fnIsNonNull(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("isNonNull", "1")
		s.Name = "isNonNull(" + s.Name + ")"
		s.PathExpression = s.Name
		vals := s.Consolidated()
		nv := make([]float64, len(vals))
		for i, v := range vals {
			if !math.IsNaN(v) {
				nv[i] = 1
			}
		}
		s.Values, s.ValuesPerPoint, s.IntValues = nv, 1, true
	}
	return list, nil
}

func fnMinMax(e *Env, a *Args) ([]*Series, error) {
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
}

func fnOffsetToZero(e *Env, a *Args) ([]*Series, error) {
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
}

func fnScaleToSeconds(e *Env, a *Args) ([]*Series, error) {
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

func fnRound(e *Env, a *Args) ([]*Series, error) {
	prec := a.Int(1, 0)
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("round", strconv.Itoa(prec))
		if a.Has(1) {
			s.Name = "round(" + s.Name + "," + strconv.Itoa(prec) + ")"
		} else {
			s.Name = "round(" + s.Name + ")"
		}
		s.PathExpression = s.Name
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			if prec >= 0 {
				s.Values[i] = pyRound(v, prec)
			} else {
				p := math.Pow(10, float64(-prec))
				s.Values[i] = math.RoundToEven(v/p) * p
			}
		}
	}
	return list, nil
}

// pastInterval reads the interval of timeShift and timeStack: one without a
// sign goes back in time (graphite-web puts a "-" before a leading digit). It
// returns the interval as written with that sign, and its seconds.
func pastInterval(s string) (string, int64, error) {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "-" + s
	}
	d, err := intervalSeconds(s)
	return s, d, err
}

func fnTimeStack(e *Env, a *Args) ([]*Series, error) {
	unit, delta, err := pastInterval(a.String(1, "1d"))
	if err != nil {
		return nil, err
	}
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	first := list[0]
	start, end := a.Int(2, 0), a.Int(3, 7)
	if end-start > 1000 {
		return nil, inputErrorf("timeStack: at most 1000 shifts")
	}
	var out []*Series
	for shft := start; shft < end; shft++ {
		d := delta * int64(shft)
		shifted, err := e.EvalRange(a.Value(0).Node, e.From+d, e.Until+d)
		if err != nil {
			return nil, err
		}
		for _, s := range shifted {
			s.Tags.Set("timeShiftUnit", unit)
			s.Tags.Set("timeShift", strconv.Itoa(shft))
			s.Name = "timeShift(" + s.Name + ", " + unit + ", " + strconv.Itoa(shft) + ")"
			s.PathExpression = s.Name
			s.Start, s.End = first.Start, first.End
			out = append(out, s)
		}
	}
	return out, nil
}

// unaryFunc returns a function applying f to every present value, naming
// the result name(series) and tagging it tag=tagVal.
func unaryFunc(name, tag, tagVal string, f func(float64) float64) Func {
	return func(e *Env, a *Args) ([]*Series, error) {
		return mapInPlace(a.SeriesList(0), tag, tagVal, func(s string) string { return name + "(" + s + ")" }, f), nil
	}
}

// mapInPlace renames each series of list to name(its name), tags it
// tag=tagVal and replaces each present value v by f(v), in place.
func mapInPlace(list []*Series, tag, tagVal string, name func(string) string, f func(float64) float64) []*Series {
	for _, s := range list {
		s.Tags.Set(tag, tagVal)
		s.Name = name(s.Name)
		s.PathExpression = s.Name
		for i, v := range s.Values {
			if !math.IsNaN(v) {
				s.Values[i] = f(v)
			}
		}
	}
	return list
}

// logit is log(v/(1-v)), missing outside 0 < v < 1.
func logit(v float64) float64 {
	if v == 1 {
		return math.NaN()
	}
	r := v / (1 - v)
	if r <= 0 {
		return math.NaN()
	}
	return math.Log(r)
}

func fnScale(e *Env, a *Args) ([]*Series, error) {
	factor := a.Float(1, 0)
	suffix := "," + FormatG(factor) + ")"
	return mapInPlace(a.SeriesList(0), "scale", a.Value(1).PyStr(), func(name string) string { return "scale(" + name + suffix },
		func(v float64) float64 { return safeMul2(v, factor) }), nil
}

func fnAbsolute(e *Env, a *Args) ([]*Series, error) {
	return mapInPlace(a.SeriesList(0), "absolute", "1", func(name string) string { return "absolute(" + name + ")" }, math.Abs), nil
}

func fnOffset(e *Env, a *Args) ([]*Series, error) {
	factor := a.Float(1, 0)
	suffix := "," + FormatG(factor) + ")"
	return mapInPlace(a.SeriesList(0), "offset", a.Value(1).PyStr(), func(name string) string { return "offset(" + name + suffix },
		func(v float64) float64 { return v + factor }), nil
}

func fnDerivative(e *Env, a *Args) ([]*Series, error) {
	return derived(a.SeriesList(0), "derivative", func(_ *Series, nv, vals []float64) {
		prev := math.NaN()
		for i, v := range vals {
			if math.IsNaN(prev) || math.IsNaN(v) {
				nv[i] = math.NaN()
			} else {
				nv[i] = v - prev
			}
			prev = v
		}
	}), nil
}

// derived returns, for each series of list, a new series name(its name)
// tagged name=1 whose values fill computes from its consolidated values
// (nv is as long as vals).
func derived(list []*Series, name string, fill func(s *Series, nv, vals []float64)) []*Series {
	var out []*Series
	for _, s := range list {
		vals := s.Consolidated()
		nv := make([]float64, len(vals))
		fill(s, nv, vals)
		s.Tags.Set(name, "1")
		out = append(out, s.copyWith(name+"("+s.Name+")", nv))
	}
	return out
}

// nonNegativeDelta is graphite-web's _nonNegativeDelta (NaN = None for
// maxValue/minValue too).
func nonNegativeDelta(val, prev, maxValue, minValue float64) (delta, newPrev float64) {
	nan := math.NaN()
	// Python compares None > x as an error only on Python 2 paths; with a
	// missing val these comparisons are False.
	if !math.IsNaN(maxValue) && !math.IsNaN(val) && val > maxValue {
		return nan, nan
	}
	if !math.IsNaN(minValue) && !math.IsNaN(val) && val < minValue {
		return nan, nan
	}
	if math.IsNaN(prev) || math.IsNaN(val) {
		return nan, val
	}
	if val >= prev {
		return val - prev, val
	}
	if !math.IsNaN(maxValue) {
		mv := 0.0
		if !math.IsNaN(minValue) {
			mv = minValue
		}
		return maxValue + 1 + val - prev - mv, val
	}
	if !math.IsNaN(minValue) {
		return val - minValue, val
	}
	return nan, val
}

func fnNonNegativeDerivative(e *Env, a *Args) ([]*Series, error) {
	maxV, minV := a.Float(1, math.NaN()), a.Float(2, math.NaN())
	return derived(a.SeriesList(0), "nonNegativeDerivative", func(_ *Series, nv, vals []float64) {
		nonNegativeDeltas(nv, vals, maxV, minV)
	}), nil
}

// nonNegativeDeltas sets nv to the nonNegativeDelta of each value of vals
// from the one before.
func nonNegativeDeltas(nv, vals []float64, maxV, minV float64) {
	prev := math.NaN()
	for i, v := range vals {
		nv[i], prev = nonNegativeDelta(v, prev, maxV, minV)
	}
}

func fnPerSecond(e *Env, a *Args) ([]*Series, error) {
	maxV, minV := a.Float(1, math.NaN()), a.Float(2, math.NaN())
	return derived(a.SeriesList(0), "perSecond", func(s *Series, nv, vals []float64) {
		nonNegativeDeltas(nv, vals, maxV, minV)
		for i, d := range nv {
			if !math.IsNaN(d) {
				nv[i] = pyRound(d/float64(s.Step), 6)
			}
		}
	}), nil
}

func fnIntegral(e *Env, a *Args) ([]*Series, error) {
	return derived(a.SeriesList(0), "integral", func(_ *Series, nv, vals []float64) {
		cur := 0.0
		for i, v := range vals {
			if math.IsNaN(v) {
				nv[i] = math.NaN()
			} else {
				cur += v
				nv[i] = cur
			}
		}
	}), nil
}

func positiveInterval(s string) (int64, error) {
	iv, err := intervalSeconds(s)
	if err != nil {
		return 0, err
	}
	if iv <= 0 {
		return 0, inputErrorf("interval %q must be positive", s)
	}
	return iv, nil
}

// summarizeArgs reads the arguments summarize and smartSummarize share: the
// interval (positive) as written and in seconds, and the aggregation
// function (default sum) by name and as a function.
func summarizeArgs(a *Args) (ivs string, interval int64, fn string, agg AggFunc, err error) {
	ivs = a.String(1, "")
	if interval, err = positiveInterval(ivs); err != nil {
		return "", 0, "", nil, err
	}
	fn = a.String(2, "sum")
	agg, ok := GetAggFunc(fn)
	if !ok {
		return "", 0, "", nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	return ivs, interval, fn, agg, nil
}

func fnSummarize(e *Env, a *Args) ([]*Series, error) {
	ivs, interval, fn, agg, err := summarizeArgs(a)
	if err != nil {
		return nil, err
	}
	alignToFrom := a.Bool(3, false)
	var out []*Series
	for _, s := range a.SeriesList(0) {
		var newStart, newEnd int64
		if alignToFrom {
			newStart, newEnd = s.Start, s.End
		} else {
			newStart = s.Start - pyMod(s.Start, interval)
			newEnd = s.End - pyMod(s.End, interval) + interval
		}
		if (newEnd-newStart)/interval > e.maxGenerated() {
			return nil, inputErrorf("summarize produces more than %d points per series (render-max-generated-points)", e.maxGenerated())
		}
		vals, alignedEnd := summarizeValues(s, agg, interval, newStart, newEnd)
		if alignToFrom {
			newEnd = alignedEnd
		}
		s.Tags.Set("summarize", ivs)
		s.Tags.Set("summarizeFunction", fn)
		suffix := ""
		if alignToFrom {
			suffix = ", true"
		}
		ns := s.copyWith("summarize("+s.Name+", \""+ivs+"\", \""+fn+"\""+suffix+")", vals)
		ns.Start, ns.End, ns.Step = newStart, newEnd, interval
		out = append(out, ns)
	}
	return out, nil
}

// summarizeValues is graphite-web's _summarizeValues, including its
// window start rule (a bucket's slice starts at the last point at or
// before the bucket start).
func summarizeValues(s *Series, agg AggFunc, interval, newStart, newEnd int64) ([]float64, int64) {
	data := s.Consolidated()
	var nts int64
	if s.Step > 0 && s.End > s.Start {
		nts = (s.End - s.Start + s.Step - 1) / s.Step
	}
	numPoints := min(int(nts), len(data))
	intervalPoints := float64(interval) / float64(s.Step)
	var vals []float64
	i := 0
	ts := newStart
	for ts < newEnd {
		start := i
		nonNull := 0
		for i < numPoints && s.Start+int64(i)*s.Step < ts+interval {
			t := s.Start + int64(i)*s.Step
			if t <= ts {
				start = i
			}
			if t >= ts && !math.IsNaN(data[i]) {
				nonNull++
			}
			i++
		}
		if nonNull > 0 && intervalPoints > 0 && float64(nonNull)/intervalPoints >= s.XFilesFactor {
			vals = append(vals, agg(data[start:i]))
		} else {
			vals = append(vals, math.NaN())
		}
		ts += interval
	}
	return vals, ts
}

func fnHitcount(e *Env, a *Args) ([]*Series, error) {
	ivs := a.String(1, "")
	interval, err := positiveInterval(ivs)
	if err != nil {
		return nil, err
	}
	align := a.Bool(2, false)
	list := a.SeriesList(0)
	if align {
		t := time.Unix(e.From, 0).In(e.Loc)
		from := e.From
		switch {
		case interval >= 86400:
			from = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, e.Loc).Unix()
		case interval >= 3600:
			from = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, e.Loc).Unix()
		case interval >= 60:
			from = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, e.Loc).Unix()
		}
		list, err = e.EvalRange(a.Value(0).Node, from, e.Until)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			count := (s.End - s.Start) / interval
			s.End = s.Start + count*interval + interval
		}
	}
	var out []*Series
	for _, s := range list {
		step := s.Step
		bucketCount := int64(math.Ceil(float64(s.End-s.Start) / float64(interval)))
		if bucketCount > e.maxGenerated() || bucketCount < 0 {
			return nil, inputErrorf("hitcount produces more than %d points per series (render-max-generated-points)", e.maxGenerated())
		}
		buckets := make([]float64, bucketCount)
		used := make([]bool, bucketCount)
		add := func(i int64, v float64) {
			buckets[i] += v
			used[i] = true
		}
		newStart := s.End - bucketCount*interval
		for i, v := range s.Consolidated() {
			if math.IsNaN(v) {
				continue
			}
			startTime := s.Start + int64(i)*step
			sb, sm := pyDivmod(startTime-newStart, interval)
			endTime := startTime + step
			eb, em := pyDivmod(endTime-newStart, interval)
			if eb >= bucketCount {
				eb = bucketCount - 1
				em = interval
			}
			if sb == eb {
				if sb >= 0 {
					add(sb, v*float64(em-sm))
				}
				continue
			}
			if sb >= 0 {
				add(sb, v*float64(interval-sm))
			}
			for j := max(sb+1, 0); j < eb; j++ {
				add(j, v*float64(interval))
			}
			if em > 0 {
				add(eb, v*float64(em))
			}
		}
		vals := make([]float64, bucketCount)
		for i := range vals {
			if used[i] {
				vals[i] = buckets[i]
			} else {
				vals[i] = math.NaN()
			}
		}
		s.Tags.Set("hitcount", ivs)
		suffix := ""
		if align {
			suffix = ", true"
		}
		ns := s.copyWith("hitcount("+s.Name+", \""+ivs+"\""+suffix+")", vals)
		ns.Start, ns.Step = newStart, interval
		out = append(out, ns)
	}
	return out, nil
}

func fnTimeShift(e *Env, a *Args) ([]*Series, error) {
	shift, delta, err := pastInterval(a.String(1, ""))
	if err != nil {
		return nil, err
	}
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	first := list[0]
	shifted, err := e.EvalRange(a.Value(0).Node, e.From+delta, e.Until+delta)
	if err != nil {
		return nil, err
	}
	resetEnd := a.Bool(2, true)
	for _, s := range shifted {
		s.Tags.Set("timeShift", shift)
		s.Name = "timeShift(" + s.Name + ", \"" + shift + "\")"
		if resetEnd {
			s.End = first.End
		} else {
			s.End = s.End - s.Start + first.Start
		}
		s.Start = first.Start
	}
	return shifted, nil
}

func fnKeepLastValue(e *Env, a *Args) ([]*Series, error) {
	limit := a.Float(1, math.Inf(1))
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = "keepLastValue(" + s.Name + ")"
		s.PathExpression = s.Name
		nones := 0
		last := math.NaN()
		v := s.Values
		for i, x := range v {
			if math.IsNaN(x) {
				nones++
				continue
			}
			if nones > 0 && float64(nones) <= limit && !math.IsNaN(last) {
				for k := i - nones; k < i; k++ {
					v[k] = last
				}
			}
			nones = 0
			last = x
		}
		if nones > 0 && float64(nones) <= limit && !math.IsNaN(last) {
			for k := len(v) - nones; k < len(v); k++ {
				v[k] = last
			}
		}
	}
	return list, nil
}

func fnTransformNull(e *Env, a *Args) ([]*Series, error) {
	def := a.Float(1, 0)
	defStr := "0"
	if a.Has(1) {
		defStr = a.Value(1).PyStr()
	}
	var defaults []float64
	ref := a.Has(2) && len(a.SeriesList(2)) > 0
	if ref {
		refs := a.SeriesList(2)
		rows := 0
		cols := make([][]float64, len(refs))
		for i, r := range refs {
			cols[i] = r.Consolidated()
			rows = max(rows, len(cols[i]))
		}
		defaults = make([]float64, rows)
		for r := range defaults {
			defaults[r] = math.NaN()
			for _, c := range cols {
				if r < len(c) && !math.IsNaN(c[r]) {
					defaults[r] = def
					break
				}
			}
		}
	}
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("transformNull", defStr)
		if ref {
			s.Tags.Set("referenceSeries", "1")
			s.Name = "transformNull(" + s.Name + "," + FormatG(def) + ",referenceSeries)"
		} else {
			s.Name = "transformNull(" + s.Name + "," + FormatG(def) + ")"
		}
		s.PathExpression = s.Name
		vals := s.Consolidated()
		if len(defaults) > 0 {
			n := max(len(vals), len(defaults))
			nv := make([]float64, n)
			for i := range nv {
				v, d := math.NaN(), math.NaN()
				if i < len(vals) {
					v = vals[i]
				}
				if i < len(defaults) {
					d = defaults[i]
				}
				if math.IsNaN(v) {
					nv[i] = d
				} else {
					nv[i] = v
				}
			}
			s.Values = nv
		} else {
			nv := make([]float64, len(vals))
			for i, v := range vals {
				if math.IsNaN(v) {
					nv[i] = def
				} else {
					nv[i] = v
				}
			}
			s.Values = nv
		}
		s.ValuesPerPoint = 1
	}
	return list, nil
}
