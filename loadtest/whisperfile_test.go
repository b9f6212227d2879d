package loadtest

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func TestTimedPointsCrossing(t *testing.T) {
	var tp timedPoints
	sum, last := tp.set([]wspPoint{{130, 100}, {110, 50}, {120, 0}, {100, 7}, {140, math.NaN()}}, 105)
	if sum != 150 || last.Unix() != 130 {
		t.Fatalf("set = %v, %v; want 150, 130", sum, last)
	}
	// 50 at 110; 100 more over (110, 130]: 75 is reached a quarter of the
	// way through that increment, at 115.
	at, ok := tp.crossing(75)
	if !ok || at.Sub(time.Unix(115, 0)).Abs() > time.Millisecond {
		t.Fatalf("crossing(75) = %v, %v; want 115", at.Unix(), ok)
	}
	if at, ok := tp.crossing(50); !ok || at.Unix() != 110 {
		t.Fatalf("crossing(50) = %v, %v; want 110 (the first increment has no start)", at, ok)
	}
	for at, want := range map[int64]float64{100: 0, 110: 50, 115: 75, 130: 150, 200: 150} {
		if got := tp.cumulative(time.Unix(at, 0)); got != want {
			t.Errorf("cumulative(%d) = %v, want %v", at, got, want)
		}
	}
	if _, ok := tp.crossing(151); ok {
		t.Fatal("crossing beyond the sum")
	}
}

// whisperBytes builds a whisper file with one archive of n 1-second slots
// (aggregation average, maxRetention n, as whisper.create writes it).
func whisperBytes(n int, slots map[int]wspPoint) []byte {
	b := make([]byte, 16+12+12*n)
	binary.BigEndian.PutUint32(b[0:], 1)
	binary.BigEndian.PutUint32(b[4:], uint32(n))
	binary.BigEndian.PutUint32(b[12:], 1)
	binary.BigEndian.PutUint32(b[16:], 28)
	binary.BigEndian.PutUint32(b[20:], 1)
	binary.BigEndian.PutUint32(b[24:], uint32(n))
	for i, p := range slots {
		binary.BigEndian.PutUint32(b[28+12*i:], uint32(p.ts))
		binary.BigEndian.PutUint64(b[28+12*i+4:], math.Float64bits(p.v))
	}
	return b
}

func TestParseWhisperPoints(t *testing.T) {
	b := whisperBytes(4, map[int]wspPoint{1: {1700000001, 2.5}, 3: {1700000003, -1}})
	pts, err := parseWhisperPoints(b, "x")
	if err != nil || len(pts) != 2 || pts[0] != (wspPoint{1700000001, 2.5}) || pts[1] != (wspPoint{1700000003, -1}) {
		t.Fatalf("parse = %v, %v", pts, err)
	}
	for _, bad := range [][]byte{nil, b[:20], b[:len(b)-1]} {
		if _, err := parseWhisperPoints(bad, "x"); err == nil {
			t.Errorf("no error for %d bytes", len(bad))
		}
	}
}

func FuzzParseWhisperPoints(f *testing.F) {
	f.Add(whisperBytes(3, map[int]wspPoint{0: {5, 1}}))
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		pts, err := parseWhisperPoints(b, "fuzz")
		if err == nil && 12*len(pts) > len(b) {
			t.Fatalf("%d points from %d bytes", len(pts), len(b))
		}
	})
}
