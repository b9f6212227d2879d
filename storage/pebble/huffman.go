package pebble

import (
	"errors"
	"math/bits"
)

// Bucketed Huffman coding of a sequence of unsigned integers: the values a
// scaled block codes (zigzag deltas of its integers, ulp corrections). Each
// value z falls in bucket b = bits.Len64(z) (0..64); the bucket is coded
// with a canonical Huffman code built for the sequence, followed by the b-1
// bits of z below its leading one (none for buckets 0 and 1). On noisy
// data the bucket carries the magnitude (2 to 4 bits of Huffman code) and
// the low bits are close to uniform, so the cost stays within a few tenths
// of a bit of the empirical entropy; a constant step costs nothing per
// value. See docs/pebble.md, "Block format".
//
// The code is sent before the values, in the same bit stream:
//
//	lo:7 bits   first bucket with a code (0..64)
//	n-1:7 bits  number of buckets described (lo+n <= 65)
//	n x 4 bits  code length of buckets lo..lo+n-1 (0 = unused, 1..15)
//
// A single described bucket must have length 0: every value is in it and
// its code is empty. Otherwise the lengths must form a complete prefix code
// (Kraft sum exactly 1). Codes are canonical: shorter first, and within a
// length in bucket order, as deflate assigns them.
const (
	huffBuckets = 65
	huffMaxLen  = 15
	// huffSymCap is the most symbols a code has: a template code's
	// (huffman_template.go); an explicit table describes buckets only.
	huffSymCap = templateSyms
)

var errHuffTable = errors.New("bad huffman table")

// Direct symbols (corrections coded with coder bit 6, decimal.go): a value
// z < 64 is its own symbol, coded by the Huffman code alone with no bits
// after it; z >= 64 is symbol 64, then 6 bits of bits.Len64(z) - 1 and the
// bits of z below its leading one. Corrections are -1, 0 or +1 ulp for 98 %
// of averages (zigzag 1, 0, 2): buckets would give +1 (bucket 2) a bit it
// shares with -2 (zigzag 3), a value thirty times rarer.
const directEscape = 64

// huffCode is one sequence's code.
type huffCode struct {
	direct   bool // symbols are values (see directEscape), not buckets
	template bool // symbols are a template code's (huffman_template.go)

	lens   [huffSymCap]uint8
	codes  [huffSymCap]uint16
	lo, n  int // buckets described
	single bool
	// decoding, canonical order
	count [huffMaxLen + 1]uint16
	syms  [huffSymCap]uint8
	// fast[p] decodes codes of up to huffFastBits bits from the next
	// huffFastBits bits p: bucket<<4 | length, or 0 for a longer code.
	fast [1 << huffFastBits]uint16
}

const huffFastBits = 8

func bucketOf(z uint64) int { return bits.Len64(z) }

// build computes the code for the bucket frequencies freq (at least one
// non-zero).
func (h *huffCode) build(freq *[huffBuckets]uint32) {
	*h = huffCode{direct: h.direct}
	lo, hi := -1, -1
	var syms [huffBuckets]uint8
	m := 0
	for b, f := range freq {
		if f > 0 {
			if lo < 0 {
				lo = b
			}
			hi = b
			syms[m] = uint8(b)
			m++
		}
	}
	h.lo, h.n = lo, hi-lo+1
	if m == 1 {
		h.single, h.n = true, 1
		return
	}
	var w [huffBuckets]uint64
	for i := 0; i < m; i++ {
		w[i] = uint64(freq[syms[i]])
	}
	for {
		if huffLengths(syms[:m], w[:m], &h.lens) <= huffMaxLen {
			break
		}
		for i := 0; i < m; i++ { // flatten and retry (not reached for <= 1024 values)
			w[i] = (w[i] + 1) / 2
		}
	}
	h.canonical()
}

// huffLengths sets lens[syms[i]] to the Huffman code length of a symbol of
// weight w[i] and returns the longest. m = len(syms) >= 2, at most
// huffSymCap.
func huffLengths(syms []uint8, w []uint64, lens *[huffSymCap]uint8) int {
	m := len(syms)
	// Leaves sorted by weight (insertion sort: m is small).
	var order [huffSymCap]int
	for i := 0; i < m; i++ {
		j := i
		for j > 0 && w[order[j-1]] > w[i] {
			order[j] = order[j-1]
			j--
		}
		order[j] = i
	}
	// Two-queue construction: nodes 0..m-1 are leaves (in weight order),
	// m..2m-2 internal nodes, created in non-decreasing weight.
	var weight [2 * huffSymCap]uint64
	var parent [2 * huffSymCap]int
	for i := 0; i < m; i++ {
		weight[i] = w[order[i]]
	}
	leaf, inner, next := 0, m, m
	pick := func() int {
		if leaf < m && (inner >= next || weight[leaf] <= weight[inner]) {
			leaf++
			return leaf - 1
		}
		inner++
		return inner - 1
	}
	for next < 2*m-1 {
		a, b := pick(), pick()
		weight[next] = weight[a] + weight[b]
		parent[a], parent[b] = next, next
		next++
	}
	var depth [2 * huffSymCap]int
	maxLen := 0
	for i := 2*m - 3; i >= 0; i-- { // parents come after children
		depth[i] = depth[parent[i]] + 1
		if i < m {
			maxLen = max(maxLen, depth[i])
		}
	}
	for i := 0; i < m; i++ {
		lens[syms[order[i]]] = uint8(min(depth[i], 255))
	}
	return maxLen
}

// canonical assigns the codes of lens and fills the decoding tables; it
// reports whether the lengths form a complete code.
func (h *huffCode) canonical() bool {
	h.count = [huffMaxLen + 1]uint16{}
	for b := h.lo; b < h.lo+h.n; b++ {
		h.count[h.lens[b]]++
	}
	h.count[0] = 0
	var next [huffMaxLen + 2]uint32
	code := uint32(0)
	kraft := uint32(0)
	for l := 1; l <= huffMaxLen; l++ {
		code = (code + uint32(h.count[l-1])) << 1
		if l == 1 {
			code = 0
		}
		next[l] = code
		kraft += uint32(h.count[l]) << (huffMaxLen - l)
	}
	var off [huffMaxLen + 1]int
	for l := 2; l <= huffMaxLen; l++ {
		off[l] = off[l-1] + int(h.count[l-1])
	}
	h.fast = [1 << huffFastBits]uint16{}
	for b := h.lo; b < h.lo+h.n; b++ {
		if l := h.lens[b]; l > 0 {
			code := next[l]
			h.codes[b] = uint16(code)
			next[l]++
			h.syms[off[l]] = uint8(b)
			off[l]++
			if l <= huffFastBits && code < 1<<l {
				sh := huffFastBits - uint(l)
				for p := code << sh; p < (code+1)<<sh; p++ {
					h.fast[p] = uint16(b)<<4 | uint16(l)
				}
			}
		}
	}
	return kraft == 1<<huffMaxLen
}

// cost returns the bits the table and the values of frequencies freq take.
func (h *huffCode) cost(freq *[huffBuckets]uint32) uint {
	c := uint(14 + 4*h.n)
	for b := h.lo; b < h.lo+h.n; b++ {
		f := uint(freq[b])
		c += f * uint(h.lens[b])
		switch {
		case h.direct && b == directEscape:
			c += f * (6 + 63) // at most; escapes are not expected
		case !h.direct && b >= 2:
			c += f * uint(b-1)
		}
	}
	return c
}

func (h *huffCode) writeTable(w *bitWriter) {
	w.write(uint64(h.lo), 7)
	w.write(uint64(h.n-1), 7)
	for b := h.lo; b < h.lo+h.n; b++ {
		w.write(uint64(h.lens[b]), 4)
	}
}

func (h *huffCode) put(w *bitWriter, z uint64) {
	if h.template {
		s, extra := templateSym(z)
		w.write(uint64(h.codes[s]), uint(h.lens[s]))
		w.write(z, extra) // write takes the low bits
		return
	}
	b := h.symbol(z)
	if !h.single {
		w.write(uint64(h.codes[b]), uint(h.lens[b]))
	}
	switch {
	case h.direct:
		if b == directEscape {
			n := bucketOf(z) - 1 // 6..63
			w.write(uint64(n), 6)
			w.write(z, uint(n))
		}
	case b >= 2:
		w.write(z, uint(b-1)) // write takes the low bits
	}
}

// symbol is z's symbol: its bucket, or with direct symbols z itself below
// directEscape.
func (h *huffCode) symbol(z uint64) int {
	if h.direct {
		return int(min(z, directEscape))
	}
	return bucketOf(z)
}

// readTable reads and checks a code written by writeTable.
func (h *huffCode) readTable(r *bitReader) error {
	h.lo = int(r.read(7))
	h.n = int(r.read(7)) + 1
	if r.err != nil {
		return r.err
	}
	if h.lo+h.n > huffBuckets {
		return errHuffTable
	}
	h.lens = [huffSymCap]uint8{}
	for b := h.lo; b < h.lo+h.n; b++ {
		h.lens[b] = uint8(r.read(4))
	}
	if r.err != nil {
		return r.err
	}
	h.single = h.n == 1
	if h.single {
		if h.lens[h.lo] != 0 {
			return errHuffTable
		}
		return nil
	}
	if !h.canonical() {
		return errHuffTable
	}
	return nil
}

// get decodes one value; errors are left in r.
func (h *huffCode) get(r *bitReader) uint64 {
	b := h.lo
	if !h.single {
		if e := h.fast[r.peek(huffFastBits)]; e != 0 && uint(e&15) <= r.left() {
			r.pos += uint(e & 15)
			b = int(e >> 4)
			goto value
		}
		code, first, index := 0, 0, 0
		b = -1
		for l := 1; l <= huffMaxLen; l++ {
			code |= int(r.read(1))
			cnt := int(h.count[l])
			if code-first < cnt {
				b = int(h.syms[index+code-first])
				break
			}
			index += cnt
			first = (first + cnt) << 1
			code <<= 1
		}
		if b < 0 {
			if r.err == nil {
				r.err = errHuffTable
			}
			return 0
		}
	}
value:
	if h.template {
		z, extra := templateZ(b)
		return z | r.read(extra)
	}
	if h.direct {
		if b < directEscape {
			return uint64(b)
		}
		n := uint(r.read(6))
		return 1<<n | r.read(n)
	}
	if b < 2 {
		return uint64(b)
	}
	return 1<<(b-1) | r.read(uint(b-1))
}
