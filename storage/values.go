package storage

import "sync"

// Value buffers for fetch results, reused across requests: a render's
// fetched series are garbage once its answer is encoded, and a fresh
// buffer per series costs its zeroing and first writes (memory traffic
// that was most of a 1,000-series sumSeries' CPU under 8 clients). Only
// buffers up to maxPooledValues points are kept (issue 18's 6 h at 10 s
// is 2,160): sync.Pool keeps what it holds through a garbage collection,
// and large ones would stay live after a spike of long renders.
const (
	valuesGrain     = 256
	maxPooledValues = 16 * valuesGrain
)

// valuePools[k] holds buffers of capacity (k+1)*valuesGrain.
var valuePools [maxPooledValues / valuesGrain]sync.Pool

// GetValues returns a slice of n values with unspecified contents (the
// caller writes every one), from the pool when n is small enough.
func GetValues(n int) []float64 {
	if n <= 0 || n > maxPooledValues {
		return make([]float64, n)
	}
	k := (n - 1) / valuesGrain
	if p, ok := valuePools[k].Get().(*[]float64); ok {
		return (*p)[:n]
	}
	return make([]float64, n, (k+1)*valuesGrain)
}

// PutValues hands back a slice GetValues returned (a Series with Pooled
// set); nothing may use it after. Other slices are ignored.
func PutValues(v []float64) {
	c := cap(v)
	if c == 0 || c > maxPooledValues || c%valuesGrain != 0 {
		return
	}
	v = v[:0]
	valuePools[c/valuesGrain-1].Put(&v)
}
