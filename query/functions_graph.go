package query

import "math"

// graphFunctions is graphite-web's "Graph" function group.
func graphFunctions() []Function {
	fns := []Function{
		{"alpha", fnAlpha, FuncMeta{Description: "Sets the opacity of the series in rendered graphs; data is unchanged.",
			Params: []Param{seriesListParam(), {Name: "alpha", Type: TypeFloat, Required: true}}}},
		{"areaBetween", fnAreaBetween, FuncMeta{Description: "Fills the area between exactly two series in rendered graphs; both are renamed areaBetween(path).", Params: []Param{seriesListParam()}}},
		{"color", fnColor, FuncMeta{Description: "Sets the color of the series in rendered graphs; data is unchanged.",
			Params: []Param{seriesListParam(), {Name: "theColor", Type: TypeString, Required: true}}}},
		{"dashed", fnDashed, FuncMeta{Description: "Draws the series dashed in rendered graphs; data is unchanged.", Params: []Param{seriesListParam(), {Name: "dashLength", Type: TypeInteger, Default: 5}}}},
		{"lineWidth", fnLineWidth, FuncMeta{Description: "Sets the line width in rendered graphs; data is unchanged.",
			Params: []Param{seriesListParam(), {Name: "width", Type: TypeFloat, Required: true}}}},
		{"stacked", fnStacked, FuncMeta{
			Description: "Stacks the series on top of each other (running sum per point across series and targets of the request).",
			Params:      []Param{seriesListParam(), {Name: "stack", Type: TypeString}},
			Signature:   "seriesLists, stackName='__DEFAULT__'",
		}},
		{"threshold", fnThreshold, FuncMeta{Description: "A constant line at value named label (a drawing helper).", Params: []Param{
			{Name: "value", Type: TypeFloat, Required: true}, {Name: "label", Type: TypeString}, {Name: "color", Type: TypeString},
		}}},
		{"verticalLine", fnVerticalLine, FuncMeta{Description: "A vertical line at ts (any from/until form) named label; one point of value 1 for data formats.",
			Params: []Param{{Name: "ts", Type: TypeDate, Required: true}, {Name: "label", Type: TypeString}, {Name: "color", Type: TypeString}}}},
	}
	for _, n := range []string{"secondYAxis", "drawAsInfinite"} {
		tag := n
		fns = append(fns, Function{n, func(e *Env, a *Args) ([]*Series, error) {
			list := a.SeriesList(0)
			for _, s := range list {
				s.Tags.Set(tag, "1")
				s.Name = tag + "(" + s.Name + ")"
				if tag == "secondYAxis" {
					s.Graph.SecondYAxis = true
				} else {
					s.Graph.DrawAsInfinite = true
				}
			}
			return list, nil
		}, FuncMeta{Description: "A rendering option; for data formats the series is renamed " + tag + "(name).", Params: []Param{seriesListParam()}}})
	}
	return fns
}

func fnAreaBetween(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	if len(list) != 2 {
		return nil, inputErrorf("areaBetween series argument must reference *exactly* 2 series")
	}
	lower, upper := list[0], list[1]
	lower.Graph.Stacked, lower.Graph.Invisible = true, true
	upper.Graph.Stacked = true
	upper.Tags.Set("areaBetween", "1")
	lower.Tags = upper.Tags.Clone()
	name := "areaBetween(" + upper.PathExpression + ")"
	lower.Name, upper.Name = name, name
	return list, nil
}

func fnDashed(e *Env, a *Args) ([]*Series, error) {
	l := a.Float(1, 5)
	ls := "5"
	if a.Has(1) {
		ls = a.Value(1).PyStr()
	}
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("dashed", ls)
		s.Name = "dashed(" + s.Name + ", " + FormatG(l) + ")"
		s.Graph.Dashed = l
	}
	return list, nil
}

func fnThreshold(e *Env, a *Args) ([]*Series, error) {
	v := a.Value(0)
	s := constantLine(e, v.Num, v.PyStr())
	if l := a.String(1, ""); l != "" {
		s.Name = l
	}
	s.Color = a.String(2, "")
	return []*Series{s}, nil
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
		ns := s.copyWith(newName, nv)
		ns.Graph.Stacked = true
		out = append(out, ns)
	}
	e.st.mu.Lock()
	e.st.stacks[name] = total
	e.st.mu.Unlock()
	return out, nil
}

// fnColor, fnAlpha and fnLineWidth only style drawn graphs (query/graph):
// for data formats the series pass through unchanged.
func fnColor(e *Env, a *Args) ([]*Series, error) {
	c := a.String(1, "")
	list := a.SeriesList(0)
	for _, s := range list {
		s.Color = c
	}
	return list, nil
}

func fnAlpha(e *Env, a *Args) ([]*Series, error) {
	v := a.Float(1, 1)
	list := a.SeriesList(0)
	for _, s := range list {
		s.Graph.Alpha, s.Graph.HasAlpha = v, true
	}
	return list, nil
}

func fnLineWidth(e *Env, a *Args) ([]*Series, error) {
	v := a.Float(1, 1)
	list := a.SeriesList(0)
	for _, s := range list {
		s.Graph.LineWidth, s.Graph.HasLineWidth = v, true
	}
	return list, nil
}
