package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
)

// SHA-crypt's round bounds and default (Ulrich Drepper's specification,
// "Unix crypt using SHA-256 and SHA-512").
const (
	shaRoundsDefault = 5000
	shaRoundsMin     = 1000
	shaRoundsMax     = 999999999
)

// The byte order in which SHA-crypt encodes the final digest, three bytes
// to four characters; the last group of each is shorter.
var (
	sha256Order = [...][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}}
	sha512Order = [...][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
		{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
		{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}}
)

// shaCrypt computes SHA-crypt: magic "$5$" (SHA-256) or "$6$" (SHA-512).
// explicitRounds says whether the setting carried "rounds=N$", which the
// output then repeats (with N clamped to the specification's bounds).
func shaCrypt(magic string, pw, salt []byte, rounds int, explicitRounds bool) []byte {
	newHash := sha256.New
	if magic == "$6$" {
		newHash = sha512.New
	}
	if len(salt) > 16 {
		salt = salt[:16]
	}
	rounds = max(shaRoundsMin, min(rounds, shaRoundsMax))

	h := newHash()
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	b := h.Sum(nil)
	size := len(b)

	h.Reset()
	h.Write(pw)
	h.Write(salt)
	writeRepeated(h, b, len(pw))
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(pw)
		}
	}
	a := h.Sum(nil)

	h.Reset()
	for range len(pw) {
		h.Write(pw)
	}
	pseq := repeatTo(h.Sum(nil), len(pw))

	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	sseq := repeatTo(h.Sum(nil), len(salt))

	c := cryptRounds(h, a, pseq, sseq, rounds)

	out := make([]byte, 0, 32+len(salt)+size*4/3+2)
	out = append(out, magic...)
	if explicitRounds {
		out = append(out, "rounds="...)
		out = strconv.AppendInt(out, int64(rounds), 10)
		out = append(out, '$')
	}
	out = append(out, salt...)
	out = append(out, '$')
	if size == sha256.Size {
		for _, g := range sha256Order {
			out = appendB64(out, uint32(c[g[0]])<<16|uint32(c[g[1]])<<8|uint32(c[g[2]]), 4)
		}
		return appendB64(out, uint32(c[31])<<8|uint32(c[30]), 3)
	}
	for _, g := range sha512Order {
		out = appendB64(out, uint32(c[g[0]])<<16|uint32(c[g[1]])<<8|uint32(c[g[2]]), 4)
	}
	return appendB64(out, uint32(c[63]), 2)
}

// writeRepeated writes n bytes of b repeated.
func writeRepeated(h hash.Hash, b []byte, n int) {
	for ; n > len(b); n -= len(b) {
		h.Write(b)
	}
	h.Write(b[:n])
}

// repeatTo returns n bytes of b repeated.
func repeatTo(b []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, b[:min(len(b), n-len(out))]...)
	}
	return out
}
