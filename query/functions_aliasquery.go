package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

func fnAliasQuery(e *Env, a *Args) ([]*Series, error) {
	re, repl, err := searchReplaceArgs(a)
	if err != nil {
		return nil, err
	}
	format := a.String(3, "")
	list := a.SeriesList(0)
	for _, s := range list {
		q := re.ReplaceAllString(s.Name, repl)
		res, err := e.evalString(q)
		if err != nil {
			return nil, err
		}
		if len(res) == 0 {
			return nil, inputErrorf("No series found with query: %s", q)
		}
		cur := safeLast(res[0].Consolidated())
		if math.IsNaN(cur) {
			return nil, inputErrorf("Cannot get last value of series: %s", res[0].Name)
		}
		name, err := pyPercentFloat(format, cur)
		if err != nil {
			return nil, err
		}
		s.Name = name
	}
	return list, nil
}

// pyPercentFloat is Python's format % x for one float argument, for the
// conversions d i u f F e E g G s r x X o and %%.
func pyPercentFloat(format string, x float64) (string, error) {
	var b strings.Builder
	used := false
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
			j++
		}
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		prec := -1
		if j < len(format) && format[j] == '.' {
			k := j + 1
			for k < len(format) && format[k] >= '0' && format[k] <= '9' {
				k++
			}
			prec, _ = strconv.Atoi(format[j+1 : k])
			j = k
		}
		if j >= len(format) {
			return "", inputErrorf("incomplete format in %q", format)
		}
		spec := format[i:j]
		conv := format[j]
		i = j
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		if used {
			return "", inputErrorf("not enough arguments for format string %q", format)
		}
		used = true
		switch conv {
		case 'd', 'i', 'u':
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return "", inputErrorf("cannot convert float %v to integer", x)
			}
			b.WriteString(fmt.Sprintf(spec+"d", int64(x)))
		case 'x', 'X', 'o':
			return "", inputErrorf("%%%c format: an integer is required, not float", conv)
		case 'f', 'F', 'e', 'E', 'g', 'G':
			if prec < 0 {
				spec += ".6"
			}
			s := fmt.Sprintf(spec+string(conv), x)
			s = strings.NewReplacer("+Inf", "inf", "-Inf", "-inf", "NaN", "nan").Replace(s)
			if conv == 'F' || conv == 'E' || conv == 'G' {
				s = strings.ToUpper(s)
			}
			b.WriteString(s)
		case 's', 'r':
			s := FloatRepr(x)
			if prec >= 0 && prec < len(s) {
				s = s[:prec]
			}
			width := strings.TrimLeft(spec[1:], "-+ #0")
			if k := strings.IndexByte(width, '.'); k >= 0 {
				width = width[:k]
			}
			w, _ := strconv.Atoi(width)
			pad := strings.Repeat(" ", max(0, w-len(s)))
			if strings.Contains(spec, "-") {
				s += pad
			} else {
				s = pad + s
			}
			b.WriteString(s)
		default:
			return "", inputErrorf("unsupported format character %q in %q", conv, format)
		}
	}
	if !used {
		return "", inputErrorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}
