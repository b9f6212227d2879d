package graph

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// rleZlib is a zlib stream writer made for filtered picture rows: one
// deflate block whose only matches repeat the previous byte (distance
// 1). The filtered rows of a graph are long runs of zeros between short
// literal stretches, which this encodes several times faster than
// compress/flate's fastest level, at a somewhat larger size.
//
// The block has its own Huffman codes (dynamicCodes), fixed once for
// every picture: every literal byte is 9 bits, so a pixel's three or
// four literals are packed with constant shifts, and the end of block
// and the 29 length symbols share the other half of the code space (5
// or 6 bits; the fixed codes spend 7 or 8, and 5 more on the distance).
// A graph's literal bytes are as often above 143 (9 bits in the fixed
// codes) as below, so its picture is about as small as with the fixed
// codes.
type rleZlib struct {
	// out is sized by room for the next row's worst case (every byte a
	// 9-bit literal) with 8 bytes to spare, so that bits are stored 8
	// bytes at a time without a capacity check; n bytes of it are
	// written (the caller's before the stream's)
	out   []byte
	n     int
	acc   uint64 // bits not yet written, LSB first
	nbits uint   // < 8 between rows, at most 7+21+36 within one
	// the Adler-32 sums, reduced at the end of every row: a row is at
	// most 8192×4+1 bytes, so they stay far below 2^64 within one
	s1, s2 uint64
}

// The block's codes, bit-reversed for the LSB-first stream, built
// once by dynamicCodes when the package's variables are initialised.
//
// litCode: a literal byte's code, litBits long; eobCode: end of block, same layout; matchCode: a run of length
// l (3..258) at distance 1, the length symbol, its extra bits and the
// 1-bit distance code 0, as one code of matchLen bits; blockHeader: the
// block's header (BFINAL, BTYPE 10 and the code lengths), headerBits
// long.
var litCode, eobCode, matchCode, matchLen, blockHeader, headerBits = dynamicCodes()

// litBits is every literal's code length.
const litBits = 9

// zeroRunCode[z][n] codes n (0..258) zero bytes as one piece: the code
// in the low 32 bits, its length above. z is 1 when the byte before
// is a zero, which a distance-1 match can repeat at once; z 0 starts
// with a literal zero. Runs of fewer than 3 bytes (after the literal)
// are literal zeros. At most 9 + 12 bits (no bits for n 0).
var zeroRunCode = zeroRunTable()

func zeroRunTable() (t [2][259]uint64) {
	zero := uint64(litCode[0])
	for z := 0; z < 2; z++ {
		for n := 1; n <= 258; n++ {
			var code uint64
			var nb uint
			m := n
			if z == 0 {
				code, nb, m = zero, litBits, n-1
			}
			if m >= 3 {
				code |= uint64(matchCode[m]) << nb
				nb += uint(matchLen[m])
			} else {
				for ; m > 0; m-- {
					code |= zero << nb
					nb += litBits
				}
			}
			t[z][n] = code | uint64(nb)<<32
		}
	}
	return t
}

// canonicalCodes gives each symbol of lengths its canonical Huffman
// code (RFC 1951 3.2.2), bit-reversed for the LSB-first stream.
func canonicalCodes(lengths []uint8) []uint32 {
	var count [16]uint32
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	var next [16]uint32
	for l, code := 1, uint32(0); l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint32, len(lengths))
	for s, l := range lengths {
		if l > 0 {
			codes[s] = uint32(bits.Reverse16(uint16(next[l])) >> (16 - l))
			next[l]++
		}
	}
	return codes
}

// bitWriter collects a few hundred bits, LSB first (the block header).
type bitWriter struct {
	b     []byte
	nbits uint
}

func (w *bitWriter) put(v uint32, n uint) {
	for i := uint(0); i < n; i++ {
		if w.nbits%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (w.nbits % 8)
		w.nbits++
	}
}

// dynamicCodes builds the block's codes and its header. Literal/length
// code lengths: 9 for the 256 literals (half the code space), 5 for the
// lengths 3 and 258 (symbols 257 and 285: single pixels and long runs),
// 6 for the end of block and the other 27 length symbols (the other
// half: 2/32 + 28/64). Distance codes: distances 1 and 2 of 1 bit each (a
// complete code; only distance 1 is used). The code-length code uses
// the symbols 1, 5, 6, 9 and 16 (repeat the previous length 3..6 times).
func dynamicCodes() (lit [256]uint32, eob uint32, match [259]uint32, matchBits [259]uint8, header []byte, headerBits uint) {
	var lengths [286]uint8
	for s := range lengths {
		lengths[s] = 6
	}
	for s := 0; s < 256; s++ {
		lengths[s] = litBits
	}
	lengths[257], lengths[285] = 5, 5
	codes := canonicalCodes(lengths[:])
	for s := 0; s < 256; s++ {
		lit[s] = codes[s]
	}
	eob = codes[256] | uint32(lengths[256])<<16
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
			c, n := codes[257+i], uint(lengths[257+i])
			c |= uint32(l-b) << n // extra bits
			n += uint(extras[i])
			// then distance code 0 in 1 bit: a zero
			match[l], matchBits[l] = c, uint8(n+1)
		}
	}
	// the code-length code: symbols 1, 5, 6, 9 and 16
	var clLengths [19]uint8
	clLengths[1], clLengths[5], clLengths[6], clLengths[9], clLengths[16] = 3, 3, 2, 2, 2
	clCodes := canonicalCodes(clLengths[:])
	w := &bitWriter{}
	w.put(1, 1)               // BFINAL
	w.put(2, 2)               // BTYPE 10: dynamic codes
	w.put(uint32(286-257), 5) // HLIT
	w.put(uint32(2-1), 5)     // HDIST
	w.put(uint32(19-4), 4)    // HCLEN: all 19 code-length code lengths
	for _, s := range []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15} {
		w.put(uint32(clLengths[s]), 3)
	}
	all := append(lengths[:], 1, 1) // then the two distance codes' lengths
	for i := 0; i < len(all); {
		l := all[i]
		w.put(clCodes[l], uint(clLengths[l]))
		i++
		for i < len(all) && all[i] == l {
			r := 0
			for r < 6 && i+r < len(all) && all[i+r] == l {
				r++
			}
			if r < 3 {
				break
			}
			w.put(clCodes[16], uint(clLengths[16]))
			w.put(uint32(r-3), 2)
			i += r
		}
	}
	return lit, eob, match, matchBits, append(w.b, 0), w.nbits // a whole byte more: reset reads the last partial one
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
	whole := int(headerBits / 8)
	z.n += copy(z.out[z.n:], blockHeader[:whole])
	z.acc, z.nbits = uint64(blockHeader[whole]), headerBits%8
}

// room makes out hold the next raw bytes' worst case (every byte a
// 9-bit literal) with the end of the stream (end of block and Adler-32)
// and 8 bytes to spare, so that bits are stored 8 bytes at a time
// without a capacity check. It grows out to at least twice its size.
func (z *rleZlib) room(raw int) {
	need := z.n + (7+9*raw+7+7)/8 + 4 + 8 + len(blockHeader)
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
	acc |= uint64(litCode[1]) << nbits
	nbits += litBits
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
		code := uint64(litCode[d0]) | uint64(litCode[d1])<<litBits | uint64(litCode[d2])<<(2*litBits)
		bits := uint(3 * litBits)
		last = d2
		if bpp == 3 {
			s2 += 3*s1 + 3*uint64(d0) + 2*uint64(d1) + uint64(d2)
			s1 += uint64(d0) + uint64(d1) + uint64(d2)
		} else {
			d3 := c3 - l3
			l3 = c3
			s2 += 4*s1 + 4*uint64(d0) + 3*uint64(d1) + 2*uint64(d2) + uint64(d3)
			s1 += uint64(d0) + uint64(d1) + uint64(d2) + uint64(d3)
			code |= uint64(litCode[d3]) << (3 * litBits)
			bits += litBits
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
// above is three zero bytes each, the others three literal bytes each,
// their differences from the pixels above. Each pixel that differs
// (masks' set bits) is written in one go with the run of equal pixels
// before it (upWord), without a branch or a call; then the run to the
// row's end. A graph's literal stretches are short (three pixels on
// average in the benchmark picture) and of random lengths, so branching
// per stretch would cost mispredictions. The row's Adler-32 sums are
// summed along (upWord) and finished here.
//
// A run's code depends on whether the byte before it is 0
// (zeroRunCode), so the loop carries the table index of a run ending at
// pixel x as 2x − b: b is twice the first pixel not yet written, less 1
// when the byte before it is 0 (one value for the two).
//
// The Adler-32 sums over the row's 1+3w bytes (the filter byte 2 first:
// byte i adds (1+3w-i) times itself to s2): pixel x's bytes d0, d1, d2
// are bytes 1+3x.., so they add (3w-3x)·(d0+d1+d2) − d1 − 2·d2. The loop
// sums 3x·(d0+d1+d2) + d1 + 2·d2 and the end subtracts it from 3w times
// the sum of the bytes. Both sums share one register (fewer live values
// in the loop): the sum of the bytes from bit 40 (at most 8192·765 <
// 2^23), the other below (at most 8192·(3·8192·765+765) < 2^38).
//
// The pixels are read and the bits written through pointers: masks' bits
// stand for pixels of the row (upMasks sets none past its end), both rows
// are checked once to hold w pixels, and room (before the row) leaves
// the row's worst case (9 bits for each of its 1+3w bytes, after at most
// 7 pending) and 8 bytes to spare. At most 7 bits are pending between
// pieces, 7+48 before a store.
func (z *rleZlib) rowUp(src, above []byte, masks []uint64) {
	w := len(src) / 4
	_, _ = src[:w*4], above[:w*4]
	if w > MaxSide || len(masks) > (w+63)/64 {
		panic("graph: rowUp: masks do not fit the row")
	}
	acc, nbits, n := z.acc, z.nbits, z.n
	// the filter byte
	acc |= uint64(litCode[2]) << (nbits & 63)
	nbits += litBits
	out := z.out[n : n+(7+9*(1+3*w)+7)/8+8]
	op0 := unsafe.Pointer(unsafe.SliceData(out))
	binary.LittleEndian.PutUint64(out, acc) // fewer than 8 bits pending
	op := unsafe.Add(op0, nbits>>3)
	acc >>= nbits &^ 7 & 63
	nbits &= 7
	sp, ap := unsafe.Pointer(unsafe.SliceData(src)), unsafe.Pointer(unsafe.SliceData(above))
	st := uint64(0) // the two sums
	b := 0          // 2·next − z (next 0; the filter byte 2 is not 0)
	for c, m := range masks {
		if m == 0 {
			continue
		}
		// upWord counts pixels from the word's first, 64c: its b is
		// 128c less and its weighted sum lacks 3·64c times the word's sum
		// of bytes
		u := st >> 40
		var sw uint64
		acc, op, nbits, sw, b = upWord(acc, unsafe.Add(sp, c*256), nbits, unsafe.Add(ap, c*256), op, m, st, b-128*c)
		st = sw + uint64(192*c)*(sw>>40-u)
		b += 128 * c
	}
	// the run to the row's end, in runs of 86 pixels
	for i := 2*w - b; i > 1; i = (i - 2*86) | 1 {
		e := &zeroRunPiece[min(i, 2*86+i&1)]
		acc |= e.code << (nbits & 63)
		nbits += uint(e.bits) - 3*litBits
		*(*uint64)(op) = acc
		op = unsafe.Add(op, nbits>>3)
		acc >>= nbits &^ 7 & 63
		nbits &= 7
	}
	sum := st >> 40
	rl := uint64(1 + 3*w)
	z.s2 += rl*z.s1 + 2*rl + uint64(3*w)*sum - st&(1<<40-1)
	z.s1 += 2 + sum
	z.endRow(acc, nbits, n+int(uintptr(op)-uintptr(op0)), z.s1, z.s2)
}

// zeroRunPiece[2g+z] codes a run of g (0..86) pixels equal to the ones
// above, 3g zero bytes, and the literal pixel after it: the run's code
// (zeroRunCode[z][3g], z being 1 when the byte before is 0), 2 to the
// power of its length, which places the pixel's 27 bits after the run
// with a multiplication (a shift by a variable count must be in CX on
// amd64, which the writing of the bits holds), and the length of both.
// A run alone is bits − 27 long.
var zeroRunPiece = zeroRunPieces()

type runPiece struct{ code, mul, bits, _ uint64 }

func zeroRunPieces() (t [2 * 87]runPiece) {
	for i := range t {
		c := zeroRunCode[i&1][3*(i>>1)]
		t[i] = runPiece{code: c & 0xffffffff, mul: 1 << (c >> 32), bits: c>>32 + 3*litBits}
	}
	return t
}

// upWord writes the pixels of a mask word m of an Up row (pixels 0..63
// from sp and ap; b and the weighted sum counted from the word's first
// pixel) after the bits acc (nbits of them) at op, as rowUp describes,
// and returns the new op, acc, nbits, sums and b. It is a function of
// its own (not inlined) so that the loop's state is all it has live: in
// one loop over all the words, the words' index and slice and the
// values needed after the loop took registers and the loop spilled the
// pixels it had just loaded.
//
//go:noinline
func upWord(acc uint64, sp unsafe.Pointer, nbits uint, ap, op unsafe.Pointer, m, st uint64, b int) (uint64, unsafe.Pointer, uint, uint64, int) {
	for m != 0 {
		x := bits.TrailingZeros64(m)
		m &= m - 1
		i := 2*x - b // 2·gap + z
		for i > 2*86+1 {
			e := &zeroRunPiece[2*86+i&1]
			acc |= e.code << (nbits & 63)
			nbits += uint(e.bits) - 3*litBits
			*(*uint64)(op) = acc
			op = unsafe.Add(op, nbits>>3)
			acc >>= nbits &^ 7 & 63
			nbits &= 7
			i = (i - 2*86) | 1
		}
		p := *(*uint32)(unsafe.Add(sp, x*4)) // little-endian: R, G, B, A
		q := *(*uint32)(unsafe.Add(ap, x*4))
		// the byte-wise differences, all at once
		d := ((p | 0x80808080) - (q &^ 0x80808080)) ^ ((p ^ ^q) & 0x80808080)
		d0, d1, d2 := uint64(d&0xff), uint64(d>>8&0xff), uint64(d>>16&0xff)
		st += (d0+d1+d2)*(uint64(3*x)+1<<40) + d1 + 2*d2
		e := (*runPiece)(unsafe.Add(unsafe.Pointer(&zeroRunPiece), i*32))
		lit := uint64(litCode[d0]) | uint64(litCode[d1])<<litBits | uint64(litCode[d2])<<(2*litBits)
		acc |= (e.code + lit*e.mul) << (nbits & 63)
		nbits += uint(e.bits)
		*(*uint64)(op) = acc // little-endian: the stream's next bytes
		op = unsafe.Add(op, nbits>>3)
		acc >>= nbits &^ 7 & 63
		nbits &= 7
		b = 2*x + 2 - int((d2-1)>>63)
	}
	return acc, op, nbits, st, b
}

// upMasks fills masks (one per 64 pixels, masks holding at least
// (w+63)/64) with a bit for each pixel of row whose colour differs from
// the one above (its alpha is not looked at: the picture is opaque) and
// returns how many differ. maskGroups writes a byte for each eight
// pixels; the last few pixels of a row whose width is not a multiple of
// 8 are looked at one by one.
func upMasks(row, above []byte, masks []uint64) int {
	w := len(row) / 4
	_ = above[:w*4]
	nm := (w + 63) / 64
	if len(masks) < nm {
		panic("graph: upMasks: too few masks for the row")
	}
	masks = masks[:nm]
	masks[nm-1] = 0 // the bytes past the groups' stay 0
	sp, ap := unsafe.Pointer(unsafe.SliceData(row)), unsafe.Pointer(unsafe.SliceData(above))
	mp := unsafe.Pointer(unsafe.SliceData(masks))
	// the constants as arguments: the compiler keeps them in registers
	// rather than load them again in every group
	maskGroups(sp, ap, mp, w/8, 0x00ffffff00ffffff, 0x0100000001000000)
	for i := w &^ 7; i < w; i++ {
		d := *(*uint32)(unsafe.Add(sp, i*4)) ^ *(*uint32)(unsafe.Add(ap, i*4))
		masks[i/64] |= uint64((d&0xffffff+0xffffff)>>24) << (i % 64)
	}
	n := 0
	for _, m := range masks {
		n += bits.OnesCount64(m)
	}
	return n
}

// maskGroups writes at mp (the masks as little-endian bytes) a byte for
// each of g groups of eight pixels from sp and ap, bit i set when pixel
// i's colour differs, eight pixels (four words) at a time without
// branches but one: in t = ((d & k) + k) & b (k 0x00ffffff00ffffff, b
// 0x0100000001000000), for d the XOR of a word of
// the two rows, bits 24 and 56 are set when the low and high pixel's RGB
// differ. Those bits of the four words are shifted to bits 0, 2, 4, 6
// (the low pixels 0, 2, 4, 6) and 32, 34, 36, 38 (pixels 1, 3, 5, 7),
// then folded into one byte. Most of a graph's groups of eight repeat
// the row above and write a 0. It is a function of its own (not
// inlined) so that the loop's state is all it has live.
//
//go:noinline
func maskGroups(sp, ap, mp unsafe.Pointer, g int, k, b uint64) {
	for ; g > 0; g-- {
		d0 := *(*uint64)(sp) ^ *(*uint64)(ap)
		d1 := *(*uint64)(unsafe.Add(sp, 8)) ^ *(*uint64)(unsafe.Add(ap, 8))
		d2 := *(*uint64)(unsafe.Add(sp, 16)) ^ *(*uint64)(unsafe.Add(ap, 16))
		d3 := *(*uint64)(unsafe.Add(sp, 24)) ^ *(*uint64)(unsafe.Add(ap, 24))
		sp, ap = unsafe.Add(sp, 32), unsafe.Add(ap, 32)
		t := uint64(0)
		if d0|d1|d2|d3 != 0 {
			t = ((d0&k+k)&b)>>24 | ((d1&k+k)&b)>>22 | ((d2&k+k)&b)>>20 | ((d3&k+k)&b)>>18
		}
		*(*uint8)(mp) = uint8(t | t>>31)
		mp = unsafe.Add(mp, 1)
	}
}

// endRow stores the last whole bytes of a row's bits and the encoder's
// state, the Adler-32 sums reduced.
func (z *rleZlib) endRow(acc uint64, nbits uint, n int, s1, s2 uint64) {
	binary.LittleEndian.PutUint64(z.out[n:], acc)
	n += int(nbits >> 3)
	z.acc, z.nbits, z.n = acc>>(nbits&^7), nbits&7, n
	z.s1, z.s2 = s1%adlerMod, s2%adlerMod
}
