package line

import (
	"errors"
	"math"
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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		name, v, ts, err := Parse(in, 12345)
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
