package api

import (
	"encoding/binary"
	"math"
)

// floats is a list of values where NaN is Python's None.
type floats []float64

// appendPickle writes v as a Python pickle (protocol 2, no memo): the
// format graphite-web's CLUSTER_SERVERS read from /render and
// /metrics/find with format=pickle. Supported: nil, bool, string, int,
// int64, float64, floats, []any, []string, obj.
func appendPickle(b []byte, v any) []byte {
	b = append(b, 0x80, 2) // PROTO 2
	b = pickleValue(b, v)
	return append(b, '.') // STOP
}

func pickleValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'N')
	case bool:
		if x {
			return append(b, 0x88)
		}
		return append(b, 0x89)
	case string:
		b = append(b, 'X')
		b = binary.LittleEndian.AppendUint32(b, uint32(len(x)))
		return append(b, x...)
	case int:
		return pickleInt(b, int64(x))
	case int64:
		return pickleInt(b, x)
	case float64:
		if math.IsNaN(x) {
			return append(b, 'N')
		}
		b = append(b, 'G')
		return binary.BigEndian.AppendUint64(b, math.Float64bits(x))
	case floats:
		b = append(b, ']')
		for i := 0; i < len(x); i += 1000 {
			b = append(b, '(')
			for _, f := range x[i:min(i+1000, len(x))] {
				b = pickleValue(b, f)
			}
			b = append(b, 'e')
		}
		return b
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return pickleValue(b, l)
	case []any:
		b = append(b, ']')
		for i := 0; i < len(x); i += 1000 {
			b = append(b, '(')
			for _, e := range x[i:min(i+1000, len(x))] {
				b = pickleValue(b, e)
			}
			b = append(b, 'e')
		}
		return b
	case obj:
		b = append(b, '}')
		if len(x) == 0 {
			return b
		}
		b = append(b, '(')
		for _, m := range x {
			b = pickleValue(b, m.k)
			b = pickleValue(b, m.v)
		}
		return append(b, 'u')
	}
	panic("appendPickle: unsupported type")
}

func pickleInt(b []byte, x int64) []byte {
	if x >= math.MinInt32 && x <= math.MaxInt32 {
		b = append(b, 'J')
		return binary.LittleEndian.AppendUint32(b, uint32(int32(x)))
	}
	b = append(b, 0x8a, 8) // LONG1, 8 bytes two's complement little endian
	return binary.LittleEndian.AppendUint64(b, uint64(x))
}

// appendMsgpack writes v as MessagePack (graphite-web's format=msgpack).
func appendMsgpack(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0)
	case bool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case string:
		n := len(x)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n < 1<<8:
			b = append(b, 0xd9, byte(n))
		case n < 1<<16:
			b = append(b, 0xda)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return append(b, x...)
	case int:
		return msgpackInt(b, int64(x))
	case int64:
		return msgpackInt(b, x)
	case float64:
		if math.IsNaN(x) {
			return append(b, 0xc0)
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(x))
	case floats:
		b = msgpackLen(b, len(x), 0x90, 0xdc, 0xdd)
		for _, f := range x {
			b = appendMsgpack(b, f)
		}
		return b
	case []string:
		b = msgpackLen(b, len(x), 0x90, 0xdc, 0xdd)
		for _, s := range x {
			b = appendMsgpack(b, s)
		}
		return b
	case []any:
		b = msgpackLen(b, len(x), 0x90, 0xdc, 0xdd)
		for _, e := range x {
			b = appendMsgpack(b, e)
		}
		return b
	case obj:
		b = msgpackLen(b, len(x), 0x80, 0xde, 0xdf)
		for _, m := range x {
			b = appendMsgpack(b, m.k)
			b = appendMsgpack(b, m.v)
		}
		return b
	}
	panic("appendMsgpack: unsupported type")
}

func msgpackLen(b []byte, n int, fix, c16, c32 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n < 1<<16:
		b = append(b, c16)
		return binary.BigEndian.AppendUint16(b, uint16(n))
	}
	b = append(b, c32)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

func msgpackInt(b []byte, x int64) []byte {
	switch {
	case x >= 0 && x < 128:
		return append(b, byte(x))
	case x < 0 && x >= -32:
		return append(b, byte(x))
	}
	b = append(b, 0xd3)
	return binary.BigEndian.AppendUint64(b, uint64(x))
}
