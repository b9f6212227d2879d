package query

import (
	"math"
	"strconv"
	"strings"
)

// AppendFloatRepr appends Python's repr() of f (what json.dumps, str() and
// the raw format print): shortest round-trip digits, scientific notation
// when the decimal exponent is < -4 or >= 16, always with a ".0" or an
// exponent, and "nan", "inf", "-inf".
func AppendFloatRepr(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	if a := math.Abs(f); a < 1e16 && a >= 1e-4 {
		// Shortest round-trip digits in fixed notation, as Python's repr.
		n := len(b)
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
		for _, c := range b[n:] {
			if c == '.' {
				return b
			}
		}
		return append(b, '.', '0')
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	// e is [-]d[.ddd]e(+|-)XX
	i := 0
	neg := false
	if e[0] == '-' {
		neg = true
		i = 1
	}
	ePos := strings.IndexByte(string(e), 'e')
	mant := e[i:ePos]
	exp, _ := strconv.Atoi(string(e[ePos+1:]))
	var digits []byte
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	if neg {
		b = append(b, '-')
	}
	if exp < -4 || exp >= 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if exp < 0 {
		b = append(b, '0', '.')
		for k := 0; k < -exp-1; k++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	// 0 <= exp < 16: digits with the point after exp+1 digits
	ip := exp + 1
	if ip >= len(digits) {
		b = append(b, digits...)
		for k := len(digits); k < ip; k++ {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	}
	b = append(b, digits[:ip]...)
	b = append(b, '.')
	return append(b, digits[ip:]...)
}

// FloatRepr returns Python's repr() of f.
func FloatRepr(f float64) string { return string(AppendFloatRepr(nil, f)) }

// FormatG formats f like Python's "%g" (6 significant digits).
func FormatG(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}
