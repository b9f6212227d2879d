package query

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/plumbago/plumbago/query/floatfmt"
)

func TestFloatRepr(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2: "-2.0", 1.5: "1.5", 0.30000000000000004: "0.30000000000000004", 1e15: "1000000000000000.0",
		1e16: "1e+16", 1.5e17: "1.5e+17", 0.0001: "0.0001", 0.00001: "1e-05", 1.25e-7: "1.25e-07", 123456.789: "123456.789",
		math.Inf(1): "inf", math.Inf(-1): "-inf", 1e300: "1e+300", -0.5: "-0.5", 12345678901234567890: "1.2345678901234567e+19",
	} {
		if got := FloatRepr(f); got != want {
			t.Errorf("FloatRepr(%v) = %q, want %q", f, got, want)
		}
	}
	if FloatRepr(math.NaN()) != "nan" {
		t.Error("nan")
	}
}

func TestFormatG(t *testing.T) {
	for f, want := range map[float64]string{2: "2", 2.5: "2.5", 1e6: "1e+06", 123456: "123456", 1234567: "1.23457e+06", 0.0001: "0.0001", 0.00001: "1e-05", -3: "-3"} {
		if got := FormatG(f); got != want {
			t.Errorf("FormatG(%v) = %q, want %q", f, got, want)
		}
	}
}

// reprFixed is repr(f) for 1e-4 <= |f| < 1e16 by the shortest digits
// alone (floatfmt, itself checked against strconv): what AppendFloatRepr
// writes without its few-decimals path.
func reprFixed(f float64) string { return string(floatfmt.AppendFixed(nil, f)) }

func checkFewDecimals(t *testing.T, f float64) {
	t.Helper()
	if a := math.Abs(f); !(a >= 1e-4 && a < 1e16) {
		return
	}
	if got, want := FloatRepr(f), reprFixed(f); got != want {
		t.Fatalf("FloatRepr(%v) = %q, want %q", f, got, want)
	}
}

// TestFloatReprFewDecimals compares the few-decimals path with strconv's
// shortest digits on integers and values of 1 to 4 decimals across the
// magnitudes, their neighbours one ulp away, and random doubles.
func TestFloatReprFewDecimals(t *testing.T) {
	for f, want := range map[float64]string{
		23.4: "23.4", -23.4: "-23.4", 0.05: "0.05", 0.0005: "0.0005", 1e-4: "0.0001", 100: "100.0", 99999999999999.9: "99999999999999.9",
		1234.5678: "1234.5678", -0.001: "-0.001", 7.0001: "7.0001",
	} {
		if got := FloatRepr(f); got != want {
			t.Errorf("FloatRepr(%v) = %q, want %q", f, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		d := r.IntN(5)
		mag := r.IntN(16)
		k := r.Int64N(int64(math.Pow10(mag)) + 1)
		if r.IntN(2) == 0 {
			k = -k
		}
		f := float64(k) / math.Pow10(d)
		checkFewDecimals(t, f)
		checkFewDecimals(t, math.Nextafter(f, math.Inf(1)))
		checkFewDecimals(t, math.Nextafter(f, math.Inf(-1)))
		checkFewDecimals(t, math.Float64frombits(r.Uint64()))
		checkFewDecimals(t, r.Float64()*math.Pow10(r.IntN(20)-4))
	}
}

func FuzzFloatRepr(f *testing.F) {
	for _, v := range []float64{0, 1, 23.4, -0.05, 1e-4, 99999999999999.9, 1e14, 0.30000000000000004, 123456.789} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		checkFewDecimals(t, v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		// Python's repr round-trips.
		if back, err := strconv.ParseFloat(FloatRepr(v), 64); err != nil || back != v {
			t.Fatalf("FloatRepr(%v) = %q does not round-trip (%v, %v)", v, FloatRepr(v), back, err)
		}
	})
}

// BenchmarkFloatRepr formats one-decimal values (a random walk as metrics
// are) with AppendFloatRepr; BenchmarkFloatReprStrconv with strconv's
// shortest digits alone, for comparison.
func BenchmarkFloatRepr(b *testing.B) {
	buf := make([]byte, 0, 64)
	i := 0
	for b.Loop() {
		buf = AppendFloatRepr(buf[:0], float64(i%100000)/10)
		i++
	}
}

func BenchmarkFloatReprStrconv(b *testing.B) {
	buf := make([]byte, 0, 64)
	i := 0
	for b.Loop() {
		buf = strconv.AppendFloat(buf[:0], float64(i%100000)/10, 'f', -1, 64)
		i++
	}
}
