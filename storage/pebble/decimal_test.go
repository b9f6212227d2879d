package pebble

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/plumbago/plumbago/storage/schema"
)

// decodeAll decodes enc into a fresh slotBuf.
func decodeAll(t *testing.T, enc []byte) *slotBuf {
	t.Helper()
	got := new(slotBuf)
	got.reset()
	if err := got.apply(enc); err != nil {
		t.Fatalf("apply(%x): %v", enc, err)
	}
	return got
}

// sameSlots fails unless a and b hold the same slots with the same bits.
func sameSlots(t *testing.T, what string, a, b *slotBuf) {
	t.Helper()
	if a.count() != b.count() {
		t.Fatalf("%s: %d slots, want %d", what, b.count(), a.count())
	}
	for i := 0; i < blockSlots; i++ {
		if a.has(i) != b.has(i) || (a.has(i) && !sameBits(a.vals[i], b.vals[i])) {
			t.Fatalf("%s: slot %d: %v (present %v), want %v (present %v)", what, i, b.vals[i], b.has(i), a.vals[i], a.has(i))
		}
	}
}

// TestBlockRoundTripProperty: random blocks of every kind of value come
// back bit for bit: decimals with 0-12 digits (beyond 10 they must fall
// back to XOR), integers up to and beyond 2^53, arbitrary floats, Python
// averages and sums of decimals, -0, infinities, NaN-free mixtures, with
// and without gaps.
func TestBlockRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ctr := 0.0
	gen := []func() float64{
		func() float64 { k := r.IntN(13); return math.Round(r.NormFloat64()*1e4) / math.Pow(10, float64(k)) },
		func() float64 { return float64(r.Int64N(1<<54) - 1<<53) },
		func() float64 { return math.Float64frombits(r.Uint64() &^ (0x7ff << 52)) }, // finite, any mantissa
		func() float64 { return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20)) },
		func() float64 {
			xs := make([]float64, 1+r.IntN(60))
			for i := range xs {
				xs[i] = math.Round(r.NormFloat64()*5000) / 100
			}
			return schema.Average.Aggregate(xs, len(xs))
		},
		func() float64 {
			xs := make([]float64, 6)
			for i := range xs {
				xs[i] = math.Round(r.NormFloat64()*50000) / 1000
			}
			return schema.Sum.Aggregate(xs, 6)
		},
		func() float64 {
			return []float64{math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), math.MaxFloat64, 5e-324}[r.IntN(6)]
		},
		func() float64 { ctr += 10 + float64(r.IntN(100)/98); return ctr },
	}
	kinds := map[byte]int{}
	for iter := 0; iter < 3000; iter++ {
		s := new(slotBuf)
		s.reset()
		n := 1 + r.IntN(blockSlots)
		if r.IntN(4) == 0 {
			n = 1 + r.IntN(20)
		}
		fill := 1.0
		if r.IntN(2) == 0 {
			fill = r.Float64()
		}
		// Mostly one kind per block (as real blocks are), sometimes mixed.
		g := gen[r.IntN(len(gen))]
		mixed := r.IntN(5) == 0
		level := r.NormFloat64() * 100
		walk := r.IntN(2) == 0
		for i := 0; i < n; i++ {
			if r.Float64() > fill {
				continue
			}
			v := g()
			if mixed {
				v = gen[r.IntN(len(gen))]()
			} else if walk && iter%7 == 0 {
				level += r.NormFloat64()
				v = math.Round(level*100) / 100
			}
			s.set(i, v)
		}
		enc := s.appendEncode(nil)
		kinds[enc[0]&^flagDense]++
		sameSlots(t, "round trip", s, decodeAll(t, enc))
	}
	// Every form was produced.
	for _, h := range []byte{encXOR, encFOR, encDelta, encDoD, flagScaled} {
		if kinds[h] == 0 {
			t.Errorf("no block was encoded with header %#x (%v)", h, kinds)
		}
	}
}

// TestScaledForms checks which form typical blocks take and what they cost.
func TestScaledForms(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var raw, avg, sum, xor [blockSlots]float64
	level := 50.0
	for i := range raw {
		level += r.NormFloat64() * 0.5
		raw[i] = math.Round((level+2*r.NormFloat64())*100) / 100
		xor[i] = r.NormFloat64()
	}
	for i := 0; i < blockSlots/6; i++ {
		avg[i] = schema.Average.Aggregate(raw[6*i:6*i+6], 6)
		sum[i] = schema.Sum.Aggregate(raw[6*i:6*i+6], 6)
	}
	for _, tc := range []struct {
		name    string
		vals    []float64
		coder   byte
		div     uint64
		maxBits float64 // per value
	}{
		// Gaussian-like residuals: a template code (huffman_template.go).
		{"two decimals", raw[:], templateCoder, 100, 10.0},
		// Corrections of mostly -1, 0, +1 ulp, spread like a narrow
		// Gaussian: a template code; of a sum, direct symbols.
		{"average of 6", avg[:blockSlots/6], templateCoder | coderCorrect | coderCorrTemplate, 600, 14.2},
		{"sum of 6", sum[:blockSlots/6], templateCoder | coderCorrect | coderDirect, 100, 13.8},
	} {
		s := new(slotBuf)
		s.reset()
		for i, v := range tc.vals {
			s.set(i, v)
		}
		enc := s.appendEncode(nil)
		sameSlots(t, tc.name, s, decodeAll(t, enc))
		h, err := parseBlockHeader(enc)
		if err != nil || !h.scaled {
			t.Fatalf("%s: header %#x, %v: not scaled", tc.name, enc[0], err)
		}
		div, _ := binaryUvarint(h.values[1:])
		// Short rollup blocks may take the fixed-width delta coder.
		if got := h.values[0] &^ (3 << 4); (got != tc.coder && got != tc.coder&^7|encDelta) || div != tc.div {
			t.Errorf("%s: coder %#x divisor %d, want %#x %d", tc.name, h.values[0], div, tc.coder, tc.div)
		}
		bits := float64(len(enc)*8) / float64(len(tc.vals))
		if bits > tc.maxBits {
			t.Errorf("%s: %.2f bits per value, want at most %.1f", tc.name, bits, tc.maxBits)
		}
		t.Logf("%s: %.2f bits per value", tc.name, bits)
	}
	s := new(slotBuf)
	s.reset()
	for i, v := range xor {
		s.set(i, v)
	}
	if enc := s.appendEncode(nil); enc[0] != encXOR|flagDense {
		t.Errorf("gaussian floats: header %#x, want xor", enc[0])
	}
}

func binaryUvarint(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// xorBlock encodes s's slots the way the format before scaling did for
// non-integers: XOR, whatever the values.
func xorBlock(s *slotBuf) []byte {
	dst := []byte{encXOR}
	dst = append(dst, byte(s.lo), 0)
	f, l := s.lo, s.hi
	dst = dst[:1]
	dst = appendUvarint(dst, uint64(f))
	dst = appendUvarint(dst, uint64(l-f+1))
	if s.count() == l-f+1 {
		dst[0] |= flagDense
	} else {
		dst = s.appendBitmap(dst)
	}
	return s.appendFloats(dst)
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// TestMergeOldAndNewEncodings runs pebble's merge operator over an old
// XOR-coded block of decimals and newer scaled operands: the result is
// scaled and holds the newest value of every slot.
func TestMergeOldAndNewEncodings(t *testing.T) {
	old := new(slotBuf)
	old.reset()
	want := new(slotBuf)
	want.reset()
	for i := 0; i < 600; i++ {
		v := float64(1000+i%37) / 100
		old.set(i, v)
		want.set(i, v)
	}
	oldEnc := xorBlock(old)
	if oldEnc[0] != encXOR|flagDense {
		t.Fatalf("old block header %#x", oldEnc[0])
	}
	sameSlots(t, "old block", old, decodeAll(t, oldEnc))
	newer := new(slotBuf)
	newer.reset()
	for i := 500; i < 800; i++ {
		v := float64(2000+i%11) / 100
		newer.set(i, v)
		want.set(i, v)
	}
	newEnc := newer.appendEncode(nil)
	if newEnc[0]&flagScaled == 0 {
		t.Fatalf("new operand header %#x, not scaled", newEnc[0])
	}
	for _, older := range []bool{false, true} {
		vm, err := blockMerger.Merge(nil, oldEnc)
		if err != nil {
			t.Fatal(err)
		}
		if older { // pebble may add the older operand later
			vm, _ = blockMerger.Merge(nil, newEnc)
			if err := vm.MergeOlder(oldEnc); err != nil {
				t.Fatal(err)
			}
		} else if err := vm.MergeNewer(newEnc); err != nil {
			t.Fatal(err)
		}
		out, closer, err := vm.Finish(true)
		if err != nil {
			t.Fatal(err)
		}
		if out[0]&flagScaled == 0 {
			t.Errorf("merged block header %#x, not scaled", out[0])
		}
		if len(out) >= len(oldEnc) {
			t.Errorf("merged block of 800 values is %d bytes, the old 600 took %d", len(out), len(oldEnc))
		}
		sameSlots(t, "merged", want, decodeAll(t, out))
		closer.Close()
	}
}

// TestPredictors: a level plus white noise, and a random walk plus noise
// (internal/realdata's gauges), take the exponentially weighted mean and
// code smaller with it than with the mean of 4 or the previous value; a
// random walk keeps the previous value. All three are Gaussian, so they
// take a template code (huffman_template.go) rather than a table.
func TestPredictors(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	noisy, walk, gauge := new(slotBuf), new(slotBuf), new(slotBuf)
	noisy.reset()
	walk.reset()
	gauge.reset()
	level, glevel := 0.0, 50.0
	for i := 0; i < blockSlots; i++ {
		noisy.set(i, math.Round((50+3*r.NormFloat64())*100)/100)
		level += r.NormFloat64()
		walk.set(i, math.Round(level*100)/100)
		glevel += 0.5 * r.NormFloat64()
		gauge.set(i, math.Round((glevel+2*r.NormFloat64())*100)/100)
	}
	for _, tc := range []struct {
		name string
		s    *slotBuf
		pred byte
	}{{"noise", noisy, predEWMA}, {"walk", walk, predPrev}, {"walk+noise", gauge, predEWMA}} {
		enc := tc.s.appendEncode(nil)
		sameSlots(t, tc.name, tc.s, decodeAll(t, enc))
		h, err := parseBlockHeader(enc)
		if err != nil || !h.scaled {
			t.Fatalf("%s: not scaled: %v", tc.name, err)
		}
		if got := h.values[0] >> 4; got != tc.pred || h.values[0]&7 != templateCoder {
			t.Errorf("%s: coder %#x, want a template code with predictor %d", tc.name, h.values[0], tc.pred)
		}
		// The chosen predictor's code is the smallest of the four.
		c := new(codec)
		c.vals = c.vals[:0]
		for i := 0; i < blockSlots; i++ {
			c.vals = append(c.vals, tc.s.vals[i])
		}
		if _, _, ok := c.findScale(); !ok {
			t.Fatalf("%s: no scale", tc.name)
		}
		var cost [numPredictors]uint
		for p := byte(0); p < numPredictors; p++ {
			c.predZs(p)
			c.huffFreq(c.zs)
			c.huff2.build(&c.freq)
			_, tc := bestTemplate(&c.tfreq, templateFreq(c.zs, &c.tfreq))
			cost[p] = min(c.huff2.cost(&c.freq), templateQBits+tc)
		}
		for p := byte(0); p < numPredictors; p++ {
			if cost[p] < cost[tc.pred] {
				t.Errorf("%s: predictor %d codes %d bits, the chosen %d codes %d", tc.name, p, cost[p], tc.pred, cost[tc.pred])
			}
		}
		t.Logf("%s: bits of the 1,023 codes and table (or template) by predictor %v", tc.name, cost)
	}
}

// TestRollupEdgeExceptions: a 1-minute block of 360 averages of six
// two-decimal values whose first and last minutes average 5 points (a
// back-fill that starts and ends inside a minute) codes its two edge
// values verbatim (header bit 4) and the rest at div 600, about as small
// as the 358 full averages alone, and comes back bit for bit; otherwise
// the edges would take div 3,000 (lcm of 600 and 500; a 4-point average
// S/400 fits div 600 when S is even). Merged
// with an operand that completes the last minute, it drops the exception.
func TestRollupEdgeExceptions(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 1))
	raw := make([]float64, 6*360)
	level := 50.0
	for i := range raw {
		level += r.NormFloat64() * 0.5
		raw[i] = math.Round((level+2*r.NormFloat64())*100) / 100
	}
	full := new(slotBuf)
	full.reset()
	edges := new(slotBuf)
	edges.reset()
	for i := 0; i < 360; i++ {
		avg := schema.Average.Aggregate(raw[6*i:6*i+6], 6)
		switch i {
		case 0:
			edges.set(100+i, schema.Average.Aggregate(raw[1:6], 5))
		case 359:
			edges.set(100+i, schema.Average.Aggregate(raw[6*i:6*i+5], 5))
		default:
			edges.set(100+i, avg)
			full.set(100+i, avg)
		}
	}
	fullEnc := full.appendEncode(nil)
	enc := edges.appendEncode(nil)
	sameSlots(t, "edges", edges, decodeAll(t, enc))
	h, err := parseBlockHeader(enc)
	if err != nil || enc[0] != flagScaled|flagDense|flagExcept {
		t.Fatalf("header %#x, %v; want scaled, dense, exceptions", enc[0], err)
	}
	if n, _ := binaryUvarint(h.exc); n != 2 || len(h.exc) != 1+(1+8)+(2+8) { // gaps 0 and 359
		t.Fatalf("exceptions %x: want 2, 20 bytes", h.exc)
	}
	if div, _ := binaryUvarint(h.values[1:]); div != 600 {
		t.Errorf("divisor %d, want 600", div)
	}
	// Two values verbatim (8 bytes each, gaps and count 3 bytes) and two
	// placeholders' codes: at most 24 bytes beyond the full averages.
	t.Logf("358 full averages %d bytes; with the two edges %d bytes", len(fullEnc), len(enc))
	if len(enc) > len(fullEnc)+24 {
		t.Errorf("with the edges %d bytes, want at most %d + 24", len(enc), len(fullEnc))
	}
	// The last minute completed by a newer operand: one exception left.
	op := new(slotBuf)
	op.reset()
	op.set(459, schema.Average.Aggregate(raw[6*359:6*360], 6))
	var m slotBuf
	m.reset()
	for _, b := range [][]byte{enc, op.appendEncode(nil)} {
		if err := m.apply(b); err != nil {
			t.Fatal(err)
		}
	}
	merged := m.appendEncode(nil)
	edges.set(459, op.vals[459])
	sameSlots(t, "merged", edges, decodeAll(t, merged))
	if h, err := parseBlockHeader(merged); err != nil || h.exc == nil {
		t.Fatalf("merged header %#x, %v; want exceptions", merged[0], err)
	} else if n, _ := binaryUvarint(h.exc); n != 1 {
		t.Errorf("merged: %d exceptions, want 1", n)
	}
}

// TestExceptionsRejected: malformed exceptions are refused, not misread.
func TestExceptionsRejected(t *testing.T) {
	s := new(slotBuf)
	s.reset()
	for i := 0; i < 100; i++ {
		s.set(i, float64(1000+i*7%13)/600)
	}
	s.set(3, 1.0/7)
	enc := s.appendEncode(nil)
	h, err := parseBlockHeader(enc)
	if err != nil || h.exc == nil {
		t.Fatalf("header %#x, %v; want exceptions", enc[0], err)
	}
	sameSlots(t, "one exception", s, decodeAll(t, enc))
	p := len(enc) - len(h.values) - len(h.exc) // where the exceptions start
	for name, bad := range map[string][]byte{
		"no scaled flag":  append([]byte{enc[0] &^ flagScaled}, enc[1:]...),
		"count 0":         append(append(append([]byte{}, enc[:p]...), 0), enc[p+1:]...),
		"count too large": append(append(append([]byte{}, enc[:p]...), 101), enc[p+1:]...),
		"index too large": append(append(append([]byte{}, enc[:p+1]...), 100), enc[p+2:]...),
		"value cut":       enc[:p+4],
	} {
		var got slotBuf
		got.reset()
		if err := got.apply(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
