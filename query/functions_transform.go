package query

import "math"

func init() {
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
