package query

import (
	"math"
	"slices"
	"strings"
)

// AggFunc aggregates one row or window of values (NaN = None) and returns
// NaN for graphite-web's None.
type AggFunc func(vals []float64) float64

// aggFuncs are graphite-web's functions/aggfuncs.py, with the safe*
// helpers' None handling.
var aggFuncs = map[string]AggFunc{
	"average":  safeAvg,
	"avg_zero": safeAvgZero,
	"median":   safeMedian,
	"sum":      safeSum,
	"min":      safeMin,
	"max":      safeMax,
	"diff":     safeDiff,
	"stddev":   safeStdDev,
	"count":    safeCount,
	"range":    safeRange,
	"multiply": safeMultiply,
	"last":     safeLast,
}

var aggFuncAliases = map[string]string{
	"rangeOf": "range",
	"avg":     "average",
	"total":   "sum",
	"current": "last",
}

// AggFuncNames lists the accepted names (options of aggFunc parameters),
// sorted as graphite-web sorts Param options.
func AggFuncNames() []string {
	var out []string
	for k := range aggFuncs {
		out = append(out, k)
	}
	for k := range aggFuncAliases {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func validAggFunc(name string, deprecated bool) bool {
	if deprecated {
		name = strings.TrimSuffix(name, "Series")
	}
	_, ok := aggFuncs[name]
	_, ok2 := aggFuncAliases[name]
	return ok || ok2
}

// GetAggFunc returns the aggregation function for name (graphite-web's
// getAggFunc; "...Series" names are not accepted here).
func GetAggFunc(name string) (AggFunc, bool) {
	if a, ok := aggFuncAliases[name]; ok {
		name = a
	}
	f, ok := aggFuncs[name]
	return f, ok
}

var nan = math.NaN()

func safeSum(v []float64) float64 {
	s, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return nan
	}
	return s
}

func safeAvg(v []float64) float64 {
	s, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return nan
	}
	return s / float64(n)
}

func safeAvgZero(v []float64) float64 {
	if len(v) == 0 {
		return nan
	}
	s := 0.0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
		}
	}
	return s / float64(len(v))
}

func safeMedian(v []float64) float64 {
	var s []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return nan
	}
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 0 {
		return (s[mid-1] + s[mid]) / 2
	}
	return s[mid]
}

func safeMin(v []float64) float64 {
	m, ok := math.Inf(1), false
	for _, x := range v {
		if !math.IsNaN(x) && (!ok || x < m) {
			m, ok = x, true
		}
	}
	if !ok {
		return nan
	}
	return m
}

func safeMax(v []float64) float64 {
	m, ok := math.Inf(-1), false
	for _, x := range v {
		if !math.IsNaN(x) && (!ok || x > m) {
			m, ok = x, true
		}
	}
	if !ok {
		return nan
	}
	return m
}

func safeDiff(v []float64) float64 {
	s, n := 0.0, 0
	for _, x := range v {
		if math.IsNaN(x) {
			continue
		}
		if n == 0 {
			s = x
		} else {
			s += -x
		}
		n++
	}
	if n == 0 {
		return nan
	}
	return s
}

func safeStdDev(v []float64) float64 {
	avg := safeAvg(v)
	if math.IsNaN(avg) {
		return nan
	}
	s, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += (x - avg) * (x - avg)
			n++
		}
	}
	return math.Sqrt(s / float64(n))
}

func safeCount(v []float64) float64 {
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			n++
		}
	}
	return float64(n)
}

func safeRange(v []float64) float64 {
	mx, mn := safeMax(v), safeMin(v)
	if math.IsNaN(mx) || math.IsNaN(mn) {
		return nan
	}
	return mx - mn
}

func safeMultiply(v []float64) float64 {
	if len(v) == 0 {
		return nan
	}
	p := 1.0
	for i, x := range v {
		if math.IsNaN(x) {
			return nan
		}
		if i == 0 {
			p = x
		} else {
			p *= x
		}
	}
	return p
}

func safeLast(v []float64) float64 {
	for i := len(v) - 1; i >= 0; i-- {
		if !math.IsNaN(v[i]) {
			return v[i]
		}
	}
	return nan
}
