package query

import "regexp"

// aliasFunctions is graphite-web's "Alias" function group.
func aliasFunctions() []Function {
	fns := []Function{
		{"alias", fnAlias, FuncMeta{
			Description: "Takes one metric or a wildcard seriesList and a string in quotes. Prints the string instead of the metric name in the legend.",
			Params: []Param{
				{Name: "seriesList", Type: TypeSeriesList, Required: true},
				{Name: "newName", Type: TypeString, Required: true},
			},
		}},
		{"aliasByMetric", fnAliasByMetric, FuncMeta{Description: "Renames each series to the last node of its metric path.", Params: []Param{seriesListParam()}}},
		{"aliasByNode", fnAliasByNode, FuncMeta{
			Description: "Takes a seriesList and applies an alias derived from one or more \"node\" portion/s of the target name or tags. Node indices are 0 indexed.",
			Params: []Param{
				{Name: "seriesList", Type: TypeSeriesList, Required: true},
				{Name: "nodes", Type: TypeNodeOrTag, Required: true, Multiple: true},
			},
		}},
		{"aliasByTags", fnAliasByNode, FuncMeta{
			Description: "Renames each series to the values of the given tags (or path nodes for integers) joined by dots.",
			Params:      []Param{seriesListParam(), {Name: "tags", Type: TypeNodeOrTag, Required: true, Multiple: true}},
		}},
		{"aliasQuery", fnAliasQuery, FuncMeta{Description: "Renames each series with newName (a Python %-format) filled with the last value of the query obtained by replacing search with replace in its name.",
			Params: []Param{seriesListParam(), {Name: "search", Type: TypeString, Required: true},
				{Name: "replace", Type: TypeString, Required: true}, {Name: "newName", Type: TypeString, Required: true}}}},
		{"aliasSub", fnAliasSub, FuncMeta{
			Description: "Runs series names through a regex search/replace.",
			Params: []Param{
				{Name: "seriesList", Type: TypeSeriesList, Required: true},
				{Name: "search", Type: TypeString, Required: true},
				{Name: "replace", Type: TypeString, Required: true},
			},
		}},
		{"legendValue", fnLegendValue, FuncMeta{Description: "Appends aggregate values (e.g. avg, max, last) to each series name; a final 'si' or 'binary' formats them with unit prefixes in fixed-width columns.",
			Params:    []Param{seriesListParam(), {Name: "valuesTypes", Type: TypeString, Multiple: true, Options: legendOptions()}},
			Signature: "seriesList, *valueTypes"}},
	}
	return fns
}

func fnAliasByMetric(e *Env, a *Args) ([]*Series, error) {
	return substr(a.SeriesList(0), -1, 0), nil
}

func fnAlias(e *Env, a *Args) ([]*Series, error) {
	name := a.String(1, "")
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = name
	}
	return list, nil
}

func fnAliasByNode(e *Env, a *Args) ([]*Series, error) {
	nodes := a.Multi(1)
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = aggKey(s, nodes)
	}
	return list, nil
}

func fnAliasSub(e *Env, a *Args) ([]*Series, error) {
	re, repl, err := searchReplaceArgs(a)
	if err != nil {
		return nil, err
	}
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = re.ReplaceAllString(s.Name, repl)
	}
	return list, nil
}

// searchReplaceArgs are aliasSub's and aliasQuery's search (argument 1, a
// Python regular expression) and replace (argument 2, with \1 or \g<1>
// group references) arguments.
func searchReplaceArgs(a *Args) (*regexp.Regexp, string, error) {
	re, err := CompilePythonRegexp(a.String(1, ""))
	if err != nil {
		return nil, "", err
	}
	repl, err := PythonReplacement(a.String(2, ""), re)
	if err != nil {
		return nil, "", err
	}
	return re, repl, nil
}
