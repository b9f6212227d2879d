package cache

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/plumbago/plumbago/storage"
)

// A series' buffered points live in one byte slice, packed (a million new
// series × 20 points held 20 bytes a point as 16-byte storage.Point slices
// grown by doubling; packed they take 3-5 bytes for small integers and
// two-decimal gauges, at most maxPointBytes):
//
//	buf[0:8]       the timestamp of the last point appended (little endian)
//	buf[8:16]      the bits of its value
//	buf[16:split]  the points being written (the flushing part)
//	buf[split:]    the points that arrived since (the pending part)
//
// An empty buffer (len 0) holds no point and has no header. Each point is
//
//	tag        1 byte: bit 7 set = the point starts a run (decode it against
//	           timestamp 0 and value bits 0); bits 4-6 = t, the trailing
//	           zero bytes of the value's XOR with the previous value; bits
//	           0-3 = n, its significant bytes (0: the same value)
//	timestamp  zigzag uvarint of the difference from the previous point's
//	xor        n bytes, little endian, of (value bits XOR previous bits)>>(8t)
//
// A point appended while the pending part is empty starts a run, so the
// flushing and the pending part decode apart (the writer decodes the first
// while ingest appends to the second) and together (queries, Take). A
// point costs at most 1+10+8 bytes; the header lets an append skip
// decoding the points before it.

const (
	bufHeader     = 16
	maxPointBytes = 1 + binary.MaxVarintLen64 + 8
	runStart      = 0x80
	// firstBufBytes is the first buffer a series gets: the header, a run's
	// first point and a few more.
	firstBufBytes = 48
)

// encodePoint writes the point (ts, v) after the point (prevTS, prevBits)
// into dst, which has room for maxPointBytes, and returns its length.
func encodePoint(dst []byte, start bool, prevTS int64, prevBits uint64, ts int64, v float64) int {
	var tag byte
	if start {
		tag, prevTS, prevBits = runStart, 0, 0
	}
	x := math.Float64bits(v) ^ prevBits
	t, n := 0, 0
	if x != 0 {
		t = bits.TrailingZeros64(x) / 8
		n = 8 - bits.LeadingZeros64(x)/8 - t
	}
	dst[0] = tag | byte(t)<<4 | byte(n)
	d := ts - prevTS
	k := 1 + binary.PutUvarint(dst[1:], uint64(d<<1)^uint64(d>>63))
	x >>= 8 * t
	for i := 0; i < n; i++ {
		dst[k+i] = byte(x >> (8 * i))
	}
	return k + n
}

// appendPoint adds (ts, v) to s's pending part, growing buf when it has
// no room (growth below).
func (s *series) appendPoint(ts int64, v float64) {
	if len(s.buf) == 0 {
		if cap(s.buf) < bufHeader+maxPointBytes {
			s.buf = growBuf(nil, s.firstBuf())
		}
		s.buf = s.buf[:bufHeader]
		s.split = bufHeader
	}
	prevTS := int64(binary.LittleEndian.Uint64(s.buf[0:]))
	prevBits := binary.LittleEndian.Uint64(s.buf[8:])
	start := int(s.split) == len(s.buf)
	if l := len(s.buf); cap(s.buf)-l >= maxPointBytes {
		// Room for any point: encoded in place.
		s.buf = s.buf[:l+encodePoint(s.buf[l:l+maxPointBytes], start, prevTS, prevBits, ts, v)]
	} else {
		var tmp [maxPointBytes]byte
		n := encodePoint(tmp[:], start, prevTS, prevBits, ts, v)
		if cap(s.buf)-l < n {
			s.buf = growBuf(s.buf, l+n+growth(l))
		}
		s.buf = append(s.buf, tmp[:n]...)
	}
	binary.LittleEndian.PutUint64(s.buf[0:], uint64(ts))
	binary.LittleEndian.PutUint64(s.buf[8:], math.Float64bits(v))
}

// useUnit is the unit of series.lastUse: 255 units cover 4 KiB, a
// cycle's points of a series taking ~1,000 a second.
const useUnit = 16

// reuseBytes is the buffer s's next write cycle is expected to need: what
// the last one held, plus the growth a full buffer of that size would
// get (0 for a series never written).
func (s *series) reuseBytes() int {
	l := int(s.lastUse) * useUnit
	return l + growth(l)
}

// firstBuf is the capacity of a series' buffer when it has none: the
// size of its last write cycle's, at least firstBufBytes. A series taking
// tens of points a cycle (W1's 100,000 series × 100 points: about 40 a
// second each) then allocates one buffer per cycle instead of growing one
// from 48 bytes by a quarter, five or six copies of its points a cycle
// (growBuf was 9 % of the server's CPU for those points).
func (s *series) firstBuf() int {
	return max(firstBufBytes, s.reuseBytes())
}

// noteUse records in s.lastUse the bytes s's buffer holds now (the
// header and both parts), rounded up.
func (s *series) noteUse() {
	s.lastUse = uint8(min(255, (len(s.buf)+useUnit-1)/useUnit))
}

// growth is what a full point buffer of length l grows by beside the
// point that did not fit (then rounded up to the runtime's size class): a
// quarter of l. At the peak of a burst of new series every series holds
// all its points (the writer creates series slower than their points
// arrive), so a buffer's slack is paid a million times: growing by a half,
// 20 small integers (about 90 bytes) sat in 128-byte buffers (48, 80,
// 128); by a quarter in 96 (48, 64, 96), after as many copies
// (BenchmarkBufferedPoints: 12.76 → 11.28 bytes held a point; for
// two-decimal gauges 16.81 → 16.74, one copy more a series).
func growth(l int) int { return l / 4 }

// growBuf returns a copy of b with a capacity of at least want, rounded up
// to the runtime's size class (append of a fresh slice allocates that).
func growBuf(b []byte, want int) []byte {
	nb := append([]byte(nil), make([]byte, want)...)
	return nb[:copy(nb, b)]
}

// decodePoints appends the points packed in p, a run of whole points whose
// first one starts a run, to dst.
func decodePoints(dst []storage.Point, p []byte) []storage.Point {
	var ts int64
	var prev uint64
	for i := 0; i < len(p); {
		tag := p[i]
		i++
		if tag&runStart != 0 {
			ts, prev = 0, 0
		}
		u, k := binary.Uvarint(p[i:])
		i += k
		ts += int64(u>>1) ^ -int64(u&1)
		t, n := int(tag>>4&7), int(tag&15)
		var x uint64
		for j := 0; j < n; j++ {
			x |= uint64(p[i+j]) << (8 * j)
		}
		i += n
		prev ^= x << (8 * t)
		dst = append(dst, storage.Point{Timestamp: ts, Value: math.Float64frombits(prev)})
	}
	return dst
}

// countPoints is the number of points packed in p.
func countPoints(p []byte) int {
	c := 0
	for i := 0; i < len(p); c++ {
		tag := p[i]
		i++
		_, k := binary.Uvarint(p[i:])
		i += k + int(tag&15)
	}
	return c
}

// flushingPart and pendingPart are s's points being written and those
// that arrived since, packed.
func (s *series) flushingPart() []byte {
	if len(s.buf) == 0 {
		return nil
	}
	return s.buf[bufHeader:s.split]
}

func (s *series) pendingPart() []byte {
	if len(s.buf) == 0 {
		return nil
	}
	return s.buf[s.split:]
}

// points appends all of s's buffered points, in arrival order, to dst.
func (s *series) points(dst []storage.Point) []storage.Point {
	if len(s.buf) == 0 {
		return dst
	}
	return decodePoints(dst, s.buf[bufHeader:])
}

// startFlush makes every pending point a point being written (the
// flushing part is empty).
func (s *series) startFlush() {
	if len(s.buf) > 0 {
		s.split = uint32(len(s.buf))
	}
}

// unflush puts the points being written back in front of the pending
// ones, in order (a failed write keeps them for a retry).
func (s *series) unflush() {
	if len(s.buf) > 0 {
		s.split = bufHeader
	}
}

// dropFlushing forgets the points being written (written or dropped): the
// pending ones move to the front of buf. A buffer left empty is let go
// when over idleKeepBytes, and one whose pending points fill less than
// half of it and less than the cycle just written needed (reuseBytes, and a
// quarter for the size classes) is copied into a fitting one, no smaller
// than reuseBytes: a burst's buffer is not pinned for good (the cycle
// after a burst holds few points, and its drop shrinks the buffer), and a
// busy series' buffer is not shrunk only to grow again. The cycle's size
// is noted for firstBuf.
func (s *series) dropFlushing() {
	if len(s.buf) == 0 {
		return
	}
	s.noteUse()
	rest := copy(s.buf[bufHeader:], s.buf[s.split:])
	s.split = bufHeader
	if rest == 0 {
		s.buf = s.buf[:0]
		if cap(s.buf) > idleKeepBytes {
			s.buf = nil
		}
		return
	}
	s.buf = s.buf[:bufHeader+rest]
	reuse := s.reuseBytes()
	if cap(s.buf) > max(idleKeepBytes, 2*len(s.buf), reuse+reuse/4) {
		s.buf = growBuf(s.buf, max(len(s.buf)+len(s.buf)/2, reuse))
	}
}
