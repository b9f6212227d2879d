package statsd

import (
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// bstr views b as a string without copying. Only for short-lived use while b
// is not modified.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// isJSSpaceRune reports whether r is white space or a line terminator for
// JavaScript's String.prototype.trim, Number() and the RegExp class \s.
func isJSSpaceRune(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsTrim removes leading and trailing JavaScript white space.
func jsTrim(b []byte) []byte {
	if n := len(b); n > 0 && b[0] > ' ' && b[0] < utf8.RuneSelf && b[n-1] > ' ' && b[n-1] < utf8.RuneSelf {
		return b
	}
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			if c != ' ' && (c < '\t' || c > '\r') {
				break
			}
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if !isJSSpaceRune(r) {
			break
		}
		b = b[n:]
	}
	for len(b) > 0 {
		c := b[len(b)-1]
		if c < utf8.RuneSelf {
			if c != ' ' && (c < '\t' || c > '\r') {
				break
			}
			b = b[:len(b)-1]
			continue
		}
		r, n := utf8.DecodeLastRune(b)
		if !isJSSpaceRune(r) {
			break
		}
		b = b[:len(b)-n]
	}
	return b
}

// jsIsNumber is statsd's isNumber: a non-empty string that JavaScript's
// Number() converts to something other than NaN. It returns the value.
func jsIsNumber(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	return jsNumber(b)
}

// jsNumber converts b like JavaScript's Number(string): surrounding white
// space is ignored, an empty string is 0, decimal literals with optional sign
// and exponent, Infinity, and unsigned 0x/0o/0b integers are accepted.
func jsNumber(b []byte) (float64, bool) {
	// Fast path: a short run of decimal digits.
	if n := len(b); n > 0 && n <= 15 {
		var v int64
		i := 0
		for ; i < n; i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			v = v*10 + int64(c)
		}
		if i == n {
			return float64(v), true
		}
	}
	if v, ok := fastDecimal(b); ok {
		return v, true
	}
	b = jsTrim(b)
	if len(b) == 0 {
		return 0, true
	}
	if len(b) > 2 && b[0] == '0' {
		base := 0
		switch b[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			return jsRadix(b[2:], base)
		}
	}
	s := b
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	if string(s) == "Infinity" {
		if b[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	// Decimal literal: digits [. digits] [e [+-] digits], at least one digit
	// in the mantissa.
	i, digits := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ed := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			ed++
		}
		if ed == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil && !math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func jsRadix(b []byte, base int) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'z':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'Z':
			d = int(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
	}
	if u, err := strconv.ParseUint(bstr(b), base, 64); err == nil {
		return float64(u), true
	}
	var v float64
	for _, c := range b {
		var d int
		switch {
		case c <= '9':
			d = int(c - '0')
		case c >= 'a':
			d = int(c-'a') + 10
		default:
			d = int(c-'A') + 10
		}
		v = v*float64(base) + float64(d)
	}
	return v, true
}

// appendJSNumber appends f formatted like JavaScript's Number.prototype.toString.
func appendJSNumber(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		return append(dst, '0')
	}
	a := math.Abs(f)
	if a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	// Go writes e+21 / e-07; JavaScript writes e+21 / e-7.
	for i := start; i < len(dst); i++ {
		if dst[i] == 'e' {
			j := i + 2 // first exponent digit
			k := j
			for k < len(dst)-1 && dst[k] == '0' {
				k++
			}
			dst = append(dst[:j], dst[k:]...)
			break
		}
	}
	return dst
}

// jsNumberString formats f like JavaScript's String(number).
func jsNumberString(f float64) string { return string(appendJSNumber(nil, f)) }

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastDecimal parses [+-]digits[.digits] with at most 15 significant digits
// in total. The mantissa and the power of ten are then exact doubles, so one
// IEEE division gives the correctly rounded value (Clinger's fast path), the
// same as strconv.ParseFloat and JavaScript. Anything else reports false.
func fastDecimal(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var m uint64
	digits, frac := 0, -1
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	v := float64(m)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}
