package query

import (
	"math"
	"strconv"
)

func init() {
	Register("isNonNull", func(e *Env, a *Args) ([]*Series, error) {
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
	}, FuncMeta{Group: "Transform", Description: "1 where the series has a value, 0 where it is missing.", Params: []Param{seriesListParam()}})
	Register("changed", func(e *Env, a *Args) ([]*Series, error) {
		list := a.SeriesList(0)
		for _, s := range list {
			s.Name = "changed(" + s.Name + ")"
			s.PathExpression = s.Name
			prev := math.NaN()
			for i, v := range s.Values {
				switch {
				case math.IsNaN(prev):
					prev = v
					s.Values[i] = 0
				case !math.IsNaN(v) && prev != v:
					s.Values[i] = 1
					prev = v
				default:
					s.Values[i] = 0
				}
			}
			s.IntValues = true
		}
		return list, nil
	}, FuncMeta{Group: "Special", Description: "1 where the value differs from the previous value seen, else 0.", Params: []Param{seriesListParam()}})
	Register("delay", func(e *Env, a *Args) ([]*Series, error) {
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
	}, FuncMeta{Group: "Transform", Description: "Shifts the values later by steps points (earlier for negative steps), padding with missing values.", Params: []Param{seriesListParam(), {Name: "steps", Type: TypeInteger, Required: true}}})

	// Graph functions only style images; for data formats they pass the
	// series through with graphite-web's renames and tags.
	pass := func(name, desc string, extra ...Param) {
		Register(name, func(e *Env, a *Args) ([]*Series, error) { return a.SeriesList(0), nil },
			FuncMeta{Group: "Graph", Description: desc, Params: append([]Param{seriesListParam()}, extra...)})
	}
	pass("color", "Sets the color of the series in rendered graphs; data is unchanged.", Param{Name: "theColor", Type: TypeString, Required: true})
	pass("alpha", "Sets the opacity of the series in rendered graphs; data is unchanged.", Param{Name: "alpha", Type: TypeFloat, Required: true})
	pass("lineWidth", "Sets the line width in rendered graphs; data is unchanged.", Param{Name: "width", Type: TypeFloat, Required: true})
	for _, n := range []string{"secondYAxis", "drawAsInfinite"} {
		tag := n
		Register(n, func(e *Env, a *Args) ([]*Series, error) {
			list := a.SeriesList(0)
			for _, s := range list {
				s.Tags.Set(tag, "1")
				s.Name = tag + "(" + s.Name + ")"
			}
			return list, nil
		}, FuncMeta{Group: "Graph", Description: "A rendering option; for data formats the series is renamed " + tag + "(name).", Params: []Param{seriesListParam()}})
	}
	Register("dashed", func(e *Env, a *Args) ([]*Series, error) {
		l := a.Float(1, 5)
		ls := "5"
		if a.Has(1) {
			ls = a.Value(1).PyStr()
		}
		list := a.SeriesList(0)
		for _, s := range list {
			s.Tags.Set("dashed", ls)
			s.Name = "dashed(" + s.Name + ", " + FormatG(l) + ")"
		}
		return list, nil
	}, FuncMeta{Group: "Graph", Description: "Draws the series dashed in rendered graphs; data is unchanged.", Params: []Param{seriesListParam(), {Name: "dashLength", Type: TypeInteger, Default: 5}}})
	Register("stacked", fnStacked, FuncMeta{
		Group:       "Graph",
		Description: "Stacks the series on top of each other (running sum per point across series and targets of the request).",
		Params:      []Param{seriesListParam(), {Name: "stack", Type: TypeString}},
		Signature:   "seriesLists, stackName='__DEFAULT__'",
	})
	Register("areaBetween", func(e *Env, a *Args) ([]*Series, error) {
		list := a.SeriesList(0)
		if len(list) != 2 {
			return nil, inputErrorf("areaBetween series argument must reference *exactly* 2 series")
		}
		lower, upper := list[0], list[1]
		upper.Tags.Set("areaBetween", "1")
		lower.Tags = upper.Tags.Clone()
		name := "areaBetween(" + upper.PathExpression + ")"
		lower.Name, upper.Name = name, name
		return list, nil
	}, FuncMeta{Group: "Graph", Description: "Fills the area between exactly two series in rendered graphs; both are renamed areaBetween(path).", Params: []Param{seriesListParam()}})
	Register("threshold", func(e *Env, a *Args) ([]*Series, error) {
		v := a.Value(0)
		s := constantLine(e, v.Num, v.PyStr())
		if l := a.String(1, ""); l != "" {
			s.Name = l
		}
		return []*Series{s}, nil
	}, FuncMeta{Group: "Graph", Description: "A constant line at value named label (a drawing helper).", Params: []Param{
		{Name: "value", Type: TypeFloat, Required: true}, {Name: "label", Type: TypeString}, {Name: "color", Type: TypeString},
	}})
}

func fnStacked(e *Env, a *Args) ([]*Series, error) {
	name := a.String(1, "__DEFAULT__")
	e.st.mu.Lock()
	if e.st.stacks == nil {
		e.st.stacks = map[string][]float64{}
	}
	total := e.st.stacks[name]
	e.st.mu.Unlock()
	var out []*Series
	for _, s := range a.SeriesList(0) {
		nv := make([]float64, len(s.Values))
		for i, v := range s.Values {
			if len(total) <= i {
				total = append(total, 0)
			}
			if math.IsNaN(v) {
				nv[i] = math.NaN()
				continue
			}
			total[i] += v
			nv[i] = total[i]
		}
		newName := s.Name
		if name == "__DEFAULT__" {
			s.Tags.Set("stacked", name)
			newName = "stacked(" + s.Name + ")"
		}
		out = append(out, s.copyWith(newName, nv))
	}
	e.st.mu.Lock()
	e.st.stacks[name] = total
	e.st.mu.Unlock()
	return out, nil
}
