package query

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

func legendOptions() []string {
	var out []string
	for _, n := range AggFuncNames() {
		out = append(out, n, n+"Series")
	}
	out = append(out, "si", "binary")
	sort.Strings(out)
	return out
}

type unitPrefix struct {
	prefix string
	size   float64
}

var unitSystems = map[string][]unitPrefix{
	"binary": {{"Pi", math.Pow(1024, 5)}, {"Ti", math.Pow(1024, 4)}, {"Gi", math.Pow(1024, 3)}, {"Mi", 1024 * 1024}, {"Ki", 1024}},
	"si":     {{"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}},
}

// formatUnits is graphite-web's glyph.format_units without step.
func formatUnits(v float64, system, units string) (float64, string) {
	for _, u := range unitSystems[system] {
		if math.Abs(v) >= u.size {
			v2 := v / u.size
			if v2-math.Floor(v2) < 0.00000000001 && v > 1 {
				v2 = math.Floor(v2)
			}
			return v2, u.prefix + units
		}
	}
	if v-math.Floor(v) < 0.00000000001 && v > 1 {
		v = math.Floor(v)
	}
	return v, units
}

// pyF2 is Python's "%.2f" % x.
func pyF2(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// padRight is Python's "%-Ns".
func padRight(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

func fnLegendValue(e *Env, a *Args) ([]*Series, error) {
	var types []string
	for _, v := range a.Multi(1) {
		types = append(types, v.PyStr())
	}
	if len(types) == 0 {
		return nil, inputErrorf("legendValue needs at least one value type")
	}
	system := ""
	if last := types[len(types)-1]; last == "si" || last == "binary" {
		system = last
		types = types[:len(types)-1]
	}
	list := a.SeriesList(0)
	for _, vt := range types {
		agg, ok := GetAggFunc(vt)
		for _, s := range list {
			str := "(?)"
			val := math.NaN()
			if ok {
				val = agg(s.Consolidated())
				switch {
				case math.IsNaN(val):
					str = "None"
				case vt == "count":
					str = strconv.FormatInt(int64(val), 10)
				default:
					str = FloatRepr(val)
				}
			}
			if system == "" {
				s.Name += " (" + vt + ": " + str + ")"
				continue
			}
			formatted := str
			if ok && !math.IsNaN(val) {
				v2, p := formatUnits(val, system, "")
				formatted = pyF2(v2) + p
			}
			s.Name = padRight(s.Name, 20) + padRight(vt, 5) + padRight(formatted, 10)
		}
	}
	return list, nil
}

func fnCactiStyle(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	if len(list) == 0 {
		return list, nil
	}
	system, units := a.String(1, ""), a.String(2, "")
	fmtv := func(x float64) string {
		switch {
		case system != "" && units != "":
			v, p := formatUnits(x, system, units)
			return pyF2(v) + " " + p
		case system != "":
			v, p := formatUnits(x, system, "")
			return pyF2(v) + p
		case units != "":
			return pyF2(x) + " " + units
		}
		return pyF2(x)
	}
	// int(value or 3): None and 0 count as 3.
	orThree := func(v float64) float64 {
		if math.IsNaN(v) || v == 0 {
			return 3
		}
		return math.Trunc(v) + 0 // Python's int() has no negative zero
	}
	nameLen, lastLen, maxLen, minLen := 0, 0, 0, 0
	for _, s := range list {
		c := s.Consolidated()
		nameLen = max(nameLen, utf8.RuneCountInString(s.Name))
		lastLen = max(lastLen, len(fmtv(orThree(safeLast(c))))+3)
		maxLen = max(maxLen, len(fmtv(orThree(safeMax(c))))+3)
		minLen = max(minLen, len(fmtv(orThree(safeMin(c))))+3)
	}
	for _, s := range list {
		c := s.Consolidated()
		show := func(v float64) string {
			if math.IsNaN(v) {
				return "nan"
			}
			return fmtv(v)
		}
		s.Name = padRight(s.Name, nameLen) + " Current:" + padRight(show(safeLast(c)), lastLen) +
			" Max:" + padRight(show(safeMax(c)), maxLen) + " Min:" + padRight(show(safeMin(c)), minLen) + " "
	}
	return list, nil
}
