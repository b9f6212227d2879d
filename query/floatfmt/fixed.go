package floatfmt

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Min and Max bound the magnitudes AppendFixed formats: Min <= |f| < Max.
const (
	Min = 1e-4
	Max = 1e16
)

// InRange reports whether AppendFixed formats f (Min <= |f| < Max; false
// for NaN).
func InRange(f float64) bool {
	a := math.Abs(f)
	return a >= Min && a < Max
}

// AppendFixed appends f's shortest round-trip digits in fixed notation,
// with ".0" when they have no fractional part: the bytes of
// strconv.AppendFloat(b, f, 'f', -1, 64) plus ".0" where that has no
// point. f must be InRange; other values are left to the caller (it
// panics on them).
func AppendFixed(b []byte, f float64) []byte {
	if !InRange(f) {
		panic("floatfmt: AppendFixed outside [1e-4, 1e16)")
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	d, e := Shortest(f)
	var tmp [24]byte
	writeDigits(&tmp, d)
	nd := digitCount(d)
	dp := nd + e // digits before the point
	digits := tmp[17-nd : 17]
	for digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	nd = len(digits)
	switch {
	case dp <= 0:
		b = append(b, '0', '.')
		b = append(b, zeros[:-dp]...)
		return append(b, digits...)
	case dp < nd:
		b = append(b, digits[:dp]...)
		b = append(b, '.')
		return append(b, digits[dp:]...)
	}
	b = append(b, digits...)
	b = append(b, zeros[:dp-nd]...)
	return append(b, '.', '0')
}

// zeros is room for the zeros AppendFixed pads with: at most 4 after
// "0." (f >= 1e-4) and 16 before ".0" (f < 1e16).
const zeros = "0000000000000000"

// Shortest returns d and e such that d·10^e is the decimal of fewest
// significant digits that reads back as f (the nearest to f of those,
// ties to an even d); d may end in zeros. f must be positive and InRange.
func Shortest(f float64) (uint64, int) {
	fb := math.Float64bits(f)
	be := int(fb>>52) & 0x7ff
	frac := fb & (1<<52 - 1)
	c := frac | 1<<52 // f = c·2^q
	q := be - 1075
	// The rounding interval of f is [f - lower, f + 2^(q-1)], lower
	// 2^(q-1), or 2^(q-2) when c is a power of two: the double below is
	// then closer. k is chosen so that the interval is at least 10^k
	// wide, and narrower than 10^(k+1).
	var k int
	lower := uint64(2) // in units of 2^(q-2)
	if frac == 0 {
		k = (q*1262611 - 524031) >> 22 // floor(log10(3/4·2^q))
		lower = 1
	} else {
		k = (q * 78913) >> 18 // floor(log10(2^q))
	}
	p := pow10s[-k]
	// f·10^-k·2^sh (sh = 2-q) as an exact integer: the unit 10^k is 2^sh
	// in it, and the interval's ends are lower·p below and 2p above it.
	x := mul(c<<2, p)
	sh := uint(2 - q)
	if sh <= 59 {
		// All the distances compared are below 11 units: 64 bits.
		one := uint64(1) << sh
		s := x.hi<<(64-sh) | x.lo>>sh
		return choose(s, x.lo&(one-1), one, lower*p.lo, 2*p.lo, c&1 == 0), k
	}
	return shortestWide(x, sh, mul(lower, p), mul(2, p), c&1 == 0), k
}

// choose picks the shortest decimal in f's rounding interval in units of
// 10^k: f is s + r/one (r < one = 2^sh) and the interval spans lo below
// f and hi above it (its ends in it when even), at least one unit wide
// and less than ten.
func choose(s, r, one, lo, hi uint64, even bool) uint64 {
	within := func(dist, bound uint64) bool {
		return dist < bound || even && dist == bound
	}
	// At most one multiple of 10 is within: if one is, it is the
	// shortest.
	m := s % 10
	if within(r+m*one, lo) {
		return s - m
	}
	if within((10-m)*one-r, hi) {
		return s - m + 10
	}
	// One of s and s+1 is within: if both are, the nearer, or the even
	// one at a tie.
	down, up := within(r, lo), within(one-r, hi)
	if down && (!up || 2*r < one || 2*r == one && s&1 == 0) {
		return s
	}
	return s + 1
}

// shortestWide is choose for f below 2^-5 (sh > 59), in 128 bits.
func shortestWide(x u128, sh uint, lo, hi u128, even bool) uint64 {
	within := func(dist, bound u128) bool {
		c := dist.cmp(bound)
		return c < 0 || even && c == 0
	}
	one := u128{}.setBit(sh)
	s := x.shr(sh).lo
	r := x.sub(u128{0, s}.shl(sh))
	m := s % 10
	if within(r.add(mul(m, one)), lo) {
		return s - m
	}
	if within(mul(10-m, one).sub(r), hi) {
		return s - m + 10
	}
	down, up := within(r, lo), within(one.sub(r), hi)
	c := r.add(r).cmp(one)
	if down && (!up || c < 0 || c == 0 && s&1 == 0) {
		return s
	}
	return s + 1
}

// writeDigits writes d (< 10^17) as 17 digits, leading zeros included,
// into tmp[0:17]: the first alone, then two runs of 8 (eightDigits).
func writeDigits(tmp *[24]byte, d uint64) {
	top := d / 1e16
	rest := d - top*1e16
	mid := rest / 1e8
	tmp[0] = byte('0' + top)
	binary.LittleEndian.PutUint64(tmp[1:9], eightDigits(uint32(mid)))
	binary.LittleEndian.PutUint64(tmp[9:17], eightDigits(uint32(rest-mid*1e8)))
}

// eightDigits is x (< 10^8) as 8 ASCII digits, most significant in the
// low byte, computed in the lanes of one 64-bit word: x split into two
// halves of 4 digits (32-bit lanes), each into two of 2 digits (16-bit
// lanes), each into two digits (bytes). The lane divisions by 100 and 10
// are multiplications: (y·5243)>>19 = y/100 for y < 10^4, (y·103)>>10 =
// y/10 for y < 100, and no product leaves its lane.
func eightDigits(x uint32) uint64 {
	hi := x / 10000
	v := uint64(hi) | uint64(x-hi*10000)<<32
	q := (v * 5243 >> 19) & 0x0000007f_0000007f
	v = q | (v-q*100)<<16
	q = (v * 103 >> 10) & 0x000f_000f_000f_000f
	v = q | (v-q*10)<<8
	return v + 0x3030_3030_3030_3030
}

// digitCount is the number of decimal digits of d > 0 (d < 10^17).
func digitCount(d uint64) int {
	n := (bits.Len64(d) * 1233) >> 12 // floor(log10(2^len)) or one less
	if d >= powers[n] {
		n++
	}
	return n
}

// powers[n] is 10^n.
var powers = func() (t [20]uint64) {
	t[0] = 1
	for n := 1; n < len(t); n++ {
		t[n] = 10 * t[n-1]
	}
	return t
}()

// pow10s[n] is 10^n, exact: -k is at most 20 for f >= 1e-4 (q >= -66).
var pow10s = func() (t [22]u128) {
	t[0] = u128{0, 1}
	for n := 1; n < len(t); n++ {
		t[n] = mul(10, t[n-1])
	}
	return t
}()

// u128 is an unsigned 128-bit integer.
type u128 struct{ hi, lo uint64 }

// mul is a·p; the product must fit in 128 bits.
func mul(a uint64, p u128) u128 {
	hi, lo := bits.Mul64(a, p.lo)
	return u128{hi + a*p.hi, lo}
}

func (x u128) add(y u128) u128 {
	lo, carry := bits.Add64(x.lo, y.lo, 0)
	hi, _ := bits.Add64(x.hi, y.hi, carry)
	return u128{hi, lo}
}

func (x u128) sub(y u128) u128 {
	lo, borrow := bits.Sub64(x.lo, y.lo, 0)
	hi, _ := bits.Sub64(x.hi, y.hi, borrow)
	return u128{hi, lo}
}

func (x u128) cmp(y u128) int {
	switch {
	case x.hi < y.hi:
		return -1
	case x.hi > y.hi:
		return 1
	case x.lo < y.lo:
		return -1
	case x.lo > y.lo:
		return 1
	}
	return 0
}

// shr is x >> n for n < 128.
func (x u128) shr(n uint) u128 {
	if n >= 64 {
		return u128{0, x.hi >> (n - 64)}
	}
	if n == 0 {
		return x
	}
	return u128{x.hi >> n, x.lo>>n | x.hi<<(64-n)}
}

// shl is x << n for n < 128.
func (x u128) shl(n uint) u128 {
	if n >= 64 {
		return u128{x.lo << (n - 64), 0}
	}
	if n == 0 {
		return x
	}
	return u128{x.hi<<n | x.lo>>(64-n), x.lo << n}
}

// setBit is x with bit n set.
func (x u128) setBit(n uint) u128 {
	if n >= 64 {
		x.hi |= 1 << (n - 64)
	} else {
		x.lo |= 1 << n
	}
	return x
}
