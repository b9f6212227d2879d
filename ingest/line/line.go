package line

import (
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

func isSpace(c byte) bool {
	// Python's str.split() with no argument splits on ASCII whitespace
	// (and a few more Unicode spaces we do not treat specially).
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
		c == 0x1c || c == 0x1d || c == 0x1e || c == 0x1f
}

// Parse parses one line (with or without its trailing newline). now replaces
// a timestamp of -1. The returned name aliases line.
func Parse(line []byte, now int64) (name []byte, value float64, ts int64, err error) {
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
	name = fields[0]
	if len(name) > MaxNameLen {
		return nil, 0, 0, ErrNameTooLong
	}
	for _, c := range name {
		if c == 0 {
			return nil, 0, 0, ErrName
		}
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
