package cache

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/plumbago/plumbago/storage"
)

// samePoints compares points bit for bit (NaN payloads and -0 included).
func samePoints(a, b []storage.Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Timestamp != b[i].Timestamp || math.Float64bits(a[i].Value) != math.Float64bits(b[i].Value) {
			return false
		}
	}
	return true
}

// checkBuf asserts that s's flushing part, pending part and whole buffer
// decode to the model's points, and that countPoints agrees.
func checkBuf(t *testing.T, s *series, flushing, pending []storage.Point) {
	t.Helper()
	if got := decodePoints(nil, s.flushingPart()); !samePoints(got, flushing) || countPoints(s.flushingPart()) != len(flushing) {
		t.Fatalf("flushing part decodes to %v (count %d); want %v", got, countPoints(s.flushingPart()), flushing)
	}
	if got := decodePoints(nil, s.pendingPart()); !samePoints(got, pending) || countPoints(s.pendingPart()) != len(pending) {
		t.Fatalf("pending part decodes to %v (count %d); want %v", got, countPoints(s.pendingPart()), pending)
	}
	all := append(append([]storage.Point{}, flushing...), pending...)
	if got := s.points(nil); !samePoints(got, all) {
		t.Fatalf("buffer decodes to %v; want %v", got, all)
	}
}

// runBufOps drives a series' buffer through appends and write cycles as
// the shard does (startFlush at a write, dropFlushing when written,
// unflush when it failed), checking it against a plain model after each
// step. ops: per byte, low 2 bits 0/1 append a point (its timestamp and
// value bits from data), 2 a write cycle that succeeds, 3 one that fails.
func runBufOps(t *testing.T, ops []byte, data []byte) {
	s := &series{}
	var flushing, pending []storage.Point
	next := func() (int64, float64) {
		var b [16]byte
		n := copy(b[:], data)
		data = data[n:]
		return int64(binary.LittleEndian.Uint64(b[:8])), math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
	}
	for _, op := range ops {
		switch op & 3 {
		case 0, 1:
			ts, v := next()
			if op&4 != 0 && len(pending) > 0 { // a near timestamp, a near value
				last := pending[len(pending)-1]
				ts, v = last.Timestamp+int64(op>>4), last.Value+float64(op>>3&1)
			}
			s.appendPoint(ts, v)
			pending = append(pending, storage.Point{Timestamp: ts, Value: v})
		case 2:
			s.startFlush()
			flushing, pending = append(flushing, pending...), nil
			checkBuf(t, s, flushing, pending)
			s.dropFlushing()
			flushing = nil
		case 3:
			s.startFlush()
			flushing, pending = append(flushing, pending...), nil
			s.unflush()
			pending, flushing = flushing, nil
		}
		checkBuf(t, s, flushing, pending)
		if len(s.buf) > 0 && len(s.buf) > cap(s.buf) {
			t.Fatalf("buffer length %d over capacity %d", len(s.buf), cap(s.buf))
		}
		if len(flushing)+len(pending) == 0 && len(s.buf) != 0 {
			t.Fatalf("no point buffered but the buffer holds %d bytes", len(s.buf))
		}
	}
}

// TestPointBufferCycles covers the write cycles' edges: a write while
// points arrive, a failed write putting its points back before newer
// ones, a write of everything, and values whose XOR is wide or zero.
func TestPointBufferCycles(t *testing.T) {
	data := make([]byte, 0, 64*16)
	for i := range 64 {
		data = binary.LittleEndian.AppendUint64(data, uint64(1_700_000_000+10*i))
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits([]float64{0, 1.5, -2.25, math.Inf(1), math.NaN(), 1e-300, 42, math.Copysign(0, -1)}[i%8]))
	}
	runBufOps(t, []byte{0, 0, 0, 2, 0, 0, 3, 0, 2, 2, 0, 3, 3, 0, 0, 2, 0, 4, 4 | 16, 4 | 8, 2, 3, 0, 2}, data)
}

// TestPointEncodingSizes pins the encoded size of typical points: the
// figures docs/tuning.md quotes.
func TestPointEncodingSizes(t *testing.T) {
	var b [maxPointBytes]byte
	prev := math.Float64bits(42)
	cases := []struct {
		name  string
		start bool
		ts    int64
		v     float64
		want  int
	}{
		{"run start, epoch seconds, small integer", true, 1_700_000_000, 42, 1 + 5 + 2},
		{"same value 10 s later", false, 1_700_000_010, 42, 1 + 1},
		{"next integer", false, 1_700_000_010, 43, 1 + 1 + 1},
		{"two-decimal gauge", false, 1_700_000_010, 42.17, 1 + 1 + 6},
		{"worst: far timestamp, every bit", false, math.MinInt64, math.Float64frombits(^prev), 1 + 10 + 8},
	}
	for _, c := range cases {
		if got := encodePoint(b[:], c.start, 1_700_000_000, prev, c.ts, c.v); got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, got, c.want)
		}
	}
}

// FuzzPointBuffer: any sequence of appends and write cycles reads back
// exactly (bit for bit, in order) from the flushing part, the pending
// part and the whole buffer.
func FuzzPointBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 2, 0, 3, 0, 2}, []byte("0123456789abcdef0123456789ABCDEF"))
	f.Add([]byte{0, 4, 4 | 16, 4 | 8 | 32, 3, 0, 2, 2}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3})
	f.Add([]byte{1, 1, 1, 3, 3, 1, 2}, []byte{})
	f.Fuzz(func(t *testing.T, ops, data []byte) {
		if len(ops) > 4096 {
			ops = ops[:4096]
		}
		runBufOps(t, ops, data)
	})
}

// TestBufferSizedByLastCycle: a series' buffer let go after a write cycle
// comes back at the size that cycle needed, so the next cycle's points fit
// without a copy; a burst's buffer is kept through a cycle that holds
// points arriving meanwhile and shrunk at the first small cycle.
func TestBufferSizedByLastCycle(t *testing.T) {
	const ts0 = 1_700_000_000
	s := &series{}
	// 40 points of value 1, a second apart: the run's first point takes
	// 8 bytes (tag, 5-byte timestamp, 2 value bytes), the others 2.
	cycle := func(from, n int) {
		for i := 0; i < n; i++ {
			s.appendPoint(int64(ts0+from+i), 1)
		}
	}
	cycle(0, 40)
	if len(s.buf) != bufHeader+8+39*2 {
		t.Fatalf("40 points take %d bytes; want %d", len(s.buf), bufHeader+8+39*2)
	}
	s.startFlush()
	s.dropFlushing()
	if s.buf != nil || s.lastUse != 7 { // 102 bytes: 7 units of 16
		t.Fatalf("after the cycle: buf cap %d, lastUse %d; want nil, 7", cap(s.buf), s.lastUse)
	}
	s.appendPoint(ts0+40, 1)
	// 112 bytes and a quarter: 140, the 144-byte size class.
	if cap(s.buf) != 144 {
		t.Fatalf("the next cycle's buffer has cap %d; want 144", cap(s.buf))
	}
	first := &s.buf[0]
	cycle(41, 39)
	if &s.buf[0] != first {
		t.Fatalf("the buffer was reallocated within the cycle (cap %d, len %d)", cap(s.buf), len(s.buf))
	}

	// A burst: 1,000 points, two more arrive while they are written.
	s = &series{}
	cycle(0, 1000)
	s.startFlush()
	cycle(1000, 2)
	burst := cap(s.buf)
	s.dropFlushing()
	if cap(s.buf) != burst || s.lastUse != 127 { // 2,032 bytes
		t.Fatalf("after the burst's cycle: cap %d, lastUse %d; want %d (kept), 127", cap(s.buf), s.lastUse, burst)
	}
	checkBuf(t, s, nil, []storage.Point{{Timestamp: ts0 + 1000, Value: 1}, {Timestamp: ts0 + 1001, Value: 1}})
	// The next cycle holds the two points; one arrives meanwhile.
	s.startFlush()
	cycle(1002, 1)
	s.dropFlushing()
	// 34 bytes (3 units) held; 48 and a quarter: the 64-byte class.
	if cap(s.buf) != 64 || s.lastUse != 3 {
		t.Fatalf("after a small cycle: cap %d, lastUse %d; want 64, 3", cap(s.buf), s.lastUse)
	}
	checkBuf(t, s, nil, []storage.Point{{Timestamp: ts0 + 1002, Value: 1}})
}
