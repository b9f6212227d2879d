package api

import (
	"encoding/binary"
	"math"

	"github.com/plumbago/plumbago/query/pickleenc"
)

// floats is a list of values where NaN is Python's None.
type floats []float64

// appendPickle writes v as a Python pickle with query/pickleenc: the
// format graphite-web's CLUSTER_SERVERS read from /render and /metrics/find
// with format=pickle. Supported: nil, bool, string, int, int64, float64,
// floats, []any, []string, obj.
func appendPickle(b []byte, v any) []byte {
	b = pickleenc.AppendProto(b)
	b = pickleValue(b, v)
	return pickleenc.AppendStop(b)
}

func pickleValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return pickleenc.AppendNone(b)
	case bool:
		return pickleenc.AppendBool(b, x)
	case string:
		return pickleenc.AppendString(b, x)
	case int:
		return pickleenc.AppendInt(b, int64(x))
	case int64:
		return pickleenc.AppendInt(b, x)
	case float64:
		if math.IsNaN(x) {
			return pickleenc.AppendNone(b)
		}
		return pickleenc.AppendFloat(b, x)
	case floats:
		return pickleList(b, len(x), func(b []byte, i int) []byte { return pickleValue(b, x[i]) })
	case []string:
		return pickleList(b, len(x), func(b []byte, i int) []byte { return pickleenc.AppendString(b, x[i]) })
	case []any:
		return pickleList(b, len(x), func(b []byte, i int) []byte { return pickleValue(b, x[i]) })
	case obj:
		b = pickleenc.AppendEmptyDict(b)
		if len(x) == 0 {
			return b
		}
		b = pickleenc.AppendMark(b)
		for _, m := range x {
			b = pickleValue(b, m.k)
			b = pickleValue(b, m.v)
		}
		return pickleenc.AppendSetItems(b)
	}
	panic("appendPickle: unsupported type")
}

// pickleList writes a list of n items, in batches of 1,000 per APPENDS as
// CPython's pickler does.
func pickleList(b []byte, n int, item func(b []byte, i int) []byte) []byte {
	b = pickleenc.AppendEmptyList(b)
	for i := 0; i < n; i += 1000 {
		b = pickleenc.AppendMark(b)
		for j := i; j < min(i+1000, n); j++ {
			b = item(b, j)
		}
		b = pickleenc.AppendAppends(b)
	}
	return b
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
