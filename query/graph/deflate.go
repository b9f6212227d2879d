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
	// out is sized by room for the next row's worst case (every byte a
	// 9-bit literal) with 8 bytes to spare, so that bits are stored 8
	// bytes at a time without a capacity check; n bytes of it are
	// written (the caller's before the stream's)
	out   []byte
	n     int
	acc   uint64 // bits not yet written, LSB first
	nbits uint   // < 8 between rows, at most 36 within one
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

// zeroRunCode[z][n] codes n (0..258) zero bytes as one piece: the code
// in the low 32 bits, its length above. z is 1 when the byte before
// is a zero, which a distance-1 match can repeat at once; z 0 starts
// with a literal zero. Runs of fewer than 3 bytes (after the literal)
// are literal zeros. At most 8 + 18 bits.
var zeroRunCode = zeroRunTable()

func zeroRunTable() (t [2][259]uint64) {
	const zero = 0x0c // literal 0: 0x30 in 8 bits, reversed
	for z := 0; z < 2; z++ {
		for n := 1; n <= 258; n++ {
			var code uint64
			var nb uint
			m := n
			if z == 0 {
				code, nb, m = zero, 8, n-1
			}
			if m >= 3 {
				code |= uint64(matchCode[m]) << nb
				nb += uint(matchLen[m])
			} else {
				for ; m > 0; m-- {
					code |= zero << nb
					nb += 8
				}
			}
			t[z][n] = code | uint64(nb)<<32
		}
	}
	return t
}

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

// reset starts a zlib stream of at most raw bytes (filter bytes
// included) after dst's bytes, in dst's memory while it has room: room
// makes sure of it before every row. A first guess of a third of raw
// bytes holds a graph's stream (the 800×600 benchmark picture's is
// 0.29 of raw).
func (z *rleZlib) reset(dst []byte, raw int) {
	*z = rleZlib{out: dst[:cap(dst)], n: len(dst), s1: 1}
	z.room(raw / 3)
	z.out[z.n], z.out[z.n+1] = 0x78, 0x01
	z.n += 2
	z.acc, z.nbits = 1|1<<1, 3 // BFINAL, BTYPE 01: fixed codes
}

// room makes out hold the next raw bytes' worst case (every byte a
// 9-bit literal) with the end of the stream (end of block and Adler-32)
// and 8 bytes to spare, so that bits are stored 8 bytes at a time
// without a capacity check. It grows out to at least twice its size.
func (z *rleZlib) room(raw int) {
	need := z.n + (7+9*raw+7+7)/8 + 4 + 8
	if need <= len(z.out) {
		return
	}
	grown := make([]byte, max(need, 2*len(z.out)))
	copy(grown, z.out[:z.n])
	z.out = grown
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

// zeroRun codes n zero bytes after the byte last, with at most 36 bits
// pending in acc: runs of up to 258 at distance 1, each one table entry
// (zeroRunCode). It returns the bits left (fewer than 8) and the new
// output length.
func zeroRun(acc uint64, nbits uint, out []byte, pos int, n int, last byte) (uint64, uint, int) {
	z := 1 - (uint(last)+255)>>8 // 1 when last is 0
	for n > 258 {                // runs longer than 86 pixels
		c := zeroRunCode[z][258]
		acc |= (c & 0xffffffff) << nbits
		nbits += uint(c >> 32)
		binary.LittleEndian.PutUint64(out[pos:], acc)
		pos += int(nbits >> 3)
		acc >>= nbits &^ 7
		nbits &= 7
		n -= 258
		z = 1
	}
	c := zeroRunCode[z][n]
	acc |= (c & 0xffffffff) << nbits
	nbits += uint(c >> 32)
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
	up, sub := uint64(0), uint64(0)
	above = above[:len(row)]
	for i := 8; i+8 <= len(row); i += 16 {
		p := binary.LittleEndian.Uint64(row[i:])
		// (d|-d)>>63 is 1 when d is not 0: no branch to mispredict
		u := p ^ binary.LittleEndian.Uint64(above[i:])
		s := p ^ binary.LittleEndian.Uint64(row[i-4:])
		up += (u | -u) >> 63
		sub += (s | -s) >> 63
	}
	return up < sub
}

// rowUp emits one row of an opaque picture (src and the row above as
// premultiplied RGBA, all alpha 255) as RGB with the Up filter, masks
// holding upMasks of the two rows: a run of pixels equal to the ones
// above is three zero bytes each (coded by zeroRun), the others three
// literal bytes each, their differences from the pixels above. The runs
// and literal stretches are found in the masks by counting trailing
// zeros: one branch per stretch instead of one per pixel. A graph's
// literal stretches are short (three pixels on average in the benchmark
// picture), so the whole row is coded here with the encoder's state in
// local variables, the bits stored after every two pixels (fewer than 8
// are then pending, at most 7+54 before the store).
func (z *rleZlib) rowUp(src, above []byte, masks []uint64) {
	acc, nbits, out, n, s1, s2 := z.acc, z.nbits, z.out, z.n, z.s1, z.s2
	// the filter byte
	acc |= uint64(litCode[2]&0xffff) << (nbits & 63)
	nbits += uint(litCode[2] >> 16)
	binary.LittleEndian.PutUint64(out[n:], acc) // fewer than 8 bits pending
	n += int(nbits >> 3)
	acc >>= nbits &^ 7 & 63
	nbits &= 7
	s1 += 2
	s2 += s1
	last := byte(2) // the previous byte of the stream
	w := len(src) / 4
	src = src[:w*4]
	above = above[:w*4]
	run := 0 // pixels equal to the ones above, not yet coded
	for c, m := range masks {
		x := c * 64
		for m != 0 {
			r := bits.TrailingZeros64(m)
			l := bits.TrailingZeros64(^(m >> r)) // 64 when all 64 differ
			m = m >> r >> l
			x += r
			run += r
			if run > 0 {
				s2 += uint64(3*run) * s1
				acc, nbits, n = zeroRun(acc, nbits, out, n, 3*run, last)
				run = 0
			}
			var d uint32
			e := x + l
			// two pixels at a time: six codes of at most 9 bits, at
			// most 7+54 bits pending before the store
			for ; x+2 <= e; x += 2 {
				p, q := binary.LittleEndian.Uint64(src[x*4:]), binary.LittleEndian.Uint64(above[x*4:])
				// the byte-wise differences, all at once
				dd := ((p | 0x8080808080808080) - (q &^ 0x8080808080808080)) ^ ((p ^ ^q) & 0x8080808080808080)
				d0, d1, d2 := dd&0xff, dd>>8&0xff, dd>>16&0xff
				d3, d4, d5 := dd>>32&0xff, dd>>40&0xff, dd>>48&0xff
				k0, k1, k2 := litCode[d0], litCode[d1], litCode[d2]
				k3, k4, k5 := litCode[d3], litCode[d4], litCode[d5]
				n0, n1, n3, n4 := k0>>16, k1>>16, k3>>16, k4>>16
				ca := uint64(k0&0xffff) | uint64(k1&0xffff)<<(n0&31) | uint64(k2&0xffff)<<((n0+n1)&31)
				cb := uint64(k3&0xffff) | uint64(k4&0xffff)<<(n3&31) | uint64(k5&0xffff)<<((n3+n4)&31)
				na := uint(n0 + n1 + k2>>16)
				acc |= (ca | cb<<(na&63)) << (nbits & 63)
				nbits += na + uint(n3+n4+k5>>16)
				s2 += 6*s1 + 6*d0 + 5*d1 + 4*d2 + 3*d3 + 2*d4 + d5
				s1 += d0 + d1 + d2 + d3 + d4 + d5
				binary.LittleEndian.PutUint64(out[n:], acc)
				n += int(nbits >> 3)
				acc >>= nbits &^ 7 & 63
				nbits &= 7
				d = uint32(dd >> 32)
			}
			if x < e {
				p, q := binary.LittleEndian.Uint32(src[x*4:]), binary.LittleEndian.Uint32(above[x*4:])
				d = ((p | 0x80808080) - (q &^ 0x80808080)) ^ ((p ^ ^q) & 0x80808080)
				d0, d1, d2 := uint64(byte(d)), uint64(byte(d>>8)), uint64(byte(d>>16))
				k0, k1, k2 := litCode[d0], litCode[d1], litCode[d2]
				n0, n1 := k0>>16, k1>>16
				acc |= (uint64(k0&0xffff) | uint64(k1&0xffff)<<(n0&31) | uint64(k2&0xffff)<<((n0+n1)&31)) << (nbits & 63)
				nbits += uint(n0 + n1 + k2>>16)
				s2 += 3*s1 + 3*d0 + 2*d1 + d2
				s1 += d0 + d1 + d2
				binary.LittleEndian.PutUint64(out[n:], acc)
				n += int(nbits >> 3)
				acc >>= nbits &^ 7 & 63
				nbits &= 7
				x++
			}
			last = byte(d >> 16)
		}
		run += min(c*64+64, w) - x
	}
	if run > 0 {
		s2 += uint64(3*run) * s1
		acc, nbits, n = zeroRun(acc, nbits, out, n, 3*run, last)
	}
	z.endRow(acc, nbits, n, s1, s2)
}

// upMasks fills masks (one per 64 pixels) with diffMask of row
// against the row above and returns how many pixels differ.
func upMasks(row, above []byte, masks []uint64) int {
	n := 0
	for c := range masks {
		lo, hi := c*256, min(c*256+256, len(row))
		masks[c] = diffMask(row[lo:hi], above[lo:hi])
		n += bits.OnesCount64(masks[c])
	}
	return n
}

// diffMask has bit i set when pixel i of src (at most 64 pixels)
// differs from the one above, eight pixels at a time without branches:
// in t = ((d & 0x7fffffff…) + 0x7fffffff…) | d, bits 31 and 63 are set
// when the low and high 32 bits of d are not 0.
func diffMask(src, above []byte) uint64 {
	const lo31 = 0x7fffffff7fffffff
	var m uint64
	above = above[:len(src)]
	i := 0
	for ; i+32 <= len(src); i += 32 {
		s, a := src[i:i+32], above[i:i+32]
		d0 := binary.LittleEndian.Uint64(s) ^ binary.LittleEndian.Uint64(a)
		d1 := binary.LittleEndian.Uint64(s[8:]) ^ binary.LittleEndian.Uint64(a[8:])
		d2 := binary.LittleEndian.Uint64(s[16:]) ^ binary.LittleEndian.Uint64(a[16:])
		d3 := binary.LittleEndian.Uint64(s[24:]) ^ binary.LittleEndian.Uint64(a[24:])
		if d0|d1|d2|d3 == 0 { // most of a graph's rows repeat the row above
			continue
		}
		t0 := (d0&lo31 + lo31) | d0
		t1 := (d1&lo31 + lo31) | d1
		t2 := (d2&lo31 + lo31) | d2
		t3 := (d3&lo31 + lo31) | d3
		g := t0>>31&1 | t0>>62&2 | t1>>29&4 | t1>>60&8 | t2>>27&16 | t2>>58&32 | t3>>25&64 | t3>>56&128
		m |= g << (i / 4)
	}
	for ; i+4 <= len(src); i += 4 {
		d := uint64(binary.LittleEndian.Uint32(src[i:]) ^ binary.LittleEndian.Uint32(above[i:]))
		m |= (d + 0xffffffff) >> 32 << (i / 4)
	}
	return m
}

// endRow stores the last whole bytes of a row's bits and the encoder's
// state, the Adler-32 sums reduced.
func (z *rleZlib) endRow(acc uint64, nbits uint, n int, s1, s2 uint64) {
	binary.LittleEndian.PutUint64(z.out[n:], acc)
	n += int(nbits >> 3)
	z.acc, z.nbits, z.n = acc>>(nbits&^7), nbits&7, n
	z.s1, z.s2 = s1%adlerMod, s2%adlerMod
}
