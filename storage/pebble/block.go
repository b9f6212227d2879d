package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Block format (see docs/pebble.md, "Block format"). A block holds the slots
// of one archive of one series over blockSlots consecutive steps. Merge
// operands use the same format, so merging is "decode all, newer slot wins,
// encode".
//
//	block   = header:u8 first:uvarint span:uvarint [bitmap] values
//	header  = bits 0-1 value encoding (0 xor, 1 for, 2 delta, 3 dod)
//	          bit 2    dense: every slot in [first, first+span) is present
//	          bit 3    scaled (decimal.go): bits 0-1 are zero and values
//	                   are integers over a divisor
//	          bit 4    exceptions (only with bit 3): values follow the
//	                   bitmap verbatim, see below
//	          bits 5-7 zero
//	bitmap  = ceil(span/8) bytes, bit i (MSB first) = slot first+i present
//	[exceptions] = n:uvarint (1..values), then n times gap:uvarint and the
//	         value's float64 bits (8 bytes, little-endian): value index
//	         i = gap for the first, previous index + gap (gap >= 1) after;
//	         the scaled values at those indexes are placeholders and the
//	         exception values replace them (a rollup block whose edge
//	         slots average fewer points than the rest, decimal.go)
//	values  = one value per present slot, in slot order:
//	  xor:   float64 bits of the first value (8 bytes, big-endian), then
//	         Gorilla XOR coding of each next value against the previous
//	  for:   zigzag-varint base, width:u8, then width bits per value of v-base
//	  delta: zigzag-varint first, width:u8, then width bits per value of
//	         zigzag(v[i]-v[i-1])
//	  dod:   zigzag-varint first, then per next value the delta of deltas
//	         d = (v[i]-v[i-1]) - (v[i-1]-v[i-2]) (the first delta counts
//	         against 0) as '0' (d=0), '10'+7 bits, '110'+12 bits,
//	         '1110'+20 bits or '1111'+64 bits of zigzag(d)
//	  scaled: see decimal.go (integers coded by for, delta, dod or the
//	         bucketed Huffman coder of huffman.go)
//
// Integer encodings apply when every value is an integer with |v| <= 2^53
// (not -0), which is typical for Graphite counters and gauges; decimals and
// averages of decimals are scaled to integers; anything else is XOR coded.
// Blocks written before the scaled form existed (bit 3 clear) decode as
// they always did.
const (
	blockSlots = 1024 // slots per block; a power of two

	encXOR   = 0
	encFOR   = 1
	encDelta = 2
	encDoD   = 3

	flagDense = 1 << 2
	// flagExcept: a scaled block with exceptions after its bitmap.
	flagExcept = 1 << 4

	maxExactInt = 1 << 53
)

var (
	errBadBlock = errors.New("corrupt block")
)

// slotBuf is a dense decoded block: a presence bitmap and a value per slot.
// Only the words of the bitmap in [lo, hi] are ever non-zero, so Reset is
// cheap for blocks that touch few slots.
type slotBuf struct {
	present [blockSlots / 64]uint64
	vals    [blockSlots]float64
	lo, hi  int // touched slot range; lo > hi when empty
}

func (s *slotBuf) reset() {
	if s.lo <= s.hi {
		for w := s.lo >> 6; w <= s.hi>>6; w++ {
			s.present[w] = 0
		}
	}
	s.lo, s.hi = blockSlots, -1
}

func (s *slotBuf) empty() bool { return s.lo > s.hi }

func (s *slotBuf) set(slot int, v float64) {
	s.present[slot>>6] |= 1 << (uint(slot) & 63)
	s.vals[slot] = v
	if slot < s.lo {
		s.lo = slot
	}
	if slot > s.hi {
		s.hi = slot
	}
}

func (s *slotBuf) has(slot int) bool {
	return s.present[slot>>6]&(1<<(uint(slot)&63)) != 0
}

// count returns the number of present slots.
func (s *slotBuf) count() int {
	if s.empty() {
		return 0
	}
	n := 0
	for w := s.lo >> 6; w <= s.hi>>6; w++ {
		n += bits.OnesCount64(s.present[w])
	}
	return n
}

// apply decodes block b into s; slots present in b overwrite those in s.
func (s *slotBuf) apply(b []byte) error {
	h, err := parseBlockHeader(b)
	if err != nil || h.count == 0 {
		return err
	}
	cur := slotCursor{first: h.first, span: h.span, bitmap: h.bitmap}
	switch {
	case h.scaled:
		err = s.decodeScaled(&cur, h.values, h.count)
		if err == nil && h.exc != nil {
			s.applyExceptions(h)
		}
	case h.enc == encXOR:
		err = s.applyXOR(&cur, h.values, h.count)
	default:
		c := codecPool.Get().(*codec)
		if _, err = c.decodeInts(h.enc, predPrev, h.values, h.count); err == nil {
			for _, v := range c.ints {
				s.set(cur.slot(), float64(v))
			}
		}
		codecPool.Put(c)
	}
	if err != nil {
		return fmt.Errorf("decoding block: %w: %w", errBadBlock, err)
	}
	return nil
}

// blockHeader is a block's parsed header: which slots it holds and where
// their values start.
type blockHeader struct {
	enc    byte
	scaled bool
	first  int
	span   int
	bitmap []byte // nil for a dense block
	count  int    // present slots (values to decode); 0 for an empty block
	exc    []byte // the exceptions (checked), nil without
	values []byte
}

// parseBlockHeader checks and splits the header, slot range and bitmap of
// block b.
func parseBlockHeader(b []byte) (blockHeader, error) {
	var h blockHeader
	if len(b) < 1 {
		return h, fmt.Errorf("decoding block: %w: empty", errBadBlock)
	}
	hdr := b[0]
	if hdr>>5 != 0 || (hdr&flagScaled != 0 && hdr&3 != 0) || (hdr&flagExcept != 0 && hdr&flagScaled == 0) {
		return h, fmt.Errorf("decoding block: %w: header %#x", errBadBlock, hdr)
	}
	h.enc = hdr & 3
	h.scaled = hdr&flagScaled != 0
	p := 1
	first, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return h, fmt.Errorf("decoding block: %w: first slot", errBadBlock)
	}
	p += n
	span, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return h, fmt.Errorf("decoding block: %w: span", errBadBlock)
	}
	p += n
	if first >= blockSlots || span > blockSlots-first {
		return h, fmt.Errorf("decoding block: %w: slots %d+%d", errBadBlock, first, span)
	}
	if span == 0 {
		if p != len(b) {
			return h, fmt.Errorf("decoding block: %w: trailing bytes", errBadBlock)
		}
		return h, nil
	}
	h.first, h.span, h.count = int(first), int(span), int(span)
	if hdr&flagDense == 0 {
		nb := (h.span + 7) / 8
		if len(b)-p < nb {
			return h, fmt.Errorf("decoding block: %w: bitmap", errBadBlock)
		}
		h.bitmap = b[p : p+nb]
		p += nb
		if pad := uint(nb*8 - h.span); pad > 0 && h.bitmap[nb-1]&(1<<pad-1) != 0 {
			return h, fmt.Errorf("decoding block: %w: bitmap padding", errBadBlock)
		}
		h.count = 0
		for _, x := range h.bitmap {
			h.count += bits.OnesCount8(x)
		}
		if h.count == 0 {
			return h, fmt.Errorf("decoding block: %w: empty bitmap", errBadBlock)
		}
	}
	if hdr&flagExcept != 0 {
		n, err := checkExceptions(b[p:], h.count)
		if err != nil {
			return h, fmt.Errorf("decoding block: %w: %w", errBadBlock, err)
		}
		h.exc = b[p : p+n]
		p += n
	}
	h.values = b[p:]
	return h, nil
}

// slotCursor yields the slots of a block's present values, in order.
type slotCursor struct {
	first, span int
	bitmap      []byte // nil: dense
	next, bit   int
}

func (c *slotCursor) slot() int {
	if c.bitmap == nil {
		c.next++
		return c.first + c.next - 1
	}
	for ; c.bit < c.span; c.bit++ {
		if c.bitmap[c.bit>>3]&(0x80>>(uint(c.bit)&7)) != 0 {
			c.bit++
			return c.first + c.bit - 1
		}
	}
	return -1
}

// applyXOR decodes k Gorilla-XOR coded values.
func (s *slotBuf) applyXOR(cur *slotCursor, rest []byte, k int) error {
	if len(rest) < 8 {
		return errors.New("xor head")
	}
	prev := binary.BigEndian.Uint64(rest)
	s.set(cur.slot(), math.Float64frombits(prev))
	r := bitReader{b: rest[8:]}
	var lead, trail uint = 0, 0
	haveWin := false
	for i := 1; i < k; i++ {
		if r.readBit() {
			if r.readBit() {
				lead = uint(r.read(5))
				sig := uint(r.read(6))
				if sig == 0 {
					sig = 64
				}
				if lead+sig > 64 {
					return errors.New("xor window")
				}
				trail = 64 - lead - sig
				haveWin = true
			} else if !haveWin {
				return errors.New("xor window reuse")
			}
			x := r.read(64-lead-trail) << trail
			prev ^= x
		}
		if r.err != nil {
			return r.err
		}
		s.set(cur.slot(), math.Float64frombits(prev))
	}
	return nil
}

// dodCost is the number of bits the dod encoding spends on zigzag value z.
func dodCost(z uint64) uint {
	switch {
	case z == 0:
		return 1
	case z < 1<<7:
		return 2 + 7
	case z < 1<<12:
		return 3 + 12
	case z < 1<<20:
		return 4 + 20
	}
	return 4 + 64
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func widthOf(v uint64) uint { return uint(64 - bits.LeadingZeros64(v)) }

// appendEncodeFast appends a valid encoding of s's present slots to dst
// without looking for the smallest one: integers frame-of-reference coded,
// anything else XOR coded (exact for any float64). For a merge whose result
// is decoded at once (the writer's read-back, merge.go).
func (s *slotBuf) appendEncodeFast(dst []byte) []byte { return s.encode(dst, true) }

// appendEncode appends the encoding of s's present slots to dst: integer
// values with the smallest integer coder, decimals (and averages or sums
// of decimals) scaled to integers, anything else XOR coded.
func (s *slotBuf) appendEncode(dst []byte) []byte { return s.encode(dst, false) }

// encode is appendEncode, or appendEncodeFast when fast.
func (s *slotBuf) encode(dst []byte, fast bool) []byte {
	if s.empty() {
		return append(dst, encXOR, 0, 0)
	}
	c := codecPool.Get().(*codec)
	defer codecPool.Put(c)
	f, l := s.lo, s.hi
	span := l - f + 1
	c.vals = c.vals[:0]
	allInt := true
	for i := f; i <= l; i++ {
		if !s.has(i) {
			continue
		}
		v := s.vals[i]
		c.vals = append(c.vals, v)
		if allInt && !(v == math.Trunc(v) && v >= -maxExactInt && v <= maxExactInt && !(v == 0 && math.Signbit(v))) {
			allInt = false
		}
	}
	k := len(c.vals)
	hdrPos := len(dst)
	var hdr byte
	dense := k == span
	if dense {
		hdr |= flagDense
	}
	dst = append(dst, 0)
	dst = binary.AppendUvarint(dst, uint64(f))
	dst = binary.AppendUvarint(dst, uint64(span))
	if !dense {
		dst = s.appendBitmap(dst)
	}
	if allInt {
		var bits byte
		dst, bits = c.appendIntValues(dst, fast)
		dst[hdrPos] = hdr | bits
		return dst
	}
	if fast {
		dst = s.appendFloats(dst)
		dst[hdrPos] = hdr | encXOR
		return dst
	}
	body := len(dst)
	div, corrected, ok := c.findScale()
	if ok && !corrected {
		enc, _ := c.bestIntCoder(true)
		dst = c.appendScaled(dst, div, corrected, enc)
		dst[hdrPos] = hdr | flagScaled
		return dst
	}
	if ok {
		enc, _ := c.bestIntCoder(true)
		dst = c.appendScaled(dst, div, corrected, enc)
		// An average may still code smaller as XOR (few values, big
		// corrections): keep the smaller.
		n := len(dst)
		dst = s.appendFloats(dst)
		if len(dst)-n < n-body {
			dst = append(dst[:body], dst[n:]...)
			hdr |= encXOR
		} else {
			dst = dst[:n]
			hdr |= flagScaled
		}
	} else {
		dst = s.appendFloats(dst)
		hdr |= encXOR
	}
	// A rollup block whose edge slots average fewer points than the rest
	// (a 5-point average needs div 3000 where the 6-point ones take 600):
	// those few values verbatim, the rest at the smaller divisor, when
	// that codes smaller.
	if k >= minExceptionValues {
		if ediv, ecorr, eok := c.findScaleExc(div); eok {
			n := len(dst)
			dst = c.appendExceptions(dst)
			enc, _ := c.bestIntCoder(true)
			dst = c.appendScaled(dst, ediv, ecorr, enc)
			if len(dst)-n < n-body {
				dst = append(dst[:body], dst[n:]...)
				hdr = hdr&flagDense | flagScaled | flagExcept
			} else {
				dst = dst[:n]
			}
		}
	}
	dst[hdrPos] = hdr
	return dst
}

// appendIntValues appends c.vals, all integers, with the smallest integer
// coder (frame-of-reference when fast) and returns the header bits that
// name the coding.
func (c *codec) appendIntValues(dst []byte, fast bool) ([]byte, byte) {
	c.ints = c.ints[:0]
	for _, v := range c.vals {
		c.ints = append(c.ints, int64(v))
	}
	enc := byte(encFOR)
	if !fast {
		enc, _ = c.bestIntCoder(false)
	}
	if enc == encHuff || enc == templateCoder {
		return c.appendScaled(dst, 1, false, enc), flagScaled
	}
	return c.appendInts(dst, enc), enc
}

// appendBitmap appends the presence bitmap of slots lo..hi (a set bit per
// present slot, most significant bit first).
func (s *slotBuf) appendBitmap(dst []byte) []byte {
	f, l := s.lo, s.hi
	span := l - f + 1
	start := len(dst)
	for i := 0; i < (span+7)/8; i++ {
		dst = append(dst, 0)
	}
	bm := dst[start:]
	for i := f; i <= l; i++ {
		if s.has(i) {
			j := i - f
			bm[j>>3] |= 0x80 >> (uint(j) & 7)
		}
	}
	return dst
}

// minHuffValues is the fewest values the Huffman coder is tried on: its
// table costs 2-9 bytes, so tiny merge operands never gain from it.
const minHuffValues = 16

// bestIntCoder returns the coder that codes c.ints in the fewest bits
// (about: headers counted in whole bytes), and that size. Among for, delta
// and dod it chooses as the format always has; huff wins only when smaller
// than all three, counting the scaled form's coder and divisor bytes
// against it unless the block is scaled anyway.
func (c *codec) bestIntCoder(scaled bool) (byte, uint) {
	ints := c.ints
	k := len(ints)
	minV, maxV := ints[0], ints[0]
	var maxZ uint64
	var dodBits uint
	var prevDelta int64
	for i := 1; i < k; i++ {
		v := ints[i]
		d := v - ints[i-1]
		if z := zigzag(d); z > maxZ {
			maxZ = z
		}
		dodBits += dodCost(zigzag(d - prevDelta))
		prevDelta = d
		minV = min(minV, v)
		maxV = max(maxV, v)
	}
	head := uint(varintLen(ints[0]))*8 + 8
	wFOR := widthOf(uint64(maxV - minV))
	wDelta := widthOf(maxZ)
	// Delta codes k-1 values, frame-of-reference k.
	var enc byte
	var cost uint
	if dodBits < uint(k-1)*wDelta && dodBits < uint(k)*wFOR {
		enc, cost = encDoD, head-8+dodBits
	} else if uint(k-1)*wDelta < uint(k)*wFOR {
		enc, cost = encDelta, head+uint(k-1)*wDelta
	} else {
		enc, cost = encFOR, uint(varintLen(minV))*8+8+uint(k)*wFOR
	}
	c.huffReady = false
	if k >= minHuffValues {
		// Try each predictor (the longer ones only on blocks long enough
		// to pay for the choice) and keep the cheapest.
		best, bestP, bestBase, bestT := ^uint(0), byte(0), int64(0), -1
		preds := byte(1)
		if k >= minPredValues {
			preds = numPredictors
		}
		for p := byte(0); p < preds; p++ {
			base := c.predZs(p)
			c.huffFreq(c.zs)
			c.huff2.build(&c.freq)
			if h := uint(varintLen(ints[0])+varintLen(base))*8 + c.huff2.cost(&c.freq); h < best {
				best, bestP, bestBase = h, p, base
			}
		}
		if bestP != preds-1 { // rebuild the winner's code
			c.predZs(bestP)
			c.huffFreq(c.zs)
			c.huff2.build(&c.freq)
		}
		// A template code for the winner's residuals (the predictor that
		// codes smallest with a table is the one tried: trying all four
		// saved 0.0004 B/point on issue 19's gauges and cost W1's writes
		// more; docs/pebble.md, "Template codes").
		q, tc := bestTemplate(&c.tfreq, templateFreq(c.zs, &c.tfreq))
		if h := uint(varintLen(ints[0])+varintLen(bestBase))*8 + templateQBits + tc; h < best {
			best, bestT = h, q
		}
		c.huffBase, c.huffPred, c.huffTemplate, c.huffReady = bestBase, bestP, bestT, true
		if !scaled {
			best += 16 + 7 // a coder byte, a divisor byte, a byte's rounding
		}
		if best < cost {
			if bestT >= 0 {
				return templateCoder, best
			}
			return encHuff, best
		}
	}
	return enc, cost
}

// Predictors of the Huffman coder (coder bits 4-5): value i is coded as
// m[i] - predict(i) - base. Noisy gauges (a slow level plus white noise)
// are predicted better by a mean of the last values than by the last one
// (best by the exponentially weighted mean, the steady-state Kalman
// predictor of a random walk plus noise); a smooth series or a counter by
// the last one.
const (
	predPrev  = 0 // m[i-1]
	predMean2 = 1 // floor((m[i-1] + m[i-2]) / 2), m[i-1] for i < 2
	predMean4 = 2 // floor((m[i-1] + ... + m[i-4]) / 4), m[i-1] for i < 4
	// predEWMA is floor(e[i] / 2^ewmaFrac) for the fixed-point mean
	// e[1] = m[0] << ewmaFrac, e[i] = e[i-1] + ((m[i-1] << ewmaFrac) -
	// e[i-1]) >> 2 (arithmetic shifts, int64 wrapping): the weight 1/4 on
	// the newest value.
	predEWMA = 3

	ewmaFrac      = 8
	numPredictors = 4
	minPredValues = 64
)

// predictor computes predict(i) for i = 1, 2, ... in order (predEWMA
// carries its mean from one value to the next).
type predictor struct {
	p byte
	e int64
}

func (pr *predictor) predict(m []int64, i int) int64 {
	switch {
	case pr.p == predEWMA:
		if i == 1 {
			pr.e = m[0] << ewmaFrac
		} else {
			pr.e += ((m[i-1] << ewmaFrac) - pr.e) >> 2
		}
		return pr.e >> ewmaFrac
	case pr.p == predMean2 && i >= 2:
		return (m[i-1] + m[i-2]) >> 1
	case pr.p == predMean4 && i >= 4:
		return (m[i-1] + m[i-2] + m[i-3] + m[i-4]) >> 2
	}
	return m[i-1]
}

// predZs sets c.zs to zigzag(m[i] - predict(i) - base) for i >= 1, where
// base is the median of m[i] - predict(i) (so a counter's steady rate is
// not paid per value), and returns base.
func (c *codec) predZs(p byte) int64 {
	n := len(c.ints) - 1
	if n <= 0 {
		c.zs, c.tmp = c.zs[:0], c.tmp[:0]
		return 0
	}
	c.zs = slices.Grow(c.zs[:0], n)[:n]
	c.tmp = slices.Grow(c.tmp[:0], n)[:n]
	predResiduals(p, c.ints, c.tmp)
	for i, r := range c.tmp {
		c.zs[i] = uint64(r)
	}
	base := selectNth(c.tmp, n/2)
	for i, r := range c.zs {
		c.zs[i] = zigzag(int64(r) - base)
	}
	return base
}

// predResiduals sets r[i-1] = m[i] - predict(i) for i >= 1 (len(r) =
// len(m) - 1 >= 1): predictor's arithmetic in one loop per predictor, what
// the encoder runs for every predictor it tries.
func predResiduals(p byte, m, r []int64) {
	r = r[:len(m)-1]
	switch p {
	case predMean2:
		r[0] = m[1] - m[0]
		for i := 2; i < len(m); i++ {
			r[i-1] = m[i] - (m[i-1]+m[i-2])>>1
		}
	case predMean4:
		for i := 1; i < len(m); i++ {
			if i < 4 {
				r[i-1] = m[i] - m[i-1]
				continue
			}
			r[i-1] = m[i] - (m[i-1]+m[i-2]+m[i-3]+m[i-4])>>2
		}
	case predEWMA:
		e := m[0] << ewmaFrac
		r[0] = m[1] - e>>ewmaFrac
		for i := 2; i < len(m); i++ {
			e += ((m[i-1] << ewmaFrac) - e) >> 2
			r[i-1] = m[i] - e>>ewmaFrac
		}
	default:
		for i := 1; i < len(m); i++ {
			r[i-1] = m[i] - m[i-1]
		}
	}
}

func varintLen(v int64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutVarint(b[:], v)
}

// selectRadixMin is the fewest values selectNth narrows by a histogram;
// below it quickselect's few comparisons are cheaper.
const selectRadixMin = 48

// selectNth returns the n-th smallest of a (0 <= n < len(a)), reordering
// it: quickselect's answer without its data-dependent branches, which
// mispredict on noisy residuals (a third of a merge's CPU on the query
// benchmark's values). While a holds many values it counts them into 256
// bins of (v - min) >> shift, keeps the values of the bin holding the n-th
// and goes on within it; each round narrows the range by 2^8.
func selectNth(a []int64, n int) int64 {
	for len(a) > selectRadixMin {
		lo, hi := a[0], a[0]
		for _, v := range a {
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		span := uint64(hi) - uint64(lo)
		if span == 0 {
			return lo
		}
		shift := uint(0)
		if l := bits.Len64(span); l > 8 {
			shift = uint(l-8) & 63 // (the mask spares the shifts' >= 64 checks)
		}
		var hist [256]uint32
		for _, v := range a {
			hist[uint8((uint64(v)-uint64(lo))>>shift)]++
		}
		b, below := 0, 0
		for below+int(hist[b]) <= n {
			below += int(hist[b])
			b++
		}
		if shift == 0 {
			return lo + int64(b)
		}
		k := 0
		for _, v := range a {
			if (uint64(v)-uint64(lo))>>shift == uint64(b) {
				a[k] = v
				k++
			}
		}
		a, n = a[:k], n-below
	}
	return quickselect(a, n)
}

// quickselect returns the n-th smallest of a (reordering it).
func quickselect(a []int64, n int) int64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// median of three as the pivot
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case n <= j:
			hi = j
		case n >= i:
			lo = i
		default:
			return a[n]
		}
	}
	return a[n]
}

// appendInts appends c.ints coded with enc (for, delta, dod or huff).
func (c *codec) appendInts(dst []byte, enc byte) []byte {
	ints := c.ints
	w := &bitWriter{}
	switch enc {
	case encDoD:
		w.b = binary.AppendVarint(dst, ints[0])
		var prev int64
		for i := 1; i < len(ints); i++ {
			d := ints[i] - ints[i-1]
			z := zigzag(d - prev)
			prev = d
			switch c := dodCost(z); c {
			case 1:
				w.write(0, 1)
			case 2 + 7:
				w.write(0b10, 2)
				w.write(z, 7)
			case 3 + 12:
				w.write(0b110, 3)
				w.write(z, 12)
			case 4 + 20:
				w.write(0b1110, 4)
				w.write(z, 20)
			default:
				w.write(0b1111, 4)
				w.write(z, 64)
			}
		}
	case encDelta:
		var maxZ uint64
		for i := 1; i < len(ints); i++ {
			maxZ = max(maxZ, zigzag(ints[i]-ints[i-1]))
		}
		wd := widthOf(maxZ)
		dst = binary.AppendVarint(dst, ints[0])
		w.b = append(dst, byte(wd))
		for i := 1; i < len(ints); i++ {
			w.write(zigzag(ints[i]-ints[i-1]), wd)
		}
	case encFOR:
		minV, maxV := ints[0], ints[0]
		for _, v := range ints {
			minV, maxV = min(minV, v), max(maxV, v)
		}
		wf := widthOf(uint64(maxV - minV))
		dst = binary.AppendVarint(dst, minV)
		w.b = append(dst, byte(wf))
		for _, v := range ints {
			w.write(uint64(v-minV), wf)
		}
	case encHuff, templateCoder:
		if !c.huffReady { // bestIntCoder did not build the code
			c.huffPred = predPrev
			c.huffBase = c.predZs(predPrev)
			c.huffFreq(c.zs)
			c.huff2.build(&c.freq)
			c.huffTemplate = -1
			if enc == templateCoder {
				c.huffTemplate, _ = bestTemplate(&c.tfreq, templateFreq(c.zs, &c.tfreq))
			}
		}
		c.huffReady = false
		dst = binary.AppendVarint(dst, ints[0])
		w.b = binary.AppendVarint(dst, c.huffBase)
		if len(c.zs) > 0 {
			h := &c.huff2
			if enc == templateCoder {
				w.write(uint64(c.huffTemplate), templateQBits)
				h = templateCode(c.huffTemplate)
			} else {
				h.writeTable(w)
			}
			for _, z := range c.zs {
				h.put(w, z)
			}
		}
	}
	return w.flush()
}

// decodeInts decodes k integers coded with enc (and, for huff, predictor
// pred) into c.ints and returns the bytes of b they took.
func (c *codec) decodeInts(enc, pred byte, b []byte, k int) (int, error) {
	ints := c.ints[:0]
	defer func() { c.ints = ints }()
	switch enc {
	case encDoD:
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, errors.New("dod head")
		}
		r := bitReader{b: b[n:]}
		ints = append(ints, v)
		var delta int64
		for i := 1; i < k; i++ {
			var z uint64
			switch {
			case !r.readBit():
			case !r.readBit():
				z = r.read(7)
			case !r.readBit():
				z = r.read(12)
			case !r.readBit():
				z = r.read(20)
			default:
				z = r.read(64)
			}
			if r.err != nil {
				return 0, r.err
			}
			delta += unzigzag(z)
			v += delta
			ints = append(ints, v)
		}
		return n + int(r.pos+7)/8, nil
	case encFOR, encDelta:
		base, n := binary.Varint(b)
		if n <= 0 || len(b) < n+1 {
			return 0, errors.New("int head")
		}
		width := uint(b[n])
		if width > 64 {
			return 0, fmt.Errorf("width %d", width)
		}
		r := bitReader{b: b[n+1:]}
		if enc == encFOR {
			for i := 0; i < k; i++ {
				ints = append(ints, base+int64(r.read(width)))
			}
		} else {
			v := base
			ints = append(ints, v)
			for i := 1; i < k; i++ {
				v += unzigzag(r.read(width))
				ints = append(ints, v)
			}
		}
		if r.err != nil {
			return 0, r.err
		}
		return n + 1 + int(r.pos+7)/8, nil
	case encHuff, templateCoder:
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, errors.New("huff head")
		}
		base, n2 := binary.Varint(b[n:])
		if n2 <= 0 {
			return 0, errors.New("huff base")
		}
		n += n2
		r := bitReader{b: b[n:]}
		ints = append(ints, v)
		if k > 1 {
			h := &c.huff
			if enc == templateCoder {
				q := int(r.read(templateQBits))
				if r.err != nil || q >= numTemplates {
					return 0, fmt.Errorf("template %d", q)
				}
				h = templateCode(q)
			} else {
				c.huff.direct = false // the codec may come from a block with direct corrections
				if err := c.huff.readTable(&r); err != nil {
					return 0, err
				}
			}
			pr := predictor{p: pred}
			for i := 1; i < k; i++ {
				v = pr.predict(ints, i) + unzigzag(h.get(&r)) + base
				ints = append(ints, v)
				if r.err != nil {
					return 0, r.err
				}
			}
		}
		return n + int(r.pos+7)/8, nil
	}
	return 0, fmt.Errorf("integer coder %d", enc)
}

// appendFloats appends the present values XOR-coded (Gorilla's float
// compression: the first value whole, then each one's XOR with the one
// before, in a window of leading and trailing zero bits).
func (s *slotBuf) appendFloats(dst []byte) []byte {
	f, l := s.lo, s.hi
	w := &bitWriter{b: dst}
	var prev uint64
	var lead, trail uint
	haveWin := false
	firstVal := true
	for i := f; i <= l; i++ {
		if !s.has(i) {
			continue
		}
		cur := math.Float64bits(s.vals[i])
		if firstVal {
			w.b = binary.BigEndian.AppendUint64(w.b, cur)
			prev = cur
			firstVal = false
			continue
		}
		x := cur ^ prev
		prev = cur
		if x == 0 {
			w.write(0, 1)
			continue
		}
		lz := uint(bits.LeadingZeros64(x))
		tz := uint(bits.TrailingZeros64(x))
		if lz > 31 {
			lz = 31
		}
		if haveWin && lz >= lead && tz >= trail {
			w.write(0b10, 2)
			w.write(x>>trail, 64-lead-trail)
			continue
		}
		sig := 64 - lz - tz
		w.write(0b11, 2)
		w.write(uint64(lz), 5)
		w.write(uint64(sig&63), 6)
		w.write(x>>tz, sig)
		lead, trail, haveWin = lz, tz, true
	}
	return w.flush()
}
