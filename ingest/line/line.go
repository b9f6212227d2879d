package line

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// MaxNameLen is the longest metric name accepted, in bytes.
const MaxNameLen = 1024

// Reasons a line is rejected. Each is a stable, countable reason.
var (
	ErrFields      = errors.New("line must have exactly three fields: path value timestamp")
	ErrValue       = errors.New("value is not a number")
	ErrNaN         = errors.New("value is NaN")
	ErrTimestamp   = errors.New("timestamp is not a valid unix time")
	ErrNameTooLong = errors.New("metric name too long")
	ErrName        = errors.New("metric name contains invalid bytes")
)

// maxTimestamp is the largest timestamp whisper can store (u32).
const maxTimestamp = math.MaxUint32

// spaceTab marks the bytes Python's str.split() splits on (ASCII
// whitespace, including the file/group/record/unit separators 0x1c-0x1f).
var spaceTab = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, '\v': true, '\f': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true}

func isSpace(c byte) bool { return spaceTab[c] }

// Parse parses one line (with or without its trailing newline). now replaces
// a timestamp of -1. The returned name aliases line.
func Parse(line []byte, now int64) (name []byte, value float64, ts int64, err error) {
	var fields [3][]byte
	if !splitCommon(line, &fields) {
		return parseGeneric(line, now)
	}
	// splitCommon's name holds no NUL.
	return parseFields(&fields, now)
}

// parseGeneric is Parse for any line: fields split as Python's str.split()
// splits them.
func parseGeneric(line []byte, now int64) (name []byte, value float64, ts int64, err error) {
	var fields [3][]byte
	n := 0
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		start := i
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		if n == 3 {
			return nil, 0, 0, ErrFields
		}
		fields[n] = line[start:i]
		n++
	}
	if n != 3 {
		return nil, 0, 0, ErrFields
	}
	if len(fields[0]) <= MaxNameLen {
		for _, c := range fields[0] {
			if c == 0 {
				return nil, 0, 0, ErrName
			}
		}
	}
	return parseFields(&fields, now)
}

// splitCommon splits the common shape of a line, "name value timestamp"
// with one ' ' between the fields, no NUL in the name and nothing but
// whitespace after the timestamp, into fields, as str.split() would. It
// reports false for anything else (parseGeneric's case).
func splitCommon(line []byte, fields *[3][]byte) bool {
	// The name: eight bytes at a time while none of them is <= 0x20 (every
	// separator and NUL is), then byte by byte.
	i := 0
	for i+8 <= len(line) {
		x := binary.LittleEndian.Uint64(line[i:])
		if (x-0x2121212121212121)&^x&0x8080808080808080 != 0 {
			break
		}
		i += 8
	}
	for i < len(line) && !nameStop[line[i]] {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ' ' {
		return false
	}
	fields[0] = line[:i]
	j := i + 1
	for j < len(line) && !isSpace(line[j]) {
		j++
	}
	if j == i+1 || j == len(line) || line[j] != ' ' {
		return false
	}
	fields[1] = line[i+1 : j]
	k := j + 1
	for k < len(line) && !isSpace(line[k]) {
		k++
	}
	if k == j+1 {
		return false
	}
	fields[2] = line[j+1 : k]
	for ; k < len(line); k++ {
		if !isSpace(line[k]) {
			return false
		}
	}
	return true
}

// nameStop marks the bytes that end splitCommon's name: the separators
// and NUL.
var nameStop = func() (t [256]bool) {
	t = spaceTab
	t[0] = true
	return t
}()

// parseFields checks and converts the three fields of a line whose name
// holds no NUL.
func parseFields(fields *[3][]byte, now int64) (name []byte, value float64, ts int64, err error) {
	name = fields[0]
	if len(name) > MaxNameLen {
		return nil, 0, 0, ErrNameTooLong
	}
	value, ok := parseFloat(fields[1])
	if !ok {
		return nil, 0, 0, ErrValue
	}
	if math.IsNaN(value) {
		return nil, 0, 0, ErrNaN
	}
	t, ok := parseFloat(fields[2])
	if !ok || math.IsNaN(t) {
		return nil, 0, 0, ErrTimestamp
	}
	if t == -1 {
		return name, value, now, nil
	}
	if t < 0 || t > maxTimestamp {
		return nil, 0, 0, ErrTimestamp
	}
	return name, value, int64(t), nil // truncation, as int(float) in Python
}

// parseFloat parses b as Python's float() would for the forms carbon sees:
// decimal integers and floats, exponents, inf/infinity/nan in any case, with
// an optional sign. Hexadecimal and Go-only forms are rejected.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	// Fast path: optional '-' then up to 18 digits.
	j := 0
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		j = 1
	}
	if len(b)-j > 0 && len(b)-j <= 18 {
		var v int64
		k := j
		for ; k < len(b); k++ {
			c := b[k] - '0'
			if c > 9 {
				break
			}
			v = v*10 + int64(c)
		}
		if k == len(b) {
			if neg {
				v = -v
			}
			return float64(v), true
		}
	}
	if v, ok := parseDecimal(b); ok {
		return v, true
	}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		case c == 'i' || c == 'n' || c == 'f' || c == 't' || c == 'y' || c == 'a' ||
			c == 'I' || c == 'N' || c == 'F' || c == 'T' || c == 'Y' || c == 'A':
			// letters of inf, infinity, nan
		default:
			return 0, false // rejects hex (x, p), underscores and anything else
		}
	}
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, true // Python gives inf / 0.0 for out-of-range literals
		}
		return 0, false
	}
	return v, true
}

// pow10 holds the powers of ten that are exact in a float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal is the exact fast path for plain decimals ("-12.375"): with
// at most 15 significant digits the mantissa and the power of ten are both
// exact, so one IEEE division gives the correctly rounded result, the same
// as strconv.ParseFloat. Anything else reports false.
func parseDecimal(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	i := 0
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
	}
	var mant uint64
	digits, frac := 0, 0
	dot := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if mant == 0 && c == '0' && !dot {
				continue // leading zeros are not significant
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits > 15 || frac >= len(pow10) {
		return 0, false
	}
	if digits == 0 {
		// "0", "0.0", "-0.", "." ... only forms with at least one digit count.
		hasDigit := false
		for _, c := range b {
			if c >= '0' && c <= '9' {
				hasDigit = true
			}
		}
		if !hasDigit {
			return 0, false
		}
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}
