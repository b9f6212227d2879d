package pebble

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/plumbago/plumbago/storage/schema"
)

// blockOf builds a slotBuf holding the given slot -> value pairs.
func blockOf(m map[int]float64) *slotBuf {
	s := new(slotBuf)
	s.reset()
	for k, v := range m {
		s.set(k, v)
	}
	return s
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func checkRoundTrip(t *testing.T, m map[int]float64) []byte {
	t.Helper()
	enc := blockOf(m).appendEncode(nil)
	got := new(slotBuf)
	got.reset()
	if err := got.apply(enc); err != nil {
		t.Fatalf("apply(%x): %v", enc, err)
	}
	if got.count() != len(m) {
		t.Fatalf("decoded %d slots, want %d", got.count(), len(m))
	}
	for k, v := range m {
		if !got.has(k) || !sameBits(got.vals[k], v) {
			t.Fatalf("slot %d: got %v (present %v), want %v", k, got.vals[k], got.has(k), v)
		}
	}
	return enc
}

func TestBlockRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := map[string]map[int]float64{
		"empty":     {},
		"one":       {5: 42},
		"last slot": {blockSlots - 1: -1.5},
		"negzero":   {1: math.Copysign(0, -1), 2: 3},
		"special":   {0: math.NaN(), 1: math.Inf(1), 2: math.Inf(-1), 3: math.MaxFloat64, 4: math.SmallestNonzeroFloat64},
		"bigint":    {0: maxExactInt, 1: -maxExactInt, 2: 0},
		"over53":    {0: maxExactInt * 4, 1: 1},
	}
	ints, floats, sparse, consts := map[int]float64{}, map[int]float64{}, map[int]float64{}, map[int]float64{}
	for i := 0; i < blockSlots; i++ {
		ints[i] = float64(r.IntN(100))
		floats[i] = r.NormFloat64() * 1000
		consts[i] = 7
		if r.IntN(3) == 0 {
			sparse[i] = float64(i * 10)
		}
	}
	cases["ints"], cases["floats"], cases["sparse"], cases["consts"] = ints, floats, sparse, consts
	for name, m := range cases {
		t.Run(name, func(t *testing.T) { checkRoundTrip(t, m) })
	}
}

func TestBlockSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := map[int]float64{}
	for i := 100; i < 200; i++ {
		m[i] = float64(r.IntN(100))
	}
	// 100 values in [0,100): 7 bits each (FOR) + 5 bytes of header.
	if enc := checkRoundTrip(t, m); len(enc) != 1+1+1+2+88 {
		t.Errorf("100 small ints: %d bytes, want %d", len(enc), 1+1+1+2+88)
	}
	c := map[int]float64{}
	for i := 0; i < 100; i++ {
		c[i] = 3
	}
	if enc := checkRoundTrip(t, c); len(enc) != 5 {
		t.Errorf("100 constants: %d bytes %x, want 5", len(enc), enc)
	}
	ctr := map[int]float64{}
	for i := 0; i < 100; i++ {
		ctr[i] = float64(1000 + 3*i)
	}
	// Counter: scaled with divisor 1 and the Huffman coder (coder byte,
	// divisor byte, first value 2 bytes, base 3 one byte, a one-bucket
	// table of 18 bits = 3 bytes, then nothing per point): 8 bytes after
	// the slot header (delta-of-delta took 16: 2 + 107 bits).
	if enc := checkRoundTrip(t, ctr); len(enc) != 3+1+1+2+1+3 {
		t.Errorf("counter: %d bytes, want %d", len(enc), 3+1+1+2+1+3)
	}
	// W1's sawtooth (i+p)%100 with one wrap: 9 + 15 + 15 + 96 bits.
	saw := map[int]float64{}
	for p := 0; p < 100; p++ {
		saw[p] = float64((37 + p) % 100)
	}
	if enc := checkRoundTrip(t, saw); len(enc) != 3+1+17 {
		t.Errorf("sawtooth: %d bytes, want %d", len(enc), 3+1+17)
	}
}

func TestBlockOverwrite(t *testing.T) {
	s := blockOf(map[int]float64{1: 1, 2: 2, 3: 3})
	newer := blockOf(map[int]float64{2: 20, 9: 9.5}).appendEncode(nil)
	if err := s.apply(newer); err != nil {
		t.Fatal(err)
	}
	want := map[int]float64{1: 1, 2: 20, 3: 3, 9: 9.5}
	if s.count() != len(want) {
		t.Fatalf("count %d, want %d", s.count(), len(want))
	}
	for k, v := range want {
		if !s.has(k) || s.vals[k] != v {
			t.Errorf("slot %d = %v, want %v", k, s.vals[k], v)
		}
	}
}

func TestBlockCorrupt(t *testing.T) {
	good := blockOf(map[int]float64{3: 1.5, 7: 2.25, 8: 100}).appendEncode(nil)
	for i := 0; i < len(good); i++ {
		s := new(slotBuf)
		s.reset()
		_ = s.apply(good[:i]) // must not panic
	}
	bad := [][]byte{
		{},
		{0xf8, 0, 1},
		{3, 0, 1},
		{0, 0x80, 0x10, 1}, // first = 2048
		{4, 0, 0x80, 0x10}, // span beyond block
		{1, 0, 1, 0, 65},   // width 65
		{0, 0, 0, 1},       // trailing bytes after empty
	}
	for _, b := range bad {
		s := new(slotBuf)
		s.reset()
		if err := s.apply(b); err == nil {
			t.Errorf("apply(%x) accepted corrupt input", b)
		}
	}
}

func FuzzDecodeBlock(f *testing.F) {
	f.Add(blockOf(map[int]float64{3: 1.5, 7: 2.25, 8: 100}).appendEncode(nil))
	f.Add(blockOf(map[int]float64{0: 1, 1: 2, 2: 3}).appendEncode(nil))
	f.Add(blockOf(map[int]float64{0: 1, 5: 200, 1000: -3}).appendEncode(nil))
	f.Add([]byte{0, 0, 0})
	f.Add(blockOf(map[int]float64{0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 0}).appendEncode(nil))
	// Scaled blocks: decimals (Huffman-coded deltas), averages of decimals
	// (with corrections), a counter (divisor 1), a decimal -0 (a big
	// correction for m = 0).
	dec, avg, ctr := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for i := 0; i < 40; i++ {
		dec[i] = float64(1234+(i*i*7)%91-45) / 100
		avg[2*i] = (float64(1234+(i*13)%17)/100 + float64(1200+(i*7)%31)/100 + 0.07) / 3
		ctr[i] = float64(1000 + 3*i + i%2)
	}
	dec[41] = math.Copysign(0, -1)
	// A noisy gauge long enough for the mean-of-2/4 predictors.
	noisy := map[int]float64{}
	for i := 0; i < 200; i++ {
		noisy[i] = float64(5000+(i*7919)%301-150) / 100
	}
	for _, m := range []map[int]float64{dec, avg, ctr, noisy} {
		f.Add(blockOf(m).appendEncode(nil))
	}
	// A random walk plus noise: the exponentially weighted mean predictor.
	r := rand.New(rand.NewPCG(3, 4))
	gauge, level := map[int]float64{}, 50.0
	for i := 0; i < 300; i++ {
		level += 0.5 * r.NormFloat64()
		gauge[i] = math.Round((level+2*r.NormFloat64())*100) / 100
	}
	enc := blockOf(gauge).appendEncode(nil)
	if h, err := parseBlockHeader(enc); err != nil || !h.scaled || h.values[0]>>4 != predEWMA || h.values[0]&7 != templateCoder {
		f.Fatalf("walk+noise seed: not a scaled block with the EWMA predictor and a template code (%v)", err)
	}
	f.Add(enc)
	// The same values with an explicit code table (what the encoder wrote
	// before template codes, and still writes for other shapes).
	f.Add(explicitHuffBlock(f, gauge, 100))
	// Its averages and sums of 6: ulp corrections coded by a template code;
	// corrections of 0 and +1 ulp only: by direct symbols.
	avg6, sum6, skew := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for i := 0; i < 50; i++ {
		six := make([]float64, 6)
		for j := range six {
			six[j] = gauge[6*i+j]
		}
		avg6[i] = schema.Average.Aggregate(six, 6)
		sum6[i] = schema.Sum.Aggregate(six, 6)
		skew[i] = math.Float64frombits(math.Float64bits(float64(29765+i*i%500)/600) + uint64(i%2))
	}
	for _, tc := range []struct {
		vals map[int]float64
		flag byte
	}{{avg6, coderCorrTemplate}, {sum6, coderCorrTemplate}, {skew, coderDirect}} {
		enc = blockOf(tc.vals).appendEncode(nil)
		if h, err := parseBlockHeader(enc); err != nil || !h.scaled || h.values[0]&tc.flag == 0 {
			f.Fatalf("rollup seed: coder %#x, not a scaled block with corrections flag %#x (%v)", h.values[0], tc.flag, err)
		}
		f.Add(enc)
	}
	// Averages of 6 with a 5-point average at each edge and a sparse gap:
	// two exceptions (header bit 4).
	edges := map[int]float64{}
	for i := 0; i < 200; i += 1 + i%7/6 {
		six := make([]float64, 6)
		for j := range six {
			level += 0.5 * r.NormFloat64()
			six[j] = math.Round((level+2*r.NormFloat64())*100) / 100
		}
		switch i {
		case 0, 199:
			edges[i] = schema.Average.Aggregate(six[:5], 5)
		default:
			edges[i] = schema.Average.Aggregate(six, 6)
		}
	}
	enc = blockOf(edges).appendEncode(nil)
	if h, err := parseBlockHeader(enc); err != nil || h.exc == nil || h.bitmap == nil {
		f.Fatalf("exceptions seed: header %#x, not a sparse block with exceptions (%v)", enc[0], err)
	}
	f.Add(enc)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := new(slotBuf)
		s.reset()
		if err := s.apply(b); err != nil {
			return
		}
		// A block that decodes re-encodes to something that decodes to the
		// same slots.
		enc := s.appendEncode(nil)
		s2 := new(slotBuf)
		s2.reset()
		if err := s2.apply(enc); err != nil {
			t.Fatalf("re-encoded block %x does not decode: %v", enc, err)
		}
		if s.count() != s2.count() {
			t.Fatalf("count %d != %d", s.count(), s2.count())
		}
		for i := 0; i < blockSlots; i++ {
			if s.has(i) != s2.has(i) || (s.has(i) && !sameBits(s.vals[i], s2.vals[i])) {
				t.Fatalf("slot %d differs after re-encode", i)
			}
		}
	})
}

// benchBlocks are full blocks of each encoding: xor (arbitrary floats),
// ints (dod), decimals (a noisy two-decimal gauge: scaled, Huffman) and avg
// (its averages of 6: scaled with corrections).
func benchBlocks() []struct {
	name string
	src  *slotBuf
} {
	r := rand.New(rand.NewPCG(7, 8))
	level := 50.0
	var dec [blockSlots]float64
	for i := range dec {
		level += r.NormFloat64() * 0.5
		dec[i] = math.Round((level+2*r.NormFloat64())*100) / 100
	}
	vals := map[string]func(i int) float64{
		"xor":      func(i int) float64 { return float64(i) * 1.37 },
		"ints":     func(i int) float64 { return float64(1000 + i%7) },
		"decimals": func(i int) float64 { return dec[i] },
		"avg": func(i int) float64 {
			j := i % (blockSlots / 6)
			return schema.Average.Aggregate(dec[6*j:6*j+6], 6)
		},
	}
	var out []struct {
		name string
		src  *slotBuf
	}
	for _, name := range []string{"xor", "ints", "decimals", "avg"} {
		src := new(slotBuf)
		src.reset()
		for i := 0; i < blockSlots; i++ {
			src.set(i, vals[name](i))
		}
		out = append(out, struct {
			name string
			src  *slotBuf
		}{name, src})
	}
	return out
}

// BenchmarkApplyBlock decodes full blocks of each encoding (what a Fetch
// pays per block).
func BenchmarkApplyBlock(b *testing.B) {
	for _, tc := range benchBlocks() {
		var dst slotBuf
		dst.reset()
		enc := tc.src.appendEncode(nil)
		run := func(name string, enc []byte) {
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := dst.apply(enc); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(enc)*8)/blockSlots, "bits/value")
			})
		}
		run(tc.name, enc)
		if tc.name == "decimals" || tc.name == "avg" {
			run(tc.name+"-as-xor", xorBlock(tc.src)) // the format before scaling
		}
	}
}

// BenchmarkEncodeBlock encodes full blocks of each kind (what a merge or a
// write pays per block).
func BenchmarkEncodeBlock(b *testing.B) {
	for _, tc := range benchBlocks() {
		var enc []byte
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				enc = tc.src.appendEncode(enc[:0])
			}
		})
	}
}

// explicitHuffBlock encodes the dense block of vals (slots 0..n-1) as a
// scaled block at divisor div with an explicit Huffman table and the
// previous-value predictor, whatever the encoder would choose.
func explicitHuffBlock(tb testing.TB, vals map[int]float64, div uint64) []byte {
	c := new(codec)
	for i := 0; i < len(vals); i++ {
		v, ok := vals[i]
		if !ok {
			tb.Fatalf("slot %d missing: the block must be dense", i)
		}
		c.vals = append(c.vals, v)
	}
	if _, ok := c.scaled(float64(div), false, 0); !ok {
		tb.Fatalf("values are not decimals at divisor %d", div)
	}
	dst := []byte{flagScaled | flagDense}
	dst = binary.AppendUvarint(dst, 0)
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	dst = c.appendScaled(dst, div, false, encHuff)
	if h, err := parseBlockHeader(dst); err != nil || h.values[0] != encHuff {
		tb.Fatalf("explicit block: %v", err)
	}
	s := new(slotBuf)
	s.reset()
	if err := s.apply(dst); err != nil {
		tb.Fatal(err)
	}
	for i, v := range vals {
		if !s.has(i) || s.vals[i] != v {
			tb.Fatalf("explicit block: slot %d decodes wrong", i)
		}
	}
	return dst
}

// TestSelectNth: selectNth returns the n-th smallest value, as sorting
// gives it, on uniform, clustered, duplicated, constant, extreme and
// outlier-laden inputs of every size around the histogram's threshold.
func TestSelectNth(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	gens := map[string]func(i int) int64{
		"uniform":  func(int) int64 { return r.Int64N(2000) - 1000 },
		"wide":     func(int) int64 { return int64(r.Uint64()) },
		"constant": func(int) int64 { return 42 },
		"few":      func(int) int64 { return r.Int64N(3) },
		"counter":  func(i int) int64 { return 60 + r.Int64N(2) },
		"outliers": func(i int) int64 {
			if i%97 == 0 {
				return math.MinInt64 + r.Int64N(5)
			}
			if i%89 == 0 {
				return math.MaxInt64 - r.Int64N(5)
			}
			return 7 + r.Int64N(1<<20)
		},
		"sorted": func(i int) int64 { return int64(i) * 3 },
	}
	for name, gen := range gens {
		for _, size := range []int{1, 2, 47, 48, 49, 50, 255, 256, 257, 1023} {
			a := make([]int64, size)
			for i := range a {
				a[i] = gen(i)
			}
			sorted := slices.Clone(a)
			slices.Sort(sorted)
			for _, n := range []int{0, size / 2, size - 1, size / 3} {
				if got := selectNth(slices.Clone(a), n); got != sorted[n] {
					t.Fatalf("%s, %d values: selectNth(n=%d) = %d; want %d", name, size, n, got, sorted[n])
				}
			}
		}
	}
}
