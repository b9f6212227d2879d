package statsd

import (
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// The name tables' hash: the name's bytes folded in eight at a time, each
// word by one 64×64→128-bit multiply (hi ^ lo) of the running state xor the
// word, then the last 0 to 7 bytes (zero-padded) with the length by one
// more; the state starts from a value seeded once per process at random, so
// a sender cannot choose names that collide without knowing it. The tables
// of a snapshot and of the Flusher never exchange slots, only names, so one
// seed serves them all. It is called from the loop's hot path in place of
// hash/maphash, whose call through the runtime cost more than the hashing
// itself for names of a few dozen bytes.
const (
	hashK0 = 0xa0761d6478bd642f
	hashK1 = 0xe7037ed1a0b428db
)

var hashSeed = func() uint64 {
	s := rand.Uint64()
	return s ^ mix64(s^hashK0, hashK1)
}()

// mix64 folds the 128-bit product of a and b into 64 bits.
func mix64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashWord folds one whole eight-byte word of a name into the state h.
func hashWord(h, w uint64) uint64 { return mix64(h^w, hashK1) }

// hashTail ends a name's hash: tail is its last len%8 bytes (little-endian,
// zero above them), n its length.
func hashTail(h, tail uint64, n int) uint64 { return mix64(h^tail^hashK0, uint64(n)^hashK1) }

// hashName hashes a name's bytes (loads through a pointer: the slice's
// bounds checks cost more than the hashing).
func hashName(b []byte) uint64 {
	n := len(b)
	base := unsafe.Pointer(unsafe.SliceData(b))
	h := hashSeed
	i := 0
	for ; i <= n-8; i += 8 {
		h = hashWord(h, *(*uint64)(unsafe.Add(base, i)))
	}
	var tail uint64
	if r := n - i; r > 0 {
		if n >= 8 { // the last eight bytes, those already folded shifted out
			tail = *(*uint64)(unsafe.Add(base, n-8)) >> (8 * uint(8-r))
		} else {
			for k := n - 1; k >= 0; k-- {
				tail = tail<<8 | uint64(*(*byte)(unsafe.Add(base, k)))
			}
		}
	}
	return hashTail(h, tail, n)
}

// sbytes views s as bytes without copying; the bytes must not be written.
func sbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
