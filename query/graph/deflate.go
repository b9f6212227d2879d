package graph

import (
	"encoding/binary"
	"math/bits"
)

// rleZlib is a zlib stream writer made for Sub-filtered picture rows:
// one deflate block with the fixed Huffman codes whose only matches
// repeat the previous byte (distance 1). The filtered rows of a graph
// are long runs of zeros between short literal stretches, which this
// encodes several times faster than compress/flate's fastest level, at a
// somewhat larger size.
type rleZlib struct {
	// out is sized by reset for the worst case (every byte a 9-bit
	// literal) with 8 bytes to spare, so that bits are stored 8 bytes at
	// a time without a capacity check; n bytes of it are written
	out   []byte
	n     int
	acc   uint64 // bits not yet written, LSB first
	nbits uint   // < 8 between calls
	// the Adler-32 sums, reduced at the end of every row: a row is at
	// most 8192×4+1 bytes, so they stay far below 2^64 within one
	s1, s2 uint64
}

// Fixed Huffman codes, bit-reversed for the LSB-first stream, built
// once by fixedHuffmanTables when the package's variables are
// initialised.
//
// litCode: a literal byte's code in the low 16 bits, its length above;
// eobCode: end of block, same layout; matchCode: a run of length l
// (3..258) at distance 1, the length symbol, its extra bits and the
// 5-bit distance code 0, as one code of matchLen bits.
var litCode, eobCode, matchCode, matchLen = fixedHuffmanTables()

// fixedCode is fixed-Huffman symbol s's code (RFC 1951 3.2.6),
// bit-reversed, and its length.
func fixedCode(s int) (uint32, uint) {
	var code, n int
	switch {
	case s < 144:
		code, n = 0x30+s, 8
	case s < 256:
		code, n = 0x190+s-144, 9
	case s < 280:
		code, n = s-256, 7
	default:
		code, n = 0xc0+s-280, 8
	}
	return uint32(bits.Reverse16(uint16(code)) >> (16 - n)), uint(n)
}

// fixedHuffmanTables builds the literal, end-of-block and
// distance-1 match codes the encoder writes.
func fixedHuffmanTables() (lit [256]uint32, eob uint32, match [259]uint32, matchBits [259]uint8) {
	for s := 0; s < 256; s++ {
		c, n := fixedCode(s)
		lit[s] = c | uint32(n)<<16
	}
	c, n := fixedCode(256)
	eob = c | uint32(n)<<16
	bases := []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	extras := []int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	for i, b := range bases {
		end := 259
		if i+1 < len(bases) {
			end = bases[i+1]
		}
		if i == len(bases)-2 {
			end = 258 // 227..257
		}
		for l := b; l < end && l <= 258; l++ {
			c, n := fixedCode(257 + i)
			c |= uint32(l-b) << n // extra bits
			n += uint(extras[i])
			// then distance code 0 in 5 bits: zeros
			match[l], matchBits[l] = c, uint8(n+5)
		}
	}
	return lit, eob, match, matchBits
}

// reset starts a stream of at most raw bytes (filter bytes included)
// in dst's memory when it is large enough.
func (z *rleZlib) reset(dst []byte, raw int) {
	need := 2 + (3+9*raw+7+7)/8 + 4 + 8
	if cap(dst) < need {
		dst = make([]byte, need)
	}
	*z = rleZlib{out: dst[:need], s1: 1}
	z.out[0], z.out[1] = 0x78, 0x01
	z.n = 2
	z.acc, z.nbits = 1|1<<1, 3 // BFINAL, BTYPE 01: fixed codes
}

const adlerMod = 65521

// row emits one picture row, src as premultiplied RGBA, with the Sub
// filter: bpp 3 (the picture is opaque: RGB) or 4 (RGBA, straight
// alpha). A pixel equal to its left neighbour is bpp zero bytes, added
// to a run without looking at the bytes; the Adler-32 sums move over a
// run by arithmetic (a zero leaves s1 and adds s1 to s2), and over a
// pixel's bytes d0..d(bpp-1) at once (s2 gains bpp·s1 + bpp·d0 + ... +
// 1·d(bpp-1)). Bits are stored 8 bytes at a time and the pointer
// moved by the whole bytes among them.
func (z *rleZlib) row(src []byte, bpp int) {
	acc, nbits, out, n := z.acc, z.nbits, z.out, z.n
	s1, s2 := z.s1, z.s2
	// the filter byte
	acc |= uint64(litCode[1]&0xffff) << nbits
	nbits += uint(litCode[1] >> 16)
	s1++
	s2 += s1
	last := byte(1)         // the previous byte of the stream
	var l0, l1, l2, l3 byte // the left pixel, straight alpha
	prev := uint32(0)       // the left pixel as stored; 0 before the row
	zeros := 0
	w := len(src) / 4
	for x := 0; x < w; x++ {
		p := binary.LittleEndian.Uint32(src[x*4:])
		if p == prev {
			zeros += bpp
			// the rest of a run eight, then two pixels at a time
			pp := uint64(p) | uint64(p)<<32
			for x+8 < w {
				q := src[x*4+4 : x*4+36]
				if (binary.LittleEndian.Uint64(q)^pp)|(binary.LittleEndian.Uint64(q[8:])^pp)|
					(binary.LittleEndian.Uint64(q[16:])^pp)|(binary.LittleEndian.Uint64(q[24:])^pp) != 0 {
					break
				}
				x += 8
				zeros += 8 * bpp
			}
			for x+2 < w && binary.LittleEndian.Uint64(src[x*4+4:]) == pp {
				x += 2
				zeros += 2 * bpp
			}
			continue
		}
		if zeros > 0 {
			s2 += uint64(zeros) * s1
			acc, nbits, n = zeroRun(acc, nbits, out, n, zeros, last)
			last, zeros = 0, 0
		}
		prev = p
		var c0, c1, c2, c3 byte
		switch a := byte(p >> 24); a {
		case 255:
			c0, c1, c2, c3 = byte(p), byte(p>>8), byte(p>>16), 255
		case 0:
		default: // un-premultiply
			c0, c1, c2, c3 = unpre(byte(p), a), unpre(byte(p>>8), a), unpre(byte(p>>16), a), a
		}
		d0, d1, d2 := c0-l0, c1-l1, c2-l2
		l0, l1, l2 = c0, c1, c2
		k0, k1, k2 := litCode[d0], litCode[d1], litCode[d2]
		n0, n1 := k0>>16, k1>>16
		code := uint64(k0&0xffff) | uint64(k1&0xffff)<<n0 | uint64(k2&0xffff)<<(n0+n1)
		bits := uint(n0 + n1 + k2>>16)
		last = d2
		if bpp == 3 {
			s2 += 3*s1 + 3*uint64(d0) + 2*uint64(d1) + uint64(d2)
			s1 += uint64(d0) + uint64(d1) + uint64(d2)
		} else {
			d3 := c3 - l3
			l3 = c3
			s2 += 4*s1 + 4*uint64(d0) + 3*uint64(d1) + 2*uint64(d2) + uint64(d3)
			s1 += uint64(d0) + uint64(d1) + uint64(d2) + uint64(d3)
			k3 := litCode[d3]
			code |= uint64(k3&0xffff) << bits
			bits += uint(k3 >> 16)
			last = d3
		}
		acc |= code << nbits
		nbits += bits
		binary.LittleEndian.PutUint64(out[n:], acc)
		n += int(nbits >> 3)
		acc >>= nbits &^ 7
		nbits &= 7
	}
	if zeros > 0 {
		s2 += uint64(zeros) * s1
		acc, nbits, n = zeroRun(acc, nbits, out, n, zeros, last)
	}
	z.endRow(acc, nbits, n, s1, s2)
}

// zeroRun codes n zero bytes after the byte last: runs of 3..258 at
// distance 1, which need the previous byte to be a zero too. It returns
// the bits left (fewer than 8) and the new output length.
func zeroRun(acc uint64, nbits uint, out []byte, pos int, n int, last byte) (uint64, uint, int) {
	const zero = 0x0c // the fixed code of literal 0 (0x30, 8 bits, reversed)
	if last != 0 {
		acc |= zero << nbits
		nbits += 8
		n--
	}
	for n >= 3 {
		l := min(n, 258)
		acc |= uint64(matchCode[l]) << nbits
		nbits += uint(matchLen[l])
		n -= l
		binary.LittleEndian.PutUint64(out[pos:], acc)
		pos += int(nbits >> 3)
		acc >>= nbits &^ 7
		nbits &= 7
	}
	for ; n > 0; n-- { // at most two: 16 bits
		acc |= zero << nbits
		nbits += 8
	}
	binary.LittleEndian.PutUint64(out[pos:], acc)
	pos += int(nbits >> 3)
	acc >>= nbits &^ 7
	nbits &= 7
	return acc, nbits, pos
}

// finish ends the block and appends the Adler-32 checksum, returning
// the stream.
func (z *rleZlib) finish() []byte {
	z.acc |= uint64(eobCode&0xffff) << z.nbits
	z.nbits += uint(eobCode >> 16)
	out := z.out[:z.n]
	for z.nbits > 0 {
		out = append(out, byte(z.acc))
		z.acc >>= 8
		z.nbits = max(z.nbits, 8) - 8
	}
	s1, s2 := z.s1%adlerMod, z.s2%adlerMod
	return append(out, byte(s2>>8), byte(s2), byte(s1>>8), byte(s1))
}

// upBetter tells whether the Up filter likely leaves fewer literal
// pixels than Sub in an opaque row (a row of a graph's plot crossed by
// vertical grid lines and steep strokes): it counts, of every other
// pixel pair (8 bytes), those that differ from the row above and from
// the pair one pixel to the left.
func upBetter(row, above []byte) bool {
	up, sub := 0, 0
	for i := 8; i+8 <= len(row); i += 16 {
		p := binary.LittleEndian.Uint64(row[i:])
		if p != binary.LittleEndian.Uint64(above[i:]) {
			up++
		}
		if p != binary.LittleEndian.Uint64(row[i-4:]) {
			sub++
		}
	}
	return up < sub
}

// rowUp emits one row of an opaque picture (src and the row above as
// premultiplied RGBA, all alpha 255) as RGB with the Up filter: a run of
// pixels equal to the ones above is three zero bytes each, found two
// pixel pairs at a time (the first differing pixel by the XOR's trailing
// zeros), and the literals between runs are coded as row codes them.
func (z *rleZlib) rowUp(src, above []byte) {
	acc, nbits, out, n := z.acc, z.nbits, z.out, z.n
	s1, s2 := z.s1, z.s2
	// the filter byte
	acc |= uint64(litCode[2]&0xffff) << nbits
	nbits += uint(litCode[2] >> 16)
	s1 += 2
	s2 += s1
	last := byte(2) // the previous byte of the stream
	w := len(src) / 4
	above = above[:len(src)]
	for x := 0; x < w; {
		e := upRunEnd(src, above, x)
		if e > x {
			zeros := 3 * (e - x)
			s2 += uint64(zeros) * s1
			acc, nbits, n = zeroRun(acc, nbits, out, n, zeros, last)
			last = 0
			x = e
		}
		for ; x < w; x++ {
			p, q := binary.LittleEndian.Uint32(src[x*4:]), binary.LittleEndian.Uint32(above[x*4:])
			if p == q {
				break
			}
			d0, d1, d2 := byte(p)-byte(q), byte(p>>8)-byte(q>>8), byte(p>>16)-byte(q>>16)
			k0, k1, k2 := litCode[d0], litCode[d1], litCode[d2]
			n0, n1 := k0>>16, k1>>16
			acc |= (uint64(k0&0xffff) | uint64(k1&0xffff)<<n0 | uint64(k2&0xffff)<<(n0+n1)) << nbits
			nbits += uint(n0 + n1 + k2>>16)
			last = d2
			s2 += 3*s1 + 3*uint64(d0) + 2*uint64(d1) + uint64(d2)
			s1 += uint64(d0) + uint64(d1) + uint64(d2)
			binary.LittleEndian.PutUint64(out[n:], acc)
			n += int(nbits >> 3)
			acc >>= nbits &^ 7
			nbits &= 7
		}
	}
	z.endRow(acc, nbits, n, s1, s2)
}

// upRunEnd is the first pixel from x on that differs from the one above
// (len(src)/4 when none does).
func upRunEnd(src, above []byte, x int) int {
	w := len(src) / 4
	for ; x+4 <= w; x += 4 {
		s, a := src[x*4:x*4+16], above[x*4:x*4+16]
		d0 := binary.LittleEndian.Uint64(s) ^ binary.LittleEndian.Uint64(a)
		d1 := binary.LittleEndian.Uint64(s[8:]) ^ binary.LittleEndian.Uint64(a[8:])
		if d0|d1 != 0 {
			if d0 != 0 {
				return x + bits.TrailingZeros64(d0)>>5
			}
			return x + 2 + bits.TrailingZeros64(d1)>>5
		}
	}
	for ; x < w && binary.LittleEndian.Uint32(src[x*4:]) == binary.LittleEndian.Uint32(above[x*4:]); x++ {
	}
	return x
}

// endRow stores the last whole bytes of a row's bits and the encoder's
// state, the Adler-32 sums reduced.
func (z *rleZlib) endRow(acc uint64, nbits uint, n int, s1, s2 uint64) {
	binary.LittleEndian.PutUint64(z.out[n:], acc)
	n += int(nbits >> 3)
	z.acc, z.nbits, z.n = acc>>(nbits&^7), nbits&7, n
	z.s1, z.s2 = s1%adlerMod, s2%adlerMod
}
