package pickleenc

import (
	"bytes"
	"math"
	"testing"
)

// TestAppendExact checks the bytes CPython's pickle.dumps(v, protocol=2)
// writes for each kind of value.
func TestAppendExact(t *testing.T) {
	for _, c := range []struct {
		got, want []byte
	}{
		{AppendInt(nil, 5), []byte{'K', 5}},
		{AppendInt(nil, 300), []byte{'M', 0x2c, 0x01}},
		{AppendInt(nil, -1), []byte{'J', 0xff, 0xff, 0xff, 0xff}},
		{AppendInt(nil, 1<<40), []byte{0x8a, 6, 0, 0, 0, 0, 0, 1}},
		{AppendInt(nil, math.MinInt64), []byte{0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x80}},
		{AppendInt32(nil, 5), []byte{'J', 5, 0, 0, 0}},
		{AppendFloat(nil, 1.5), []byte{'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}},
		{AppendString(nil, "ab"), []byte{'X', 2, 0, 0, 0, 'a', 'b'}},
		{AppendBool(AppendBool(nil, true), false), []byte{0x88, 0x89}},
		{AppendBytes(nil, []byte{0xca}), []byte{'C', 1, 0xca}},
		{AppendBytes(nil, bytes.Repeat([]byte{0xca}, 300))[:5], []byte{'B', 0x2c, 0x01, 0, 0}},
		// [("a", (1, 2))] in carbon's framing.
		{AppendFrame(nil, func(b []byte) []byte {
			b = AppendMark(AppendEmptyList(AppendProto(b)))
			b = AppendTuple2(AppendTuple2(AppendInt(AppendInt(AppendString(b, "a"), 1), 2)))
			return AppendStop(AppendAppends(b))
		}), []byte{0, 0, 0, 18, 0x80, 2, ']', '(', 'X', 1, 0, 0, 0, 'a', 'K', 1, 'K', 2, 0x86, 0x86, 'e', '.'}},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("got % x; want % x", c.got, c.want)
		}
	}
}
