package auth

// Traditional crypt(3): 25 DES encryptions of a zero block under a key made
// of the password's first 8 bytes, with a 12-bit salt that swaps bits of
// the expansion E. The tables are those of FIPS 46-3; bit 1 is the most
// significant bit, as there.

var desIP = [64]uint8{
	58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
	62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
	57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
	61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
}

var desE = [48]uint8{
	32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
	16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
}

var desP = [32]uint8{
	16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
	2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
}

var desPC1 = [56]uint8{
	57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
	10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
	63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
	14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
}

var desPC2 = [48]uint8{
	14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
	41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
}

var desShifts = [16]uint8{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}

var desS = [8][64]uint8{
	{14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
		0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
		4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
		15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13},
	{15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
		3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
		0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
		13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9},
	{10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
		13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
		13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
		1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12},
	{7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
		13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
		10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
		3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14},
	{2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
		14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
		4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
		11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3},
	{12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
		10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
		9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
		4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13},
	{4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
		13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
		1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
		6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12},
	{13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
		1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
		7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
		2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11},
}

// permute picks bits of in (inBits wide, bit 1 = most significant) in the
// order table gives, the first one becoming the most significant.
func permute(in uint64, inBits uint, table []uint8) uint64 {
	var out uint64
	for _, p := range table {
		out = out<<1 | (in>>(inBits-uint(p)))&1
	}
	return out
}

// desFP is the inverse of desIP.
var desFP = func() (fp [64]uint8) {
	for i, p := range desIP {
		fp[p-1] = uint8(i + 1)
	}
	return fp
}()

// desSubkeys returns the 16 round keys (48 bits each) of a 64-bit key.
func desSubkeys(key uint64) (ks [16]uint64) {
	cd := permute(key, 64, desPC1[:])
	c, d := cd>>28, cd&0xfffffff
	for i, s := range desShifts {
		c = (c<<s | c>>(28-s)) & 0xfffffff
		d = (d<<s | d>>(28-s)) & 0xfffffff
		ks[i] = permute(c<<28|d, 56, desPC2[:])
	}
	return ks
}

// desEncrypt encrypts one block with the salt's bits swapping E's output
// bits i and i+24 (counted from the most significant) where salt bit i is set.
func desEncrypt(block uint64, ks *[16]uint64, salt uint32) uint64 {
	// The mask of E-output bits (in the high 24-bit half) to swap.
	var swap uint64
	for i := range 12 {
		if salt>>i&1 != 0 {
			swap |= 1 << (23 - i)
		}
	}
	b := permute(block, 64, desIP[:])
	l, r := b>>32, b&0xffffffff
	for i := range 16 {
		e := permute(r, 32, desE[:])
		hi, lo := e>>24, e&0xffffff
		x := (hi ^ lo) & swap
		e = (hi^x)<<24 | (lo ^ x)
		e ^= ks[i]
		var f uint64
		for s := range 8 {
			six := e >> (42 - 6*s) & 0x3f
			row := six>>4&2 | six&1
			col := six >> 1 & 0xf
			f = f<<4 | uint64(desS[s][row*16+col])
		}
		l, r = r, l^permute(f, 32, desP[:])
	}
	return permute(r<<32|l, 64, desFP[:])
}

// cryptIndex returns the value of a crypt(3) alphabet character, or -1.
func cryptIndex(c byte) int {
	switch {
	case c == '.' || c == '/':
		return int(c - '.')
	case c >= '0' && c <= '9':
		return int(c-'0') + 2
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 12
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 38
	}
	return -1
}

// desCrypt computes traditional crypt(3) for a two-character salt: the
// 13-character result `htpasswd -d` writes.
func desCrypt(pw []byte, salt [2]byte) []byte {
	var key uint64
	for i := range 8 {
		key <<= 8
		if i < len(pw) {
			key |= uint64(pw[i]<<1) & 0xff
		}
	}
	ks := desSubkeys(key)
	s := uint32(max(cryptIndex(salt[0]), 0)) | uint32(max(cryptIndex(salt[1]), 0))<<6
	var block uint64
	for range 25 {
		block = desEncrypt(block, &ks, s)
	}
	out := append(make([]byte, 0, 13), salt[0], salt[1])
	for i := range 10 {
		out = append(out, cryptAlphabet[block>>(58-6*i)&0x3f])
	}
	return append(out, cryptAlphabet[block<<2&0x3f])
}
