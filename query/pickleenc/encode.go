package pickleenc

import (
	"encoding/binary"
	"math"
)

// The Append* functions write protocol-2 pickle opcodes to dst and return the
// extended slice; they never allocate beyond growing dst. A complete pickle
// is AppendProto, one value, AppendStop. Containers are written the way
// CPython's pickler writes them:
//
//	dict:  AppendEmptyDict, AppendMark, key, value, ..., AppendSetItems
//	list:  AppendEmptyList, AppendMark, item, ..., AppendAppends
//	tuple: item, item, AppendTuple2 (or AppendMark, items..., AppendTuple)
//
// An empty MARK...SETITEMS/APPENDS pair is valid pickle.

// AppendProto writes the PROTO 2 header.
func AppendProto(dst []byte) []byte { return append(dst, 0x80, 2) }

// AppendStop ends the pickle.
func AppendStop(dst []byte) []byte { return append(dst, '.') }

// AppendMark pushes a mark.
func AppendMark(dst []byte) []byte { return append(dst, '(') }

// AppendEmptyDict starts a dict.
func AppendEmptyDict(dst []byte) []byte { return append(dst, '}') }

// AppendSetItems adds the key/value pairs since the mark to the dict below it.
func AppendSetItems(dst []byte) []byte { return append(dst, 'u') }

// AppendEmptyList starts a list.
func AppendEmptyList(dst []byte) []byte { return append(dst, ']') }

// AppendAppends adds the items since the mark to the list below it.
func AppendAppends(dst []byte) []byte { return append(dst, 'e') }

// AppendTuple2 replaces the top two values by a 2-tuple.
func AppendTuple2(dst []byte) []byte { return append(dst, 0x86) }

// AppendTuple replaces the values since the mark by a tuple.
func AppendTuple(dst []byte) []byte { return append(dst, 't') }

// AppendNone writes None.
func AppendNone(dst []byte) []byte { return append(dst, 'N') }

// AppendBool writes True or False.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0x88)
	}
	return append(dst, 0x89)
}

// AppendString writes a Python str (s must be UTF-8).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, 'X')
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// AppendStringBytes is AppendString for a byte slice.
func AppendStringBytes(dst []byte, s []byte) []byte {
	dst = append(dst, 'X')
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// AppendBytes writes a Python bytes object (SHORT_BINBYTES, or BINBYTES
// past 255 bytes): the protocol-3 opcodes CPython reads whatever the PROTO
// header says. For byte strings that are not UTF-8, which a str cannot hold.
func AppendBytes(dst []byte, s []byte) []byte {
	if len(s) < 256 {
		dst = append(dst, 'C', byte(len(s)))
	} else {
		dst = append(dst, 'B')
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	}
	return append(dst, s...)
}

// AppendInt32 writes a Python int as BININT, always 5 bytes, so the value
// can be patched in place later (the load generator's real-time timestamps).
func AppendInt32(dst []byte, i int32) []byte {
	dst = append(dst, 'J')
	return binary.LittleEndian.AppendUint32(dst, uint32(i))
}

// AppendFloat writes a Python float.
func AppendFloat(dst []byte, f float64) []byte {
	dst = append(dst, 'G')
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
}

// AppendInt writes a Python int.
func AppendInt(dst []byte, i int64) []byte {
	switch {
	case i >= 0 && i < 256:
		return append(dst, 'K', byte(i))
	case i >= 0 && i < 65536:
		return append(dst, 'M', byte(i), byte(i>>8))
	case i >= math.MinInt32 && i <= math.MaxInt32:
		dst = append(dst, 'J')
		return binary.LittleEndian.AppendUint32(dst, uint32(int32(i)))
	}
	// LONG1 with the minimal two's complement length.
	n := 8
	for n > 1 {
		hi := byte(i >> (8 * (n - 1)))
		next := byte(i >> (8 * (n - 2)))
		if (hi == 0 && next&0x80 == 0) || (hi == 0xff && next&0x80 != 0) {
			n--
			continue
		}
		break
	}
	dst = append(dst, 0x8a, byte(n))
	for j := 0; j < n; j++ {
		dst = append(dst, byte(i>>(8*j)))
	}
	return dst
}

// AppendFrame wraps a pickle built by fn in carbon's framing: a 4-byte
// big-endian length prefix. It reserves the prefix, calls fn, then patches
// the length in.
func AppendFrame(dst []byte, fn func(dst []byte) []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = fn(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
