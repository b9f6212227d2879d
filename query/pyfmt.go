package query

import (
	"math"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query/floatfmt"
)

// AppendFloatRepr appends Python's repr() of f (what json.dumps, str() and
// the raw format print): shortest round-trip digits, scientific notation
// when the decimal exponent is < -4 or >= 16, always with a ".0" or an
// exponent, and "nan", "inf", "-inf".
func AppendFloatRepr(b []byte, f float64) []byte {
	b, _ = appendFloatRepr(b, f, true)
	return b
}

// appendFloatRepr is AppendFloatRepr; tryFew says whether to try
// appendFewDecimals first (the same text either way), few whether it
// printed f.
func appendFloatRepr(b []byte, f float64, tryFew bool) (out []byte, few bool) {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...), false
	case math.IsInf(f, 1):
		return append(b, "inf"...), false
	case math.IsInf(f, -1):
		return append(b, "-inf"...), false
	}
	if floatfmt.InRange(f) {
		if tryFew && math.Abs(f) < 1e14 {
			if out, ok := appendFewDecimals(b, f); ok {
				return out, true
			}
		}
		// Shortest round-trip digits in fixed notation, as Python's repr.
		return floatfmt.AppendFixed(b, f), false
	}
	return appendFloatReprSci(b, f), false
}

// appendFloatReprSci is AppendFloatRepr outside [1e-4, 1e16) and for 0.
func appendFloatReprSci(b []byte, f float64) []byte {
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

var pow10 = [...]float64{1, 10, 100, 1000, 10000}

// appendFewDecimals appends repr(f) for 1e-4 <= |f| < 1e14 when f is the
// double nearest to k/10^d for an integer k and d <= 4 (integers and
// values with a few decimals: most metrics): the shortest round-trip
// digits are then k's with a point d digits from the right, found without
// strconv's general shortest-digits search. |f|*10^d < 2^50 keeps f's
// spacing below half of 10^-d, so no other d-decimal number rounds to f
// and no shorter one does. A number of fewer decimals is also one of 4
// (k*10^(4-d)/10^4 is the same number), so below 2^50/10^4 one test at
// d = 4 decides, and trailing zeros give the shortest d.
func appendFewDecimals(b []byte, f float64) ([]byte, bool) {
	x := f * 1e4
	if math.Abs(x) >= 1<<50 {
		return appendFewDecimalsLarge(b, f)
	}
	k := math.Round(x)
	if k/1e4 != f {
		return b, false
	}
	// k's digits right to left: the 4 decimals less their trailing
	// zeros (".0" if all are), then the integer part.
	u := uint64(math.Abs(k))
	ip, fp := u/10000, u%10000
	var tmp [24]byte
	i := len(tmp)
	if fp == 0 {
		i -= 2
		tmp[i], tmp[i+1] = '.', '0'
	} else {
		d := 4
		for fp%10 == 0 {
			fp /= 10
			d--
		}
		for range d {
			i--
			tmp[i] = byte('0' + fp%10)
			fp /= 10
		}
		i--
		tmp[i] = '.'
	}
	for ip >= 10 {
		q := ip / 100
		r := ip - q*100
		if q == 0 {
			i -= 2
			tmp[i], tmp[i+1] = twoDigits[2*r], twoDigits[2*r+1]
			ip = 0
			break
		}
		i -= 2
		tmp[i], tmp[i+1] = twoDigits[2*r], twoDigits[2*r+1]
		ip = q
	}
	if ip > 0 || tmp[i] == '.' { // at least one integer digit
		i--
		tmp[i] = byte('0' + ip)
	}
	if k < 0 {
		i--
		tmp[i] = '-'
	}
	return append(b, tmp[i:]...), true
}

const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// appendFewDecimalsLarge is appendFewDecimals for |f|*10^4 >= 2^50: each
// d tried from 0 while |f|*10^d < 2^50.
func appendFewDecimalsLarge(b []byte, f float64) ([]byte, bool) {
	for d, p := range pow10 {
		x := f * p
		if math.Abs(x) >= 1<<50 {
			return b, false
		}
		k := math.Round(x)
		if k/p == f {
			return appendDecimal(b, int64(k), d), true
		}
	}
	return b, false
}

// appendDecimal appends ki/10^d with exactly d decimals (".0" for d = 0),
// the digits written right to left into a buffer of its own.
func appendDecimal(b []byte, ki int64, d int) []byte {
	var tmp [32]byte
	u := uint64(ki)
	if ki < 0 {
		u = -u
	}
	i := len(tmp)
	for range d {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
	}
	if d > 0 {
		i--
		tmp[i] = '.'
	}
	for {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if ki < 0 {
		i--
		tmp[i] = '-'
	}
	b = append(b, tmp[i:]...)
	if d == 0 {
		b = append(b, '.', '0')
	}
	return b
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
