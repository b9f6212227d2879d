// Package floatfmt formats doubles in fixed notation with the shortest
// digits that read back as the same double: the text of
// strconv.AppendFloat(b, f, 'f', -1, 64), with ".0" added when it has no
// point (Python's repr of a float between 1e-4 and 1e16), without
// strconv's general decimal machinery.
//
// The digits are found by the method of Giulietti's Schubfach paper (the
// one candidate among the multiples of 10^(k+1) in f's rounding interval,
// else the nearer of the two neighbours at 10^k), done here in exact
// 128-bit integer arithmetic: in this range the power of ten involved is
// at most 10^21 and the products fit in 128 bits, so no rounding of the
// powers of ten has to be argued about. Digits are written eight at a time
// in the lanes of one 64-bit word.
package floatfmt
