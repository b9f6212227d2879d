package query

import (
	"math"
	"sort"
	"strconv"
)

func init() {
	Register("round", fnRound, FuncMeta{Group: "Transform", Description: "Rounds every value to precision decimal places (Python's round: ties to even).",
		Params: []Param{seriesListParam(), {Name: "precision", Type: TypeInteger, Default: 0}}, Signature: "seriesList, precision=None"})
	Register("add", func(e *Env, a *Args) ([]*Series, error) {
		c := a.Float(1, 0)
		list := a.SeriesList(0)
		for _, s := range list {
			s.Tags.Set("add", a.Value(1).PyStr())
			s.Name = "add(" + s.Name + "," + strconv.FormatInt(int64(c), 10) + ")"
			s.PathExpression = s.Name
			for i, v := range s.Values {
				s.Values[i] = v + c
			}
		}
		return list, nil
	}, FuncMeta{Group: "Transform", Description: "Adds a constant to every value.", Params: []Param{seriesListParam(), {Name: "constant", Type: TypeFloat, Required: true}}})
	unary := func(name, tag, tagVal, desc string, f func(float64) float64) {
		Register(name, func(e *Env, a *Args) ([]*Series, error) {
			list := a.SeriesList(0)
			for _, s := range list {
				s.Tags.Set(tag, tagVal)
				s.Name = name + "(" + s.Name + ")"
				s.PathExpression = s.Name
				for i, v := range s.Values {
					if math.IsNaN(v) {
						continue
					}
					s.Values[i] = f(v)
				}
			}
			return list, nil
		}, FuncMeta{Group: "Transform", Description: desc, Params: []Param{seriesListParam()}})
	}
	unary("exp", "exp", "e", "e raised to every value.", math.Exp)
	unary("sigmoid", "sigmoid", "sigmoid", "The logistic function 1/(1+e^-x) of every value.", func(v float64) float64 { return 1 / (1 + math.Exp(-v)) })
	unary("logit", "logit", "logit", "The logit function log(x/(1-x)) of every value (missing outside 0 < x < 1).", func(v float64) float64 {
		if v == 1 {
			return math.NaN()
		}
		r := v / (1 - v)
		if r <= 0 {
			return math.NaN()
		}
		return math.Log(r)
	})
	Register("mostDeviant", func(e *Env, a *Args) ([]*Series, error) {
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
	}, FuncMeta{Group: "Filter Series", Description: "Keeps the n series with the largest variance.", Params: []Param{seriesListParam(), nParam()}})
	for _, r := range []struct {
		name  string
		above bool
		desc  string
	}{
		{"removeAbovePercentile", true, "Removes values above the series' n-th percentile."},
		{"removeBelowPercentile", false, "Removes values below the series' n-th percentile."},
	} {
		name, above := r.name, r.above
		Register(name, func(e *Env, a *Args) ([]*Series, error) {
			n := a.Float(1, 0)
			if n == 0 {
				return nil, inputErrorf("The requested percent is required to be greater than 0")
			}
			list := a.SeriesList(0)
			for _, s := range list {
				s.Name = name + "(" + s.Name + ", " + FormatG(n) + ")"
				s.PathExpression = s.Name
				p := percentile(s.Consolidated(), n, false)
				if math.IsNaN(p) || s.Step <= 0 || (s.End-s.Start)/s.Step <= 0 {
					continue
				}
				s.Tags.Set("nPercentile", a.Value(1).PyStr())
				for i, v := range s.Values {
					if (above && v > p) || (!above && (math.IsNaN(v) || v < p)) {
						s.Values[i] = math.NaN()
					}
				}
			}
			return list, nil
		}, FuncMeta{Group: "Filter Data", Description: r.desc, Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}})
	}
	Register("stdev", fnStdev, FuncMeta{Group: "Calculate",
		Description: "Rolling standard deviation over the last points values (missing while fewer than windowTolerance of them are present).",
		Params:      []Param{seriesListParam(), {Name: "points", Type: TypeInteger, Required: true}, {Name: "windowTolerance", Type: TypeFloat, Default: 0.1}}})
	Register("timeStack", fnTimeStack, FuncMeta{Group: "Transform",
		Description: "One copy of the series per shift from timeShiftStart to timeShiftEnd-1 units back, each stamped onto the current window.",
		Params: []Param{
			seriesListParam(),
			{Name: "timeShiftUnit", Type: TypeInterval, Default: "1d", Suggestions: []any{"1h", "6h", "12h", "1d", "2d", "7d", "14d", "30d"}},
			{Name: "timeShiftStart", Type: TypeInteger, Default: 0},
			{Name: "timeShiftEnd", Type: TypeInteger, Default: 7},
		}})
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

func fnStdev(e *Env, a *Args) ([]*Series, error) {
	points := a.Int(1, 0)
	if points <= 0 {
		return nil, inputErrorf("stdev points must be positive")
	}
	tol := a.Float(2, 0.1)
	list := a.SeriesList(0)
	out := make([]*Series, len(list))
	for k, s := range list {
		s.Tags.Set("stdev", strconv.Itoa(points))
		c := s.Consolidated()
		vals := make([]float64, 0, len(c))
		valid := 0
		sum, sumSq := 0.0, 0.0
		for i, v := range c {
			dropped := math.NaN()
			if i >= points {
				dropped = s.Values[i-points]
			}
			if !math.IsNaN(dropped) {
				valid--
				sum -= dropped
				sumSq -= dropped * dropped
			}
			if !math.IsNaN(v) {
				valid++
				sum += v
				sumSq += v * v
			}
			if valid > 0 && float64(valid)/float64(points) >= tol {
				d := float64(valid)*sumSq - sum*sum
				if d < 0 {
					vals = append(vals, math.NaN())
				} else {
					vals = append(vals, math.Sqrt(d)/float64(valid))
				}
			} else {
				vals = append(vals, math.NaN())
			}
		}
		out[k] = s.copyWith("stdev("+s.Name+","+strconv.Itoa(points)+")", vals)
	}
	return out, nil
}

func fnTimeStack(e *Env, a *Args) ([]*Series, error) {
	unit := a.String(1, "1d")
	if unit != "" && unit[0] >= '0' && unit[0] <= '9' {
		unit = "-" + unit
	}
	delta, err := intervalSeconds(unit)
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
