package graph

import (
	"encoding/binary"
	"math/bits"
)

// rleZlib is a zlib stream writer made for filtered picture rows: one
// deflate block with the fixed Huffman codes whose only matches repeat
// the previous byte (distance 1). The Sub-filtered rows of a graph are
// long runs of zeros between short literal stretches, which this encodes
// several times faster than compress/flate's fastest level, at a somewhat
// larger size.
type rleZlib struct {
	out   []byte
	acc   uint64
	nbits uint
	// the Adler-32 sums and the bytes added since they were reduced
	s1, s2  uint32
	pending int
	prev    int // previous byte of the stream, -1 at the start
}

// Fixed Huffman codes, bit-reversed for the LSB-first stream.
var (
	fixedLitCode [288]uint16
	fixedLitLen  [288]uint8
	lenSym       [259]uint16 // length 3..258 -> symbol 257..285
	lenExtra     [259]uint8  // extra bits
	lenBase      [259]uint16 // extra value = length - base
)

func init() {
	for s := 0; s < 288; s++ {
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
		fixedLitCode[s] = uint16(bits.Reverse16(uint16(code)) >> (16 - n))
		fixedLitLen[s] = uint8(n)
	}
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
			lenSym[l], lenExtra[l], lenBase[l] = uint16(257+i), uint8(extras[i]), uint16(b)
		}
	}
}

func (z *rleZlib) reset(dst []byte) {
	*z = rleZlib{out: append(dst[:0], 0x78, 0x01), s1: 1, prev: -1}
	z.put(1, 1) // BFINAL
	z.put(1, 2) // BTYPE 01: fixed codes
}

// put appends the n low bits of v (n ≤ 16) to the stream.
func (z *rleZlib) put(v uint64, n uint) {
	z.acc |= v << z.nbits
	z.nbits += n
	if z.nbits >= 32 {
		z.out = binary.LittleEndian.AppendUint32(z.out, uint32(z.acc))
		z.acc >>= 32
		z.nbits -= 32
	}
}

func (z *rleZlib) sym(s int) { z.put(uint64(fixedLitCode[s]), uint(fixedLitLen[s])) }

// match emits a run of length l (3..258) at distance 1.
func (z *rleZlib) match(l int) {
	z.sym(int(lenSym[l]))
	if e := lenExtra[l]; e > 0 {
		z.put(uint64(l-int(lenBase[l])), uint(e))
	}
	z.put(0, 5) // distance code 0 (distance 1), no extra bits
}

const adlerMod = 65521

// adlerByte adds c to the Adler-32 sums, reducing them every 5,552
// bytes (the most that cannot overflow 32 bits).
func (z *rleZlib) adlerByte(c byte) {
	z.s1 += uint32(c)
	z.s2 += z.s1
	if z.pending++; z.pending >= 5552 {
		z.s1 %= adlerMod
		z.s2 %= adlerMod
		z.pending = 0
	}
}

// write emits p, repeats of the previous byte as runs.
func (z *rleZlib) write(p []byte) {
	i := 0
	for i < len(p) {
		b := p[i]
		if int(b) == z.prev {
			j := i + 1
			for j < len(p) && p[j] == b && j-i < 258 {
				j++
			}
			if n := j - i; n >= 3 {
				for _, c := range p[i:j] {
					z.adlerByte(c)
				}
				z.match(n)
				i = j
				continue
			}
		}
		z.adlerByte(b)
		z.sym(int(b))
		z.prev = int(b)
		i++
	}
}

// literals emits p as literal codes (no runs), for the few changed
// bytes of a pixel.
func (z *rleZlib) literals(p []byte) {
	acc, nbits := z.acc, z.nbits
	s1, s2 := z.s1, z.s2
	for _, c := range p {
		s1 += uint32(c)
		s2 += s1
		acc |= uint64(fixedLitCode[c]) << nbits
		nbits += uint(fixedLitLen[c])
		if nbits >= 32 {
			z.out = binary.LittleEndian.AppendUint32(z.out, uint32(acc))
			acc >>= 32
			nbits -= 32
		}
	}
	z.acc, z.nbits, z.s1, z.s2 = acc, nbits, s1, s2
	if len(p) > 0 {
		z.prev = int(p[len(p)-1])
	}
	if z.pending += len(p); z.pending >= 5552-8 {
		z.s1 %= adlerMod
		z.s2 %= adlerMod
		z.pending = 0
	}
}

// zeros emits n zero bytes: zeros leave the Adler-32 s1 as it is and add
// s1 to s2 each, so the sums move by arithmetic, not by byte.
func (z *rleZlib) zeros(n int) {
	z.s1 %= adlerMod
	z.s2 = uint32((uint64(z.s2) + uint64(n)*uint64(z.s1)) % adlerMod)
	z.pending = 0
	if z.prev != 0 {
		z.sym(0)
		z.prev = 0
		n--
	}
	for n >= 3 {
		l := min(n, 258)
		z.match(l)
		n -= l
	}
	for ; n > 0; n-- {
		z.sym(0)
	}
}

func (z *rleZlib) finish() []byte {
	z.sym(256)
	for z.nbits > 0 {
		z.out = append(z.out, byte(z.acc))
		z.acc >>= 8
		z.nbits = max(z.nbits, 8) - 8
	}
	z.s1 %= adlerMod
	z.s2 %= adlerMod
	return append(z.out, byte(z.s2>>8), byte(z.s2), byte(z.s1>>8), byte(z.s1))
}
