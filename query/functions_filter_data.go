package query

import "math"

// filterDataFunctions is graphite-web's "Filter Data" function group.
func filterDataFunctions() []Function {
	fns := []Function{
		{"removeAboveValue", fnRemoveAboveValue, FuncMeta{Description: "Removes values above n.", Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}}},
		{"removeBelowValue", fnRemoveBelowValue, FuncMeta{Description: "Removes values below n.", Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}}},
	}
	for _, r := range []struct {
		name  string
		above bool
		desc  string
	}{
		{"removeAbovePercentile", true, "Removes values above the series' n-th percentile."},
		{"removeBelowPercentile", false, "Removes values below the series' n-th percentile."},
	} {
		name, above := r.name, r.above
		fns = append(fns, Function{name, func(e *Env, a *Args) ([]*Series, error) {
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
		}, FuncMeta{Description: r.desc, Params: []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}}}})
	}
	return fns
}

func fnRemoveAboveValue(e *Env, a *Args) ([]*Series, error) {
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
}

func fnRemoveBelowValue(e *Env, a *Args) ([]*Series, error) {
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
}
