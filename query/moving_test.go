package query

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMovingSumAvgSameDoubles checks movingSumAvg's four-at-a-time sums
// against one window at a time added in order (graphite-web's safeSum /
// safeAvg), bit for bit, over random values with NaN runs, several window
// lengths and xFilesFactors.
func TestMovingSumAvgSameDoubles(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	e := &Env{Ctx: context.Background()}
	for _, n := range []int{0, 1, 3, 4, 5, 17, 200} {
		vals := make([]float64, n)
		for i := range vals {
			switch r.IntN(6) {
			case 0:
				vals[i] = math.NaN()
			case 1:
				vals[i] = r.NormFloat64() * 1e12
			default:
				vals[i] = float64(r.IntN(1000)) / 10
			}
		}
		for _, wp := range []int{0, 1, 2, 3, 4, 7, 30} {
			for _, xff := range []float64{0, 0.5, 1} {
				for _, average := range []bool{false, true} {
					ns := &Series{}
					work := 0
					i, err := movingSumAvg(e, &work, ns, vals, wp, xff, average)
					if err != nil {
						t.Fatal(err)
					}
					if len(vals)-i >= 4 || (i < wp && len(vals) > wp) {
						t.Fatalf("n %d wp %d: stopped at %d", n, wp, i)
					}
					for k := wp; k < i; k++ {
						sum, cnt := 0.0, 0
						for _, v := range vals[k-wp : k] {
							if !math.IsNaN(v) {
								sum += v
								cnt++
							}
						}
						want := sum
						switch {
						case cnt == 0 || !xffOK(cnt, wp, xff):
							want = math.NaN()
						case average:
							want = sum / float64(cnt)
						}
						got := ns.Values[k-wp]
						if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
							t.Fatalf("n %d wp %d xff %v avg %v window %d: %v, want %v", n, wp, xff, average, k, got, want)
						}
					}
				}
			}
		}
	}
}
