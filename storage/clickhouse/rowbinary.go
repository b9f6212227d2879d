package clickhouse

import (
	"encoding/binary"
	"errors"
	"math"
)

// RowBinary, ClickHouse's row format without separators: every column in
// table order, little-endian fixed-size numbers, Date as days since the
// epoch (UInt16), strings and arrays prefixed by their length as a uvarint.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendF64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// errShortRow is a RowBinary answer that ends inside a row.
var errShortRow = errors.New("clickhouse: RowBinary answer ends inside a row")

// maxStringLen bounds one string of an answer (a metric path).
const maxStringLen = 1 << 20

// reader decodes a RowBinary answer.
type reader struct {
	b   []byte
	err error
}

func (r *reader) more() bool { return r.err == nil && len(r.b) > 0 }

func (r *reader) u32() uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) f64() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) str() string { return string(r.bytes()) }

// bytes reads a string without copying it: the bytes are the answer's.
func (r *reader) bytes() []byte {
	if r.err != nil {
		return nil
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > maxStringLen || uint64(len(r.b)-k) < n {
		r.fail()
		return nil
	}
	s := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return s
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShortRow
	}
	r.b = nil
}
