package query

import "math"

// specialFunctions is graphite-web's "Special" function group.
func specialFunctions() []Function {
	fns := []Function{
		{"cactiStyle", fnCactiStyle, FuncMeta{Description: "Renames each series to a fixed-width legend with its current, maximum and minimum values (optionally with si/binary prefixes and units).",
			Params: []Param{seriesListParam(), {Name: "system", Type: TypeString, Options: []string{"si", "binary"}},
				{Name: "units", Type: TypeString}}}},
		{"changed", fnChanged, FuncMeta{Description: "1 where the value differs from the previous value seen, else 0.", Params: []Param{seriesListParam()}}},
		{"consolidateBy", fnConsolidateBy, FuncMeta{
			Description: "Sets the function used to consolidate points when more points than maxDataPoints are returned.",
			Params: []Param{
				seriesListParam(),
				{Name: "consolidationFunc", Type: TypeString, Required: true, Options: []string{"average", "avg", "avg_zero", "first", "last", "max", "min", "sum"}},
			},
		}},
		{"constantLine", fnConstantLine, FuncMeta{
			Description: "A horizontal line at value: three points, at the start, middle and end of the requested range.",
			Params:      []Param{{Name: "value", Type: TypeFloat, Required: true}},
		}},
		{"cumulative", fnCumulative, FuncMeta{Description: "Same as consolidateBy(seriesList, 'sum').", Params: []Param{seriesListParam()}}},
		{"events", fnEvents, FuncMeta{Description: "Counts the events (of /events/) carrying all the given tags, per second; events('*') counts every event.",
			Params: []Param{{Name: "tags", Type: TypeString, Required: true, Multiple: true}}}},
		{"fallbackSeries", fnFallbackSeries, FuncMeta{Description: "Returns fallback when seriesList is empty.", Params: []Param{seriesListParam(), {Name: "fallback", Type: TypeSeriesList, Required: true}}}},
		{"seriesByTag", fnSeriesByTag, FuncMeta{
			Description: "Returns the tagged series matching every tag expression: tag=value, tag!=value, tag=~regex, tag!=~regex (at least one must require a non-empty value).",
			Params:      []Param{{Name: "tagExpressions", Type: TypeString, Required: true, Multiple: true}},
		}},
		{"substr", fnSubstr, FuncMeta{Description: "Renames each series to a slice of its path nodes (start, stop as Python slice bounds).",
			Params: []Param{seriesListParam(), {Name: "start", Type: TypeNode, Default: 0}, {Name: "stop", Type: TypeNode, Default: 0}}}},
	}
	for _, n := range []string{"randomWalkFunction", "randomWalk"} {
		fns = append(fns, Function{n, fnRandomWalk, FuncMeta{Description: "A random walk starting at 0 (steps uniform in -0.5..0.5).",
			Params: []Param{{Name: "name", Type: TypeString, Required: true}, {Name: "step", Type: TypeInteger, Default: 60}}}})
	}
	for _, name := range []string{"setXFilesFactor", "xFilesFactor"} {
		fns = append(fns, Function{name, fnSetXFilesFactor, FuncMeta{
			Description: "Sets the xFilesFactor of the series and of everything evaluated after it in the request.",
			Params:      []Param{{Name: "seriesList", Type: TypeSeriesList, Required: true}, {Name: "xFilesFactor", Type: TypeFloat, Required: true}},
		}})
	}
	return fns
}

func fnChanged(e *Env, a *Args) ([]*Series, error) {
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
}

func fnCumulative(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	for _, s := range list {
		s.ConsolidationFunc = "sum"
		s.Tags.Set("consolidateBy", "sum")
		s.Name = "consolidateBy(" + s.Name + ",\"sum\")"
		s.PathExpression = s.Name
	}
	return list, nil
}

func fnFallbackSeries(e *Env, a *Args) ([]*Series, error) {
	if l := a.SeriesList(0); len(l) > 0 {
		return l, nil
	}
	return a.SeriesList(1), nil
}

func fnSubstr(e *Env, a *Args) ([]*Series, error) {
	return substr(a.SeriesList(0), a.Int(1, 0), a.Int(2, 0)), nil
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

func fnConsolidateBy(e *Env, a *Args) ([]*Series, error) {
	fn := a.String(1, "")
	list := a.SeriesList(0)
	for _, s := range list {
		s.ConsolidationFunc = fn
		s.Tags.Set("consolidateBy", fn)
		s.Name = "consolidateBy(" + s.Name + ",\"" + fn + "\")"
		s.PathExpression = s.Name
	}
	return list, nil
}
