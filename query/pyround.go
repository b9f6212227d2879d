package query

import (
	"math"
	"strconv"
)

// pyRound is Python's round(x, ndigits) for floats: the exact binary value
// correctly rounded to ndigits decimals (ties to even).
func pyRound(x float64, ndigits int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	f, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', ndigits, 64), 64)
	if err != nil {
		return x
	}
	return f
}
