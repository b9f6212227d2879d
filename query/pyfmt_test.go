package query

import (
	"math"
	"testing"
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
