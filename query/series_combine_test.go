package query

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestFoldSumAvgMatchesRows checks that the series-by-series sum and
// average give bit for bit what graphite-web's row-wise safeSum and
// safeAvg give: random values with NULLs, -0.0, infinities, series of
// different lengths and xFilesFactors.
func TestFoldSumAvgMatchesRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pick := func() float64 {
		switch r.IntN(12) {
		case 0, 1:
			return math.NaN()
		case 2:
			return math.Copysign(0, -1)
		case 3:
			return math.Inf(r.IntN(2)*2 - 1)
		case 4:
			return r.Float64() * 1e300
		}
		return math.Round(r.NormFloat64()*1e4) / 10
	}
	for iter := range 3000 {
		rows := r.IntN(40)
		cols := make([][]float64, 1+r.IntN(12))
		for i := range cols {
			cols[i] = make([]float64, max(0, rows-r.IntN(3)))
			for j := range cols[i] {
				cols[i][j] = pick()
			}
		}
		xff := []float64{0, 0.3, 0.5, 1}[r.IntN(4)]
		for _, fn := range []string{"sum", "average"} {
			agg, _ := GetAggFunc(fn)
			want := make([]float64, rows)
			aggregateRows(want, cols, agg, xff)
			got := make([]float64, rows)
			for i := range got {
				got[i] = 12345 // overwritten
			}
			foldSumAvg(got, cols, fn == "average", xff)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
					t.Fatalf("iteration %d %s xff %v row %d: %v (%x), want %v (%x)", iter, fn, xff, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
				}
			}
		}
	}
}

// TestMovingSumAvgMatchesAggFuncs checks movingSum and movingAverage,
// which add up each window without collecting it, against safeSum and
// safeAvg over the same windows (NULLs, -0.0 and xFilesFactor included).
func TestMovingSumAvgMatchesAggFuncs(t *testing.T) {
	m := newMemSource()
	val := func(ts int64) float64 {
		switch h := (ts / 10 * 2654435761) % 17; {
		case h < 5:
			return math.NaN()
		case h == 5:
			return math.Copysign(0, -1)
		default:
			return float64(ts%1013)/7 - 50
		}
	}
	m.add("mv.a", 10, val)
	ev := NewEvaluator(m, Limits{})
	req := Request{From: 1_700_000_000 - 3600, Until: 1_700_000_000, Now: 1_700_000_000}
	for _, c := range []struct {
		target string
		agg    AggFunc
		xff    float64
	}{
		{"movingSum(mv.a,'2min')", safeSum, 0},
		{"movingAverage(mv.a,'2min')", safeAvg, 0},
		{"movingAverage(mv.a,12,0.6)", safeAvg, 0.6},
		{"movingSum(mv.a,5,0.9)", safeSum, 0.9},
	} {
		list, err := ev.Eval(context.Background(), req, []string{c.target})
		if err != nil || len(list) != 1 {
			t.Fatalf("%s: %v %d", c.target, err, len(list))
		}
		s := list[0]
		wp := int64(12)
		if strings.HasPrefix(c.target, "movingSum(mv.a,5") {
			wp = 5
		}
		for i, got := range s.Values {
			ts := s.Start + int64(i)*s.Step
			var win []float64
			for j := wp; j >= 1; j-- {
				if v := val(ts - j*10); !math.IsNaN(v) {
					win = append(win, v)
				}
			}
			want := math.NaN()
			if len(win) > 0 && float64(len(win))/float64(wp) >= c.xff {
				want = c.agg(win)
			}
			if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("%s at %d: %v, want %v", c.target, ts, got, want)
			}
		}
	}
}
