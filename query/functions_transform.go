package query

import "math"

func seriesListParam() Param { return Param{Name: "seriesList", Type: TypeSeriesList, Required: true} }

func init() {
	Register("absolute", fnAbsolute, FuncMeta{
		Group:       "Transform",
		Description: "Replaces every value with its absolute value.",
		Params:      []Param{seriesListParam()},
	})
	Register("offset", fnOffset, FuncMeta{
		Group:       "Transform",
		Description: "Adds a constant to every value; missing values stay missing.",
		Params:      []Param{seriesListParam(), {Name: "factor", Type: TypeFloat, Required: true}},
	})
	Register("derivative", fnDerivative, FuncMeta{
		Group:       "Transform",
		Description: "Difference between each value and the one before it (not divided by time); missing next to a gap.",
		Params:      []Param{seriesListParam()},
	})
	Register("nonNegativeDerivative", fnNonNegativeDerivative, FuncMeta{
		Group:       "Transform",
		Description: "Like derivative, but a decrease (counter reset) gives a missing value, or a wrapped delta when maxValue (and minValue) describe the counter's range.",
		Params:      []Param{seriesListParam(), {Name: "maxValue", Type: TypeFloat}, {Name: "minValue", Type: TypeFloat}},
	})
	Register("perSecond", fnPerSecond, FuncMeta{
		Group:       "Transform",
		Description: "nonNegativeDerivative divided by the step in seconds, rounded to 6 decimals.",
		Params:      []Param{seriesListParam(), {Name: "maxValue", Type: TypeFloat}, {Name: "minValue", Type: TypeFloat}},
	})
	Register("integral", fnIntegral, FuncMeta{
		Group:       "Transform",
		Description: "Running total of the values; missing values stay missing and add nothing.",
		Params:      []Param{seriesListParam()},
	})
	Register("scale", fnScale, FuncMeta{
		Group:       "Transform",
		Description: "Takes one metric or a wildcard seriesList followed by a constant, and multiplies the datapoint by the constant provided at each point.",
		Params: []Param{
			{Name: "seriesList", Type: TypeSeriesList, Required: true},
			{Name: "factor", Type: TypeFloat, Required: true},
		},
	})
}

// safeMul2 is safeMul(a, b): None if either is None.
func safeMul2(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a * b
}

func fnScale(e *Env, a *Args) ([]*Series, error) {
	factor := a.Float(1, 0)
	fs := a.Value(1).PyStr()
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("scale", fs)
		s.Name = "scale(" + s.Name + "," + FormatG(factor) + ")"
		s.PathExpression = s.Name
		for i, v := range s.Values {
			s.Values[i] = safeMul2(v, factor)
		}
	}
	return list, nil
}

func fnAbsolute(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("absolute", "1")
		s.Name = "absolute(" + s.Name + ")"
		s.PathExpression = s.Name
		for i, v := range s.Values {
			s.Values[i] = math.Abs(v)
		}
	}
	return list, nil
}

func fnOffset(e *Env, a *Args) ([]*Series, error) {
	factor := a.Float(1, 0)
	fs := a.Value(1).PyStr()
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("offset", fs)
		s.Name = "offset(" + s.Name + "," + FormatG(factor) + ")"
		s.PathExpression = s.Name
		for i, v := range s.Values {
			s.Values[i] = v + factor
		}
	}
	return list, nil
}

func fnDerivative(e *Env, a *Args) ([]*Series, error) {
	var out []*Series
	for _, s := range a.SeriesList(0) {
		vals := s.Consolidated()
		nv := make([]float64, len(vals))
		prev := math.NaN()
		for i, v := range vals {
			if math.IsNaN(prev) || math.IsNaN(v) {
				nv[i] = math.NaN()
			} else {
				nv[i] = v - prev
			}
			prev = v
		}
		s.Tags.Set("derivative", "1")
		out = append(out, s.copyWith("derivative("+s.Name+")", nv))
	}
	return out, nil
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
	var out []*Series
	for _, s := range a.SeriesList(0) {
		vals := s.Consolidated()
		nv := make([]float64, len(vals))
		prev := math.NaN()
		for i, v := range vals {
			nv[i], prev = nonNegativeDelta(v, prev, maxV, minV)
		}
		s.Tags.Set("nonNegativeDerivative", "1")
		out = append(out, s.copyWith("nonNegativeDerivative("+s.Name+")", nv))
	}
	return out, nil
}

func fnPerSecond(e *Env, a *Args) ([]*Series, error) {
	maxV, minV := a.Float(1, math.NaN()), a.Float(2, math.NaN())
	var out []*Series
	for _, s := range a.SeriesList(0) {
		vals := s.Consolidated()
		nv := make([]float64, len(vals))
		prev := math.NaN()
		for i, v := range vals {
			var d float64
			d, prev = nonNegativeDelta(v, prev, maxV, minV)
			if math.IsNaN(d) {
				nv[i] = math.NaN()
			} else {
				nv[i] = pyRound(d/float64(s.Step), 6)
			}
		}
		s.Tags.Set("perSecond", "1")
		out = append(out, s.copyWith("perSecond("+s.Name+")", nv))
	}
	return out, nil
}

func fnIntegral(e *Env, a *Args) ([]*Series, error) {
	var out []*Series
	for _, s := range a.SeriesList(0) {
		vals := s.Consolidated()
		nv := make([]float64, len(vals))
		cur := 0.0
		for i, v := range vals {
			if math.IsNaN(v) {
				nv[i] = math.NaN()
			} else {
				cur += v
				nv[i] = cur
			}
		}
		s.Tags.Set("integral", "1")
		out = append(out, s.copyWith("integral("+s.Name+")", nv))
	}
	return out, nil
}
