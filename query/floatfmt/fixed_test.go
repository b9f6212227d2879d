package floatfmt

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// want is what AppendFixed must write: strconv's shortest digits in fixed
// notation, ".0" added when they have no point.
func want(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func check(t *testing.T, f float64) {
	t.Helper()
	if !InRange(f) {
		return
	}
	if got, w := string(AppendFixed(nil, f)), want(f); got != w {
		t.Fatalf("AppendFixed(%b = %v) = %q, want %q", math.Float64bits(f), f, got, w)
	}
}

// seeds are the edge cases: the range's ends and their neighbours, powers
// of two (the narrower interval below them) and of ten, integers,
// few-decimal values, 17-digit values and halfway cases.
func seeds() []float64 {
	s := []float64{
		1e-4, 1e16, 0.30000000000000004, 123456.789, 1.5, 2, 0.1, 0.2, 0.3, 1 / 3.0, 2 / 3.0,
		9007199254740992, 9007199254740993, 4503599627370496.5, 9999999999999998, 1234567890123456.7,
		0.00010000000000000002, 5e-324, math.MaxFloat64, 42.42424242424242, 8.41, 5.0000000000000001,
	}
	for e := -14; e <= 54; e++ {
		p := math.Ldexp(1, e)
		s = append(s, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), 3*p, p*1.5)
	}
	for e := -4; e <= 16; e++ {
		p := math.Pow10(e)
		s = append(s, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), 9.5*p, 1.05*p)
	}
	return s
}

func TestAppendFixedSeeds(t *testing.T) {
	for _, f := range seeds() {
		check(t, f)
		check(t, -f)
	}
	for f, w := range map[float64]string{
		1e-4: "0.0001", 1: "1.0", 1e15: "1000000000000000.0", 0.30000000000000004: "0.30000000000000004",
		-23.4: "-23.4", 9999999999999998: "9999999999999998.0", 0.000123: "0.000123", 5e15 + 1: "5000000000000001.0",
	} {
		if got := string(AppendFixed(nil, f)); got != w {
			t.Errorf("AppendFixed(%v) = %q, want %q", f, got, w)
		}
	}
}

// TestAppendFixedRandom compares with strconv on millions of doubles:
// uniform bit patterns of the range's exponents, averages of one-decimal
// values (what movingAverage prints), k/10^d and their neighbours.
func TestAppendFixedRandom(t *testing.T) {
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	r := rand.New(rand.NewPCG(18, 4))
	for range n {
		// Exponents 1009 (2^-14) to 1076 (2^53).
		e := uint64(1009 + r.IntN(1077-1009))
		f := math.Float64frombits(e<<52 | r.Uint64()&(1<<52-1))
		check(t, f)
		sum := 0.0
		w := 1 + r.IntN(30)
		for range w {
			sum += float64(r.IntN(10000)) / 10
		}
		check(t, sum/float64(w))
		k := r.Int64N(1e15)
		d := math.Pow10(r.IntN(8))
		check(t, float64(k)/d)
		check(t, math.Nextafter(float64(k)/d, 0))
	}
}

func TestInRange(t *testing.T) {
	for f, w := range map[float64]bool{
		1e-4: true, -1e-4: true, math.Nextafter(1e-4, 0): false, 1e16: false, math.Nextafter(1e16, 0): true,
		0: false, math.NaN(): false, math.Inf(1): false, -5: true,
	} {
		if InRange(f) != w {
			t.Errorf("InRange(%v) = %v", f, !w)
		}
	}
}

func TestAppendFixedPanicsOutside(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for 1e16")
		}
	}()
	AppendFixed(nil, 1e16)
}

func TestAppendFixedNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(1000, func() { buf = AppendFixed(buf[:0], 42.42424242424242) }); n != 0 {
		t.Fatalf("%v allocations per value", n)
	}
}

// FuzzAppendFixed compares with strconv on any bit pattern (most are out
// of range and skipped) and on the pattern's exponent folded into range.
func FuzzAppendFixed(f *testing.F) {
	for _, v := range seeds() {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, u uint64) {
		check(t, math.Float64frombits(u))
		// Exponents 1009 to 1076 keep every mantissa and sign in range but
		// the lowest values below 1e-4 (checked by InRange).
		e := 1009 + (u>>52&0x7ff)%68
		check(t, math.Float64frombits(u&(1<<63|1<<52-1)|e<<52))
	})
}

// benchValues are averages of one-decimal values: 16-17 significant
// digits each, as movingAverage writes.
func benchValues() []float64 {
	r := rand.New(rand.NewPCG(1, 1))
	v := make([]float64, 4096)
	for i := range v {
		sum := 0.0
		for range 30 {
			sum += float64(r.IntN(1000)) / 10
		}
		v[i] = sum / 30
	}
	return v
}

func BenchmarkAppendFixed(b *testing.B) {
	v := benchValues()
	buf := make([]byte, 0, 64)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFixed(buf[:0], v[i&4095])
		i++
	}
}

func BenchmarkAppendFixedStrconv(b *testing.B) {
	v := benchValues()
	buf := make([]byte, 0, 64)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		buf = strconv.AppendFloat(buf[:0], v[i&4095], 'f', -1, 64)
		i++
	}
}
