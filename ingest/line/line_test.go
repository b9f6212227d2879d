package line

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	const now = 1700000000
	f := func(in, wantName string, wantV float64, wantTS int64) {
		t.Helper()
		name, v, ts, err := Parse([]byte(in), now)
		if err != nil {
			t.Fatalf("Parse(%q): unexpected error %v", in, err)
		}
		if string(name) != wantName || ts != wantTS || !(v == wantV || math.IsInf(v, 0) && v == wantV) {
			t.Fatalf("Parse(%q) = %q %v %d; want %q %v %d", in, name, v, ts, wantName, wantV, wantTS)
		}
	}
	f("a.b.c 1 1700000001\n", "a.b.c", 1, 1700000001)
	f("a.b.c 1 1700000001\r\n", "a.b.c", 1, 1700000001)
	f("  a.b.c\t\t-2.5   1700000001.9  ", "a.b.c", -2.5, 1700000001)
	f("x 1e3 1700000000", "x", 1000, 1700000000)
	f("x +7 1700000000", "x", 7, 1700000000)
	f("x .5 1700000000", "x", 0.5, 1700000000)
	f("x 5. 1700000000", "x", 5, 1700000000)
	f("x inf 1700000000", "x", math.Inf(1), 1700000000)
	f("x -Infinity 1700000000", "x", math.Inf(-1), 1700000000)
	f("x 1e400 1700000000", "x", math.Inf(1), 1700000000)
	f("x 3 -1", "x", 3, now)
	f("x 3 -1.0", "x", 3, now)
	f("x 3 1.7e9", "x", 3, 1700000000)
	f("x 123456789012345678901234 10", "x", 123456789012345678901234, 10)
	f("x -0 10", "x", 0, 10)
	f("x;tag=v 1 10", "x;tag=v", 1, 10)
}

func TestParseErrors(t *testing.T) {
	f := func(in string, want error) {
		t.Helper()
		_, _, _, err := Parse([]byte(in), 1)
		if !errors.Is(err, want) {
			t.Fatalf("Parse(%q) error = %v; want %v", in, err, want)
		}
	}
	f("", ErrFields)
	f("   \n", ErrFields)
	f("a.b 1", ErrFields)
	f("a.b 1 2 3", ErrFields)
	f("a.b nan 10", ErrNaN)
	f("a.b NaN 10", ErrNaN)
	f("a.b x 10", ErrValue)
	f("a.b 0x10 10", ErrValue)
	f("a.b 1_0 10", ErrValue)
	f("a.b 1 abc", ErrTimestamp)
	f("a.b 1 nan", ErrTimestamp)
	f("a.b 1 -2", ErrTimestamp)
	f("a.b 1 4294967296", ErrTimestamp)
	f("a\x00b 1 10", ErrName)
	long := make([]byte, MaxNameLen+1)
	for i := range long {
		long[i] = 'a'
	}
	f(string(long)+" 1 10", ErrNameTooLong)
}

func TestParseNoAlloc(t *testing.T) {
	in := []byte("servers.host01.cpu.user 42.5 1700000000\n")
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, _, err := Parse(in, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse allocated %v times per line; want 0", allocs)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a.b.c 1 1700000000\n", "a 1.5e3 -1", "a inf 10", "a nan 10", " a\tb c ", "a 1 2 3",
		"x;t=v 1 2", "\x00 1 2", "a -1e400 1e400", "a 0x1p3 5",
		"loadtest.w1.m0000042 42 1765152000\n", "abcdefgh\x00ijk 1 2", "abcdefghijklmnop\x1f 1 2",
		"abcdefgh\x01ijklmnop 1 2\r\n", "a  1 2", "a 1  2", "a 1 2 ", "a 1 2 x", " a 1 2",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		name, v, ts, err := Parse(in, 12345)
		// The common shape's split must give what str.split() gives.
		gname, gv, gts, gerr := parseGeneric(in, 12345)
		if err != gerr || !bytes.Equal(name, gname) || math.Float64bits(v) != math.Float64bits(gv) || ts != gts {
			t.Fatalf("Parse(%q) = %q %v %d %v; the generic split gives %q %v %d %v", in, name, v, ts, err, gname, gv, gts, gerr)
		}
		if err != nil {
			return
		}
		if len(name) == 0 || len(name) > MaxNameLen || math.IsNaN(v) || ts < 0 || ts > maxTimestamp {
			t.Fatalf("Parse(%q) accepted an invalid point: %q %v %d", in, name, v, ts)
		}
		for _, c := range name {
			if isSpace(c) || c == 0 {
				t.Fatalf("Parse(%q): name %q contains a separator", in, name)
			}
		}
	})
}

// TestParseDecimalMatchesStrconv checks the fast path against
// strconv.ParseFloat on every form it accepts.
func TestParseDecimalMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(s string) {
		t.Helper()
		got, ok := parseDecimal([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseDecimal(%q) = %v; strconv gives %v (%v)", s, got, want, err)
		}
	}
	for _, s := range []string{"0", "-0", "0.0", "-0.0", ".5", "5.", "007", "0.05", "1.50", "123456789012345",
		"0.000000000000001", "9007199254740993", "42.123456", "1700000000.5", "-1", "+3.25"} {
		check(s)
	}
	for _, s := range []string{"", "-", "+", ".", "-.", "1.2.3", "1e5", "0x1", "1_0"} {
		if _, ok := parseDecimal([]byte(s)); ok {
			t.Fatalf("parseDecimal(%q) accepted", s)
		}
	}
	for i := 0; i < 200000; i++ {
		n := r.IntN(18) + 1
		b := make([]byte, 0, n+2)
		if r.IntN(3) == 0 {
			b = append(b, '-')
		}
		dot := r.IntN(n + 1)
		for j := 0; j < n; j++ {
			if j == dot && r.IntN(2) == 0 {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		check(string(b))
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1.5", "-0.001", "123456789.123456", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) == 0 {
			return
		}
		got, ok := parseDecimal([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseDecimal(%q) = %v; strconv gives %v (%v)", s, got, want, err)
		}
	})
}
