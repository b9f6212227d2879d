package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
)

// Scaled blocks (header bit 3, see block.go and docs/pebble.md): every
// value is v = fl(m / div) for an integer m, possibly moved by a few units
// in the last place (the correction c, added to the float's bits). A value
// written as "12.34" is fl(1234/100) exactly (division is correctly
// rounded, as strconv's parsing is), so a two-decimal gauge becomes the
// integers 1234, 1236, ... with div 100 and no corrections. An average of
// six such values, Python-summed then divided, is within an ulp or two of
// fl(S / 600) for the integer S = 100 x (exact sum): div 600 and a small
// correction stream. The integers then go through the same coders as
// integer blocks (for, delta, dod) or the bucketed Huffman coder
// (huffman.go), whichever is smallest.
//
//	scaled  = coder:u8 div:uvarint ints [corrections]
//	coder   = bits 0-2 integer coder (1 for, 2 delta, 3 dod, 4 huff),
//	          bit 3 corrections follow, bits 4-5 the huff coder's predictor
//	          (0 previous value, 1 mean of the last 2, 2 mean of the last 4,
//	          3 exponentially weighted mean; see predictor), bits 6-7 zero
//	huff    = zigzag-varint first, zigzag-varint base, then a bit stream:
//	          the code (huffman.go) and, per next value, the code of
//	          zigzag(m[i] - predict(i) - base)
//	corrections = a bit stream starting on the next byte: a code and, per
//	          value, the code of zigzag(c)
//
// The encoder checks every value by the decoder's own arithmetic, bit for
// bit: NaN, infinities and values beyond 2^53 / div never take this form
// (a block with any of them is XOR coded), and -0 only as m = 0 with a
// correction (0's bits moved to -0's).
const (
	encHuff = 4

	flagScaled   = 1 << 3
	coderCorrect = 1 << 3
	coderDirect  = 1 << 6 // corrections coded by direct symbols (huffman.go)
	// coderCorrTemplate: corrections coded by a template code
	// (huffman_template.go): 7 bits of q, then the codes; no table.
	coderCorrTemplate = 1 << 7

	maxScaleDigits  = 10      // decimals tried for plain decimal values
	maxCorrection   = 1 << 16 // ulps a correction may move a value (m != 0)
	smallCorrection = 8       // ulps most corrections stay within
)

// scaleFactors are the divisors tried, times 10^k for k in 0..maxRollupDigits,
// with corrections, when some value is not a short decimal: 1 for sums of
// decimals, and the point counts whisper-style averages divide by (10s->1m
// is 6, 1m->5m 5, 5m->1h 12, 1m->1h 60, ...).
var scaleFactors = [...]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 16, 20, 24, 30, 60}

const maxRollupDigits = 4

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14}

// codec is the scratch space of one block encode or decode.
type codec struct {
	vals  []float64
	ints  []int64
	corr  []int64
	exc   []int // indexes of the values kept verbatim (findScaleExc)
	zs    []uint64
	tmp   []int64
	huff  huffCode // corrections
	huff2 huffCode // integers
	freq  [huffBuckets]uint32

	// bestIntCoder leaves the integers' Huffman code (huff2, zs) built
	// for appendInts.
	huffBase     int64
	huffPred     byte
	huffTemplate int // the template code (huffman_template.go), or -1
	huffReady    bool
	tfreq        [templateSyms]uint32
}

var codecPool = sync.Pool{New: func() any { return new(codec) }}

// scaled computes m (and corrections, when allowed) for every value of
// c.vals at divisor div. With corrections, a divisor fits when no
// correction exceeds maxCorrection ulps (except for m = 0, a sum that
// cancelled to float noise) and at most one value in 8 needs more than
// smallCorrection: a wrong divisor spreads corrections over thousands of
// ulps, the right one leaves float rounding noise.
// Up to maxExc values too far from every fl(m/div) (out of range, or a
// correction past maxCorrection) become exceptions instead: their indexes
// in c.exc, and in c.ints and c.corr cheap placeholders the decoder
// overwrites (the value rounded at div, or the previous one's integer when
// that is out of range, and correction 0). With maxExc 0 there are none.
func (c *codec) scaled(div float64, withCorr bool, maxExc int) (corrected, ok bool) {
	c.ints, c.corr, c.exc = c.ints[:0], c.corr[:0], c.exc[:0]
	big := 0
	var prev int64
	for i, v := range c.vals {
		m := math.Round(v * div)
		in := m >= -maxExactInt && m <= maxExactInt
		var d int64
		if in {
			p := float64(int64(m)) / div // as decoded: -0 comes back as 0
			d = int64(math.Float64bits(v)) - int64(math.Float64bits(p))
		}
		if !in || (m != 0 && (d < -maxCorrection || d > maxCorrection)) {
			if len(c.exc) == maxExc {
				return false, false
			}
			c.exc = append(c.exc, i)
			if in {
				prev = int64(m) // the value, rounded: near its neighbours
			}
			c.ints = append(c.ints, prev)
			c.corr = append(c.corr, 0)
			continue
		}
		if d != 0 {
			if !withCorr {
				return false, false
			}
			if d < -smallCorrection || d > smallCorrection {
				if big++; big > len(c.vals)/8 {
					return false, false
				}
			}
			corrected = true
		}
		prev = int64(m)
		c.ints = append(c.ints, prev)
		c.corr = append(c.corr, d)
	}
	return corrected, true
}

// findScale finds the smallest divisor at which every value of c.vals is
// fl(m/div) exactly (a decimal with up to maxScaleDigits digits), or else
// within maxCorrection ulps (an average of decimals). It leaves the
// integers in c.ints and the corrections in c.corr.
func (c *codec) findScale() (div uint64, corrected, ok bool) {
	// The integers are kept as found while the digits needed stay those of
	// the first value (the common case): each passed the very check
	// scaled makes, at the same divisor, so scaled need not run again.
	k := 0
	stable := true
	c.ints, c.corr = c.ints[:0], c.corr[:0]
	for i, v := range c.vals {
		k0 := k
		var m float64
		for ; k <= maxScaleDigits; k++ {
			m = math.Round(v * pow10[k])
			if m >= -maxExactInt && m <= maxExactInt && math.Float64bits(float64(int64(m))/pow10[k]) == math.Float64bits(v) {
				break
			}
		}
		if k > maxScaleDigits {
			break
		}
		if k != k0 && i > 0 {
			stable = false
		}
		if stable {
			c.ints = append(c.ints, int64(m))
		}
	}
	if k <= maxScaleDigits {
		if stable {
			return uint64(pow10[k]), false, true
		}
		if _, ok := c.scaled(pow10[k], false, 0); ok {
			return uint64(pow10[k]), false, true
		}
	}
	for d := 0; d <= maxRollupDigits; d++ {
		for _, f := range scaleFactors {
			div := f * uint64(pow10[d])
			if corrected, ok := c.scaled(float64(div), true, 0); ok {
				return div, corrected, true
			}
		}
	}
	return 0, false, false
}

// Exceptions (block header bit 4): a rollup block of averages whose edge
// slots average fewer points than the others (the first and last minute
// of a back-fill, the minute being filled) needs the least common multiple
// of their divisors: 3,000 where 600 fits every 6-point average, 2.3 more
// bits for each of its ~360 values. Up to maxExceptions values are then
// stored verbatim instead and the rest scaled by the smaller divisor.
const (
	maxExceptions      = 4
	minExceptionValues = 64 // blocks with fewer values are not tried
)

// findScaleExc finds the first rollup divisor (in findScale's order,
// before limit; 0: any) at which every value but 1..maxExceptions of them
// fits as scaled requires, leaving c.exc, c.ints and c.corr as scaled
// does.
func (c *codec) findScaleExc(limit uint64) (div uint64, corrected, ok bool) {
	for d := 0; d <= maxRollupDigits; d++ {
		for _, f := range scaleFactors {
			div := f * uint64(pow10[d])
			if div == limit {
				return 0, false, false
			}
			if corrected, ok := c.scaled(float64(div), true, maxExceptions); ok && len(c.exc) > 0 {
				return div, corrected, true
			}
		}
	}
	return 0, false, false
}

// appendExceptions appends the exceptions of c.exc (block.go's format).
func (c *codec) appendExceptions(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(c.exc)))
	prev := 0
	for _, i := range c.exc {
		dst = binary.AppendUvarint(dst, uint64(i-prev))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(c.vals[i]))
		prev = i
	}
	return dst
}

// checkExceptions checks the exceptions at the start of b for a block of
// count values and returns their length.
func checkExceptions(b []byte, count int) (int, error) {
	n, p := binary.Uvarint(b)
	if p <= 0 || n == 0 || n > uint64(count) {
		return 0, errors.New("exceptions count")
	}
	idx := uint64(0)
	for j := uint64(0); j < n; j++ {
		gap, q := binary.Uvarint(b[p:])
		if q <= 0 || (j > 0 && gap == 0) || gap >= uint64(count) || idx+gap >= uint64(count) {
			return 0, errors.New("exception index")
		}
		idx += gap
		p += q
		if len(b)-p < 8 {
			return 0, errors.New("exception value")
		}
		p += 8
	}
	return p, nil
}

// applyExceptions sets the exceptions (checked by parseBlockHeader) of the
// block h over the placeholders decodeScaled set.
func (s *slotBuf) applyExceptions(h blockHeader) {
	cur := slotCursor{first: h.first, span: h.span, bitmap: h.bitmap}
	b := h.exc
	n, p := binary.Uvarint(b)
	at, idx := 0, 0
	for j := uint64(0); j < n; j++ {
		gap, q := binary.Uvarint(b[p:])
		p += q
		idx += int(gap)
		slot := -1
		for ; at <= idx; at++ {
			slot = cur.slot()
		}
		s.set(slot, math.Float64frombits(binary.LittleEndian.Uint64(b[p:])))
		p += 8
	}
}

// appendScaled appends a scaled block's values (after the header, slot
// range and bitmap) for the integers in c.ints at divisor div, with the
// corrections in c.corr when corrected, using coder enc.
func (c *codec) appendScaled(dst []byte, div uint64, corrected bool, enc byte) []byte {
	coder := enc
	if corrected {
		coder |= coderCorrect
	}
	if (enc == encHuff || enc == templateCoder) && c.huffReady {
		coder |= c.huffPred << 4
	}
	coderPos := len(dst)
	dst = append(dst, coder)
	dst = binary.AppendUvarint(dst, div)
	dst = c.appendInts(dst, enc)
	if corrected {
		c.zs = c.zs[:0]
		for _, d := range c.corr {
			c.zs = append(c.zs, zigzag(d))
		}
		// Buckets or direct symbols, whichever codes smaller.
		c.huff.direct = false
		c.corrFreq(c.zs)
		c.huff.build(&c.freq)
		bucketBits := c.huff.cost(&c.freq)
		c.huff.direct = true
		c.corrFreq(c.zs)
		c.huff.build(&c.freq)
		directBits := c.huff.cost(&c.freq)
		q, tc := bestTemplate(&c.tfreq, templateFreq(c.zs, &c.tfreq))
		w := bitWriter{b: dst}
		h := &c.huff
		switch {
		case templateQBits+tc < min(bucketBits, directBits):
			dst[coderPos] |= coderCorrTemplate
			w.write(uint64(q), templateQBits)
			h = templateCode(q)
		case directBits < bucketBits:
			dst[coderPos] |= coderDirect
			c.huff.writeTable(&w)
		default:
			c.huff.direct = false
			c.corrFreq(c.zs)
			c.huff.build(&c.freq)
			c.huff.writeTable(&w)
		}
		for _, z := range c.zs {
			h.put(&w, z)
		}
		dst = w.flush()
	}
	return dst
}

// huffFreq counts the buckets of zs into c.freq.
func (c *codec) huffFreq(zs []uint64) {
	c.freq = [huffBuckets]uint32{}
	for _, z := range zs {
		c.freq[bucketOf(z)]++
	}
}

// corrFreq counts the symbols of zs under c.huff's mode into c.freq.
func (c *codec) corrFreq(zs []uint64) {
	c.freq = [huffBuckets]uint32{}
	for _, z := range zs {
		c.freq[c.huff.symbol(z)]++
	}
}

// decodeScaled decodes a scaled block's k values into s.
func (s *slotBuf) decodeScaled(cur *slotCursor, b []byte, k int) error {
	if len(b) < 1 {
		return errors.New("scaled head")
	}
	coder := b[0]
	enc, pred := coder&7, coder>>4&3
	corrFlags := coder & (coderDirect | coderCorrTemplate)
	if (corrFlags != 0 && coder&coderCorrect == 0) || corrFlags == coderDirect|coderCorrTemplate || enc < encFOR || enc > templateCoder || pred >= numPredictors || (pred != predPrev && enc < encHuff) {
		return fmt.Errorf("scaled coder %#x", coder)
	}
	div, n := binary.Uvarint(b[1:])
	if n <= 0 || div == 0 || div > maxExactInt {
		return errors.New("scaled divisor")
	}
	c := codecPool.Get().(*codec)
	defer codecPool.Put(c)
	used, err := c.decodeInts(enc, pred, b[1+n:], k)
	if err != nil {
		return err
	}
	fdiv := float64(div)
	if coder&coderCorrect == 0 {
		for _, m := range c.ints {
			s.set(cur.slot(), float64(m)/fdiv)
		}
		return nil
	}
	r := bitReader{b: b[1+n+used:]}
	h := &c.huff
	if coder&coderCorrTemplate != 0 {
		q := int(r.read(templateQBits))
		if r.err != nil || q >= numTemplates {
			return fmt.Errorf("corrections template %d", q)
		}
		h = templateCode(q)
	} else {
		c.huff.direct = coder&coderDirect != 0
		if err := c.huff.readTable(&r); err != nil {
			return err
		}
	}
	for _, m := range c.ints {
		d := unzigzag(h.get(&r))
		if r.err != nil {
			return r.err
		}
		p := math.Float64bits(float64(m) / fdiv)
		s.set(cur.slot(), math.Float64frombits(uint64(int64(p)+d)))
	}
	return nil
}
