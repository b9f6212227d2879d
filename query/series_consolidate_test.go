package query

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConsolidatedMatchesBuckets: Consolidated's per-function loops give,
// bit for bit, what consolidateBucket gives bucket by bucket, for every
// function, bucket size (the last bucket short or whole), xFilesFactor,
// and values with nulls, infinities and signed zeros.
func TestConsolidatedMatchesBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e308, -1e308}
	vals := make([]float64, 1003)
	for i := range vals {
		if rng.IntN(4) == 0 {
			vals[i] = special[rng.IntN(len(special))]
		} else {
			vals[i] = rng.NormFloat64() * 1e3
		}
	}
	// a run of nulls long enough to empty whole buckets
	for i := 500; i < 530; i++ {
		vals[i] = math.NaN()
	}
	fns := []string{"sum", "average", "avg", "avg_zero", "max", "min", "first", "last", ""}
	checked := 0
	for _, fn := range fns {
		for _, vpp := range []int{2, 3, 7, 10, 1003, 2000} {
			for _, xff := range []float64{0, 0.5, 1} {
				s := Series{Values: vals, ValuesPerPoint: vpp, ConsolidationFunc: fn, XFilesFactor: xff}
				got := s.Consolidated()
				var want []float64
				for i := 0; i < len(vals); i += vpp {
					want = append(want, consolidateBucket(vals[i:min(i+vpp, len(vals))], vpp, fn, xff))
				}
				if len(got) != len(want) {
					t.Fatalf("%s vpp %d xff %g: %d buckets, want %d", fn, vpp, xff, len(got), len(want))
				}
				for k := range want {
					if math.Float64bits(got[k]) != math.Float64bits(want[k]) && !(math.IsNaN(got[k]) && math.IsNaN(want[k])) {
						t.Fatalf("%s vpp %d xff %g bucket %d: %v, want %v", fn, vpp, xff, k, got[k], want[k])
					}
					checked++
				}
			}
		}
	}
	if checked != 9*3*(502+335+144+101+1+1) {
		t.Fatalf("%d buckets checked", checked)
	}
}

// TestConsolidatedAverageValues: graphite-web's average of buckets of 3
// with nulls and a short last bucket (divided by the non-null count; the
// xFilesFactor ratio by the bucket size 3, so both one-value buckets are
// null at 0.5), avg_zero's and sum's.
func TestConsolidatedAverageValues(t *testing.T) {
	nan := math.NaN()
	s := Series{Values: []float64{1, 2, 6, nan, nan, 4, 5, nan}, ValuesPerPoint: 3, ConsolidationFunc: "average", XFilesFactor: 0.5}
	got := s.Consolidated()
	if len(got) != 3 || got[0] != 3 || !math.IsNaN(got[1]) || !math.IsNaN(got[2]) {
		t.Fatalf("average, xFilesFactor 0.5: %v, want [3 NaN NaN]", got)
	}
	s.XFilesFactor = 0
	got = s.Consolidated()
	if len(got) != 3 || got[0] != 3 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("average: %v, want [3 4 5]", got)
	}
	s.ConsolidationFunc, s.XFilesFactor = "avg_zero", 0
	got = s.Consolidated()
	if len(got) != 3 || got[0] != 3 || got[1] != 4.0/3 || got[2] != 2.5 {
		t.Fatalf("avg_zero: %v, want [3 1.333… 2.5]", got)
	}
	s.ConsolidationFunc = "sum"
	got = s.Consolidated()
	if len(got) != 3 || got[0] != 9 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("sum: %v, want [9 4 5]", got)
	}
}
