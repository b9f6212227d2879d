package ingesttest

import "runtime"

// Allocs counts the process's heap allocations from Start on, for
// benchmarks whose op is one point of a stream: testing's allocs/op is
// whole allocations per op, truncated, so 0.7 allocations per point shows
// as 0 and 1.3 as 1; PerOp gives the fraction.
type Allocs struct{ start uint64 }

// StartAllocs reads the allocation count now (it stops the world briefly:
// call it outside the timed part, or once).
func StartAllocs() Allocs {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Allocs{start: ms.Mallocs}
}

// PerOp returns the allocations since StartAllocs divided by n.
func (a Allocs) PerOp(n int) float64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.Mallocs-a.start) / float64(max(n, 1))
}
