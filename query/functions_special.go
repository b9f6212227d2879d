package query

import "math"

func init() {
	for _, name := range []string{"setXFilesFactor", "xFilesFactor"} {
		Register(name, fnSetXFilesFactor, FuncMeta{
			Group:       "Special",
			Description: "Sets the xFilesFactor of the series and of everything evaluated after it in the request.",
			Params:      []Param{{Name: "seriesList", Type: TypeSeriesList, Required: true}, {Name: "xFilesFactor", Type: TypeFloat, Required: true}},
		})
	}
	Register("constantLine", fnConstantLine, FuncMeta{
		Group:       "Special",
		Description: "A horizontal line at value: three points, at the start, middle and end of the requested range.",
		Params:      []Param{{Name: "value", Type: TypeFloat, Required: true}},
	})
}

// constantLine is graphite-web's constantLine with str(value) given.
func constantLine(e *Env, value float64, str string) *Series {
	step := int64(math.Trunc(float64(e.Until-e.From) / 2.0))
	s := NewSeries(str, e.From, e.Until, step, []float64{value, value, value}, e.XFilesFactor)
	s.PathExpression = "constantLine(" + str + ")"
	return s
}

func fnConstantLine(e *Env, a *Args) ([]*Series, error) {
	v := a.Value(0)
	return []*Series{constantLine(e, v.Num, v.PyStr())}, nil
}

func fnSetXFilesFactor(e *Env, a *Args) ([]*Series, error) {
	x := a.Float(1, 0)
	e.st.mu.Lock()
	e.st.xff, e.st.hasXFF = x, true
	e.st.mu.Unlock()
	e.XFilesFactor = x
	list := a.SeriesList(0)
	for _, s := range list {
		s.XFilesFactor = x
		s.Tags.Set("xFilesFactor", a.Value(1).PyStr())
	}
	return list, nil
}
