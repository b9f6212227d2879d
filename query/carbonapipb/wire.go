package carbonapipb

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxItems bounds every repeated field a decoder accepts (metrics per
// request, values per series, ...).
const MaxItems = 1 << 20

// ErrTooMany is returned when a repeated field exceeds MaxItems.
var ErrTooMany = errors.New("too many items")

// beginMsg appends the tag of an embedded message field and returns the
// offset its body starts at; endMsg inserts the length prefix.
func beginMsg(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return b, len(b)
}

func endMsg(b []byte, start int) []byte {
	n := len(b) - start
	sz := protowire.SizeVarint(uint64(n))
	for i := 0; i < sz; i++ {
		b = append(b, 0)
	}
	copy(b[start+sz:], b[start:start+n])
	protowire.AppendVarint(b[start:start], uint64(n))
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendStrings appends a repeated string field, empty strings included.
func appendStrings(b []byte, num protowire.Number, ss []string) []byte {
	for _, s := range ss {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	return b
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	if !v {
		return b
	}
	return appendVarint(b, num, 1)
}

func appendFloat32(b []byte, num protowire.Number, v float32) []byte {
	if v == 0 && !math.Signbit(float64(v)) {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

func appendPackedDoubles(b []byte, num protowire.Number, vs []float64) []byte {
	if len(vs) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(8*len(vs)))
	for _, v := range vs {
		b = protowire.AppendFixed64(b, math.Float64bits(v))
	}
	return b
}

// field is one decoded field: a varint/fixed value in u, or a
// length-delimited payload in buf.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64
	buf []byte
}

// next consumes one field from b.
func next(b []byte) (field, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, nil, fmt.Errorf("reading tag: %w", protowire.ParseError(n))
	}
	b = b[n:]
	f := field{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.u, n = protowire.ConsumeVarint(b)
	case protowire.Fixed64Type:
		f.u, n = protowire.ConsumeFixed64(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		f.u = uint64(v)
	case protowire.BytesType:
		f.buf, n = protowire.ConsumeBytes(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return field{}, nil, fmt.Errorf("reading field %d: %w", num, protowire.ParseError(n))
	}
	return f, b[n:], nil
}

func str(f field) (string, error) {
	if err := wrong(f, protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.buf), nil
}

func varint(f field) (uint64, error) {
	if err := wrong(f, protowire.VarintType); err != nil {
		return 0, err
	}
	return f.u, nil
}

// int64Field decodes an int64 field (a varint, two's complement).
func int64Field(f field) (int64, error) {
	u, err := varint(f)
	return int64(u), err
}

// boolField decodes a bool field.
func boolField(f field) (bool, error) {
	u, err := varint(f)
	return u != 0, err
}

// strs appends one element of a repeated string field.
func strs(dst []string, f field) ([]string, error) {
	s, err := str(f)
	if err != nil {
		return dst, err
	}
	if len(dst) >= MaxItems {
		return dst, ErrTooMany
	}
	return append(dst, s), nil
}

// eachField calls fn with each field of the message b in order, and stops
// at the first error reading a field or from fn.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return err
		}
		b = rest
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// message appends one element of a repeated embedded message field,
// decoded with dec.
func message[T any](dst []T, f field, dec func([]byte) (T, error)) ([]T, error) {
	if err := wrong(f, protowire.BytesType); err != nil {
		return dst, err
	}
	if len(dst) >= MaxItems {
		return dst, ErrTooMany
	}
	v, err := dec(f.buf)
	return append(dst, v), err
}

// wrong reports a field whose wire type does not match the schema.
func wrong(f field, want protowire.Type) error {
	if f.typ == want {
		return nil
	}
	return fmt.Errorf("field %d has wire type %d, want %d", f.num, f.typ, want)
}

// doubles appends a repeated double field (packed or not).
func doubles(dst []float64, f field) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		if len(dst) >= MaxItems {
			return dst, ErrTooMany
		}
		return append(dst, math.Float64frombits(f.u)), nil
	case protowire.BytesType:
		if len(f.buf)%8 != 0 {
			return dst, fmt.Errorf("packed doubles field %d: length %d not a multiple of 8", f.num, len(f.buf))
		}
		if len(dst)+len(f.buf)/8 > MaxItems {
			return dst, ErrTooMany
		}
		for p := f.buf; len(p) > 0; p = p[8:] {
			v, _ := protowire.ConsumeFixed64(p)
			dst = append(dst, math.Float64frombits(v))
		}
		return dst, nil
	}
	return dst, wrong(f, protowire.Fixed64Type)
}

// bools appends a repeated bool field (packed or not).
func bools(dst []bool, f field) ([]bool, error) {
	switch f.typ {
	case protowire.VarintType:
		if len(dst) >= MaxItems {
			return dst, ErrTooMany
		}
		return append(dst, f.u != 0), nil
	case protowire.BytesType:
		for p := f.buf; len(p) > 0; {
			v, n := protowire.ConsumeVarint(p)
			if n < 0 {
				return dst, fmt.Errorf("packed bools field %d: %w", f.num, protowire.ParseError(n))
			}
			if len(dst) >= MaxItems {
				return dst, ErrTooMany
			}
			dst = append(dst, v != 0)
			p = p[n:]
		}
		return dst, nil
	}
	return dst, wrong(f, protowire.VarintType)
}

// decodeRepeated decodes, in order, every message in field 1 of b (the shape
// of carbonapi's Multi* messages) with dec, which gets the message and its
// index. Other fields are skipped; a field 1 that is not length-delimited is
// an error, and more than MaxItems messages is ErrTooMany. Errors reading b's
// own fields are prefixed with wrap when it is set; dec's errors are returned
// as they are.
func decodeRepeated[T any](b []byte, wrap string, dec func(buf []byte, i int) (T, error)) ([]T, error) {
	var out []T
	for len(b) > 0 {
		f, rest, err := next(b)
		if err == nil && f.num == 1 {
			err = wrong(f, protowire.BytesType)
		}
		if err != nil {
			if wrap != "" {
				err = fmt.Errorf("%s: %w", wrap, err)
			}
			return nil, err
		}
		b = rest
		if f.num != 1 {
			continue
		}
		if len(out) >= MaxItems {
			return nil, ErrTooMany
		}
		v, err := dec(f.buf, len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
