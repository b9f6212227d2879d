package query

import "math"

func init() {
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
