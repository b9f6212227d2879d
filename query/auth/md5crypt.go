package auth

import (
	"crypto/md5"
	"hash"
)

// cryptAlphabet is the 64-character alphabet crypt(3) encodes with.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// appendB64 appends the n low 6-bit groups of w, least significant first,
// as crypt(3)'s b64_from_24bit does.
func appendB64(dst []byte, w uint32, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, cryptAlphabet[w&0x3f])
		w >>= 6
	}
	return dst
}

// md5Crypt computes Poul-Henning Kamp's MD5-based crypt with the given
// magic ("$1$" for crypt(3), "$apr1$" for Apache) and salt (at most 8
// bytes), returning the whole "magic salt $ hash" string.
func md5Crypt(magic string, pw, salt []byte) []byte {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	h := md5.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	alt := h.Sum(nil)

	h.Reset()
	h.Write(pw)
	h.Write([]byte(magic))
	h.Write(salt)
	for n := len(pw); n > 0; n -= 16 {
		h.Write(alt[:min(n, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(pw[:1])
		}
	}
	sum := cryptRounds(h, h.Sum(nil), pw, salt, 1000)
	out := make([]byte, 0, len(magic)+len(salt)+1+22)
	out = append(out, magic...)
	out = append(out, salt...)
	out = append(out, '$')
	for _, g := range [5][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = appendB64(out, uint32(sum[g[0]])<<16|uint32(sum[g[1]])<<8|uint32(sum[g[2]]), 4)
	}
	return appendB64(out, uint32(sum[11]), 2)
}

// cryptRounds is the stretching loop md5-crypt introduced and sha-crypt
// kept: each round hashes the previous digest with the password and salt
// (sequences) in an order set by the round number. It returns the last
// digest, written over sum.
func cryptRounds(h hash.Hash, sum, pw, salt []byte, rounds int) []byte {
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(pw)
		} else {
			h.Write(sum)
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(pw)
		}
		if i&1 != 0 {
			h.Write(sum)
		} else {
			h.Write(pw)
		}
		sum = h.Sum(sum[:0])
	}
	return sum
}
