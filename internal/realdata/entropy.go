package realdata

import "math"

// Entropy estimates the information in a dataset's points given each
// series' previous value: per profile, the empirical order-0 entropy of the
// decimal-scaled deltas m[i] - m[i-1] (m = v * 10^Decimals; integers for
// counters), plus the entropy of each step's presence given the previous
// step's (for series with gaps). A series' first value is not counted.
type Entropy struct {
	d        *Dataset
	prev     []int64
	seen     []bool
	wasOn    []bool
	deltas   []map[int64]uint64 // per profile
	presence [][4]uint64        // per profile: counts of (was on, is on)
	points   uint64
}

// NewEntropy returns an estimator for the points of d.
func NewEntropy(d *Dataset) *Entropy {
	e := &Entropy{
		d:        d,
		prev:     make([]int64, d.Len()),
		seen:     make([]bool, d.Len()),
		wasOn:    make([]bool, d.Len()),
		deltas:   make([]map[int64]uint64, len(d.profiles)),
		presence: make([][4]uint64, len(d.profiles)),
	}
	for i := range e.deltas {
		e.deltas[i] = make(map[int64]uint64)
	}
	return e
}

// Add records step i of series s: its value v when ok, a gap otherwise.
func (e *Entropy) Add(s int, v float64, ok bool) {
	p := e.d.profile[s]
	pr := &e.d.profiles[p]
	if pr.Presence > 0 && pr.Presence < 1 {
		k := 0
		if e.wasOn[s] {
			k = 2
		}
		if ok {
			k++
		}
		e.presence[p][k]++
		e.wasOn[s] = ok
	}
	if !ok {
		return
	}
	e.points++
	m := int64(math.Round(v * pow10[pr.Decimals]))
	if e.seen[s] {
		e.deltas[p][m-e.prev[s]]++
	}
	e.prev[s], e.seen[s] = m, true
}

// Points returns the number of values added.
func (e *Entropy) Points() uint64 { return e.points }

// Bits returns the estimated information content of everything added.
func (e *Entropy) Bits() float64 {
	total := 0.0
	for _, h := range e.deltas {
		var n uint64
		for _, c := range h {
			n += c
		}
		for _, c := range h {
			total -= float64(c) * math.Log2(float64(c)/float64(n))
		}
	}
	for _, c := range e.presence {
		for was := 0; was < 2; was++ {
			off, on := float64(c[2*was]), float64(c[2*was+1])
			for _, x := range []float64{off, on} {
				if x > 0 {
					total -= x * math.Log2(x/(off+on))
				}
			}
		}
	}
	return total
}

// BitsPerPoint returns Bits divided by Points (0 before any point).
func (e *Entropy) BitsPerPoint() float64 {
	if e.points == 0 {
		return 0
	}
	return e.Bits() / float64(e.points)
}

// BytesPerPoint returns BitsPerPoint / 8, the figure to print beside a
// store's bytes per point.
func (e *Entropy) BytesPerPoint() float64 { return e.BitsPerPoint() / 8 }
