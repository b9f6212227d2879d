package query

import (
	"math"
	"math/rand/v2"
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
