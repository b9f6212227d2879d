package statsd

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// The name tables' hash: a multiply-fold hash that reads a name eight
// bytes at a time (the shape of wyhash: each 16 bytes folded in by one
// 64×64→128-bit multiply, the last 16 read with overlapping loads), seeded
// once per process with a random value so a sender cannot choose names that
// collide without knowing it. The tables of a snapshot and of the Flusher
// never exchange slots, only names, so one seed serves them all. It is
// inlined into the loop's hot path in place of hash/maphash, whose call
// through the runtime cost more than the hashing itself for names of a few
// dozen bytes.
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

// hashName hashes a name's bytes.
func hashName(b []byte) uint64 {
	n := len(b)
	h := hashSeed
	var a, c uint64
	switch {
	case n <= 16:
		switch {
		case n >= 8:
			a, c = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
		case n >= 4:
			a, c = uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[n-4:]))
		case n > 0:
			a = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
		}
	default:
		p := b
		for len(p) > 16 {
			h = mix64(binary.LittleEndian.Uint64(p)^hashK1, binary.LittleEndian.Uint64(p[8:])^h)
			p = p[16:]
		}
		a, c = binary.LittleEndian.Uint64(b[n-16:]), binary.LittleEndian.Uint64(b[n-8:])
	}
	return mix64(hashK1^uint64(n), mix64(a^hashK1, c^h))
}

// sbytes views s as bytes without copying; the bytes must not be written.
func sbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
