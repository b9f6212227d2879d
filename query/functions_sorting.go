package query

import (
	"regexp"
	"sort"
	"strings"
)

// sortingFunctions is graphite-web's "Sorting" function group.
func sortingFunctions() []Function {
	fns := []Function{
		{"sortBy", fnSortBy, FuncMeta{
			Description: "Sorts the series by an aggregate of their values (func, default average), ascending unless reverse.",
			Params: []Param{
				seriesListParam(),
				{Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()},
				{Name: "reverse", Type: TypeBoolean, Default: false},
			},
		}},
		{"sortByMaxima", fnSortByMaxima, FuncMeta{Description: "Sorts the series by their maximum value, largest first.", Params: []Param{seriesListParam()}}},
		{"sortByMinima", fnSortByMinima, FuncMeta{Description: "Sorts the series by their minimum value, smallest first, dropping series whose maximum is not above 0.", Params: []Param{seriesListParam()}}},
		{"sortByName", fnSortByName, FuncMeta{
			Description: "Sorts the series by name; natural=true compares digit runs as numbers.",
			Params: []Param{
				seriesListParam(),
				{Name: "natural", Type: TypeBoolean, Default: false},
				{Name: "reverse", Type: TypeBoolean, Default: false},
			},
		}},
		{"sortByTotal", fnSortByTotal, FuncMeta{Description: "Sorts the series by the sum of their values, largest first.", Params: []Param{seriesListParam()}}},
	}
	return fns
}

func fnSortBy(e *Env, a *Args) ([]*Series, error) {
	fn := a.String(1, "average")
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	list := a.SeriesList(0)
	sortByAgg(list, agg, a.Bool(2, false))
	return list, nil
}

func fnSortByMaxima(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	sortByAgg(list, safeMax, true)
	return list, nil
}

func fnSortByMinima(e *Env, a *Args) ([]*Series, error) {
	var kept []*Series
	for _, s := range a.SeriesList(0) {
		if m := safeMax(s.Consolidated()); m > 0 {
			kept = append(kept, s)
		}
	}
	sortByAgg(kept, safeMin, false)
	return kept, nil
}

func fnSortByTotal(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	sortByAgg(list, safeSum, true)
	return list, nil
}

var digitRun = regexp.MustCompile(`\d+`)

// natKey pads digit runs to 10 digits like graphite-web's natSortKey.
func natKey(s string) string {
	return digitRun.ReplaceAllStringFunc(s, func(d string) string {
		t := strings.TrimLeft(d, "0")
		if t == "" {
			t = "0"
		}
		if len(t) < 10 {
			t = strings.Repeat("0", 10-len(t)) + t
		}
		return t
	})
}

func fnSortByName(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	natural, rev := a.Bool(1, false), a.Bool(2, false)
	key := func(s *Series) string { return s.Name }
	if natural {
		keys := make(map[*Series]string, len(list))
		for _, s := range list {
			keys[s] = natKey(s.Name)
		}
		key = func(s *Series) string { return keys[s] }
	}
	sort.SliceStable(list, func(i, j int) bool {
		if rev {
			return key(list[i]) > key(list[j])
		}
		return key(list[i]) < key(list[j])
	})
	return list, nil
}
