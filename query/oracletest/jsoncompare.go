package oracletest

import (
	"encoding/json"
	"math"
)

// JSONEqual compares two JSON documents with numbers compared by value
// (graphite-web's Python ints, such as 3, equal our floats, 3.0) within the
// relative tolerance tol (0: exactly).
func JSONEqual(a, b []byte, tol float64) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return valueEqual(x, y, tol)
}

func valueEqual(x, y any, tol float64) bool {
	switch xv := x.(type) {
	case float64:
		yv, ok := y.(float64)
		return ok && (xv == yv || math.Abs(xv-yv) <= tol*math.Max(math.Abs(xv), math.Abs(yv)))
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for i := range xv {
			if !valueEqual(xv[i], yv[i], tol) {
				return false
			}
		}
		return true
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for k := range xv {
			if !valueEqual(xv[k], yv[k], tol) {
				return false
			}
		}
		return true
	default:
		return x == y
	}
}
