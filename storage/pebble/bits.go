package pebble

import (
	"encoding/binary"
	"errors"
)

var errShortBits = errors.New("bit stream truncated")

// bitWriter appends a big-endian bit stream to a byte slice. Bits are
// collected in a 64-bit accumulator and spilled eight bytes at a time.
type bitWriter struct {
	b     []byte
	acc   uint64 // pending bits, right-aligned (none above nbits)
	nbits uint   // number of pending bits in acc (< 64 after each write)
}

// write appends the low n bits of v (n <= 64), most significant first.
func (w *bitWriter) write(v uint64, n uint) {
	if n == 0 {
		return
	}
	if n < 64 {
		v &= 1<<n - 1
	}
	free := 64 - w.nbits
	if n < free {
		w.acc = w.acc<<n | v
		w.nbits += n
		return
	}
	rest := n - free // < 64: free >= 1
	// free&63: free is 64 only with nothing pending (acc is 0).
	w.b = binary.BigEndian.AppendUint64(w.b, w.acc<<(free&63)|v>>rest)
	w.acc = v & (1<<rest - 1)
	w.nbits = rest
}

// flush pads the final partial byte with zero bits and returns the slice.
func (w *bitWriter) flush() []byte {
	for w.nbits >= 8 {
		w.nbits -= 8
		w.b = append(w.b, byte(w.acc>>w.nbits))
	}
	if w.nbits > 0 {
		w.b = append(w.b, byte(w.acc<<(8-w.nbits)))
	}
	w.acc, w.nbits = 0, 0
	return w.b
}

// bitReader reads a big-endian bit stream. Errors are sticky.
type bitReader struct {
	b   []byte
	pos uint // bit position
	err error
}

func (r *bitReader) read(n uint) uint64 {
	if r.err != nil {
		return 0
	}
	if n == 0 {
		return 0
	}
	if uint(len(r.b))*8-r.pos < n {
		r.err = errShortBits
		return 0
	}
	if i := r.pos >> 3; n <= 56 && i+8 <= uint(len(r.b)) {
		// One load: the 8 bytes from the current one hold the n bits
		// (offset <= 7, so offset + n <= 63).
		w := binary.BigEndian.Uint64(r.b[i:])
		v := (w << (r.pos & 7)) >> (64 - n)
		r.pos += n
		return v
	}
	var v uint64
	for n > 0 {
		byteIdx := r.pos >> 3
		off := r.pos & 7
		avail := 8 - off
		take := avail
		if take > n {
			take = n
		}
		bits := uint64(r.b[byteIdx]>>(avail-take)) & ((1 << take) - 1)
		v = v<<take | bits
		r.pos += take
		n -= take
	}
	return v
}

func (r *bitReader) readBit() bool { return r.read(1) == 1 }

// peek returns the next n bits (n <= 56) without consuming them, padded
// with zeros past the end of the stream.
func (r *bitReader) peek(n uint) uint64 {
	i := r.pos >> 3
	if i+8 <= uint(len(r.b)) {
		return (binary.BigEndian.Uint64(r.b[i:]) << (r.pos & 7)) >> (64 - n)
	}
	var w uint64
	for j := uint(0); j < 8; j++ {
		w <<= 8
		if i+j < uint(len(r.b)) {
			w |= uint64(r.b[i+j])
		}
	}
	return (w << (r.pos & 7)) >> (64 - n)
}

// left returns the number of unread bits.
func (r *bitReader) left() uint { return uint(len(r.b))*8 - r.pos }
