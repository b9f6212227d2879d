package statsd

import (
	"math"
	"math/bits"
	"slices"
)

// timerVal is one timer's samples in one flush interval.
//
// While every sample is kept (seen <= len(vals)) the timer is exact and the
// flush computes etsy's values from vals. Once a loop's cap or budget is
// reached, the loop keeps a uniform random sample of what it saw: Vitter's
// algorithm R (sample i replaces a random slot with probability
// len(vals)/i, one draw a sample; next is 0) until it has seen reservoirR
// times len(vals), then Li's algorithm L (the same distribution drawn as
// skips: next is the number of the next sample to keep, so the samples
// between cost no random draw), and keeps count, sum, sum of squares, min, max and
// the sums of the deviations from a shift (the mean of the samples kept
// before sampling began) and of their squares over every sample, so those
// stay exact: the mean and the squared deviations follow from them
// (moments) without a division per sample.
//
// In the Flusher, est is set once a merged loop was not exact; w then holds
// the weight of each of vals (the number of samples each retained one stands
// for: seen/len(vals) of the loop it came from).
//
// The fields a sample past the bounds updates come first, next to vals, so
// with the entry's name and live flag they span 128 bytes (two cache lines
// when aligned) rather than the whole entry.
type timerVal struct {
	vals  []float64
	seen  int64   // samples seen; 0 when built from vals alone (the admin view)
	count float64 // Σ 1/rate
	// Algorithm L's next sample (by seen) that replaces a random slot; 0
	// while algorithm R runs.
	next int64
	// Exact aggregates over all seen samples, valid once summarised:
	// dev = Σ(v − shift), devSq = Σ(v − shift)².
	sum, sumSq, min, max, shift, dev, devSq float64
	// Algorithm L's W (the largest of len(vals) uniform keys).
	lw  float64
	est bool
	w   []float64
}

// samples is the number of samples the timer stands for.
func (t *timerVal) samples() int64 { return max(t.seen, int64(len(t.vals))) }

// exact reports whether vals holds every sample (with weight 1).
func (t *timerVal) exact() bool { return !t.est && t.seen <= int64(len(t.vals)) }

// reset empties the timer for the next interval, keeping the slices'
// capacity unless the last interval used less than a quarter of a large one
// (so a spike's memory is given back).
func (t *timerVal) reset() {
	*t = timerVal{vals: shrink(t.vals), w: shrink(t.w)}
}

func shrink(s []float64) []float64 {
	if cap(s) > 1024 && len(s) < cap(s)/4 {
		return nil
	}
	return s[:0]
}

// summarise computes the exact aggregates from vals (all samples so far):
// the mean and squared deviations by Welford's update, then kept as the
// shift (the mean) and its squared deviations.
func (t *timerVal) summarise() {
	t.sum, t.sumSq = 0, 0
	if len(t.vals) == 0 {
		t.min, t.max = 0, 0
		t.setMoments(0, 0)
		return
	}
	t.min, t.max = t.vals[0], t.vals[0]
	var mean, m2 float64
	for i, v := range t.vals {
		t.sum += v
		t.sumSq += v * v
		t.min = min(t.min, v)
		t.max = max(t.max, v)
		d := v - mean
		mean += d / float64(i+1)
		m2 += d * (v - mean)
	}
	t.setMoments(mean, m2)
}

// setMoments sets the mean and the sum of squared deviations of the samples
// summarised so far.
func (t *timerVal) setMoments(mean, m2 float64) { t.shift, t.dev, t.devSq = mean, 0, m2 }

// moments returns the mean and the sum of squared deviations from it of
// every sample seen (valid once summarised): from the deviations from the
// shift, m2 = Σ(v−shift)² − (Σ(v−shift))²/n (the shifted-data formula:
// little is lost to cancellation while the shift is near the mean).
func (t *timerVal) moments() (mean, m2 float64) {
	n := float64(t.samples())
	if n == 0 {
		return 0, 0
	}
	return t.shift + t.dev/n, t.devSq - t.dev*t.dev/n
}

// rng is a splitmix64 generator: one per loop, no locks, no allocation.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a uniform integer in [0, n) (Lemire's multiply-shift; the
// bias is under n/2^64).
func (r *rng) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// unit returns a uniform float64 in (0, 1): never 0, so its log is finite.
func (r *rng) unit() float64 {
	return (float64(r.next()>>11) + 0.5) / (1 << 53)
}

// kthSmallest draws the k-th smallest of n independent uniform values in
// (0, 1), a Beta(k, n−k+1) variate (as X/(X+Y) for X, Y gamma variates of
// shapes k and n−k+1): algorithm L's W for a reservoir of k samples after n,
// taken over from algorithm R (whose reservoir is a uniform sample whatever
// the keys L would have drawn, and W is independent of which samples the
// reservoir holds).
func (r *rng) kthSmallest(k, n int64) float64 {
	x := r.gamma(float64(k))
	return x / (x + r.gamma(float64(n-k+1)))
}

// gamma draws a gamma variate of shape a ≥ 1 and scale 1 (Marsaglia and
// Tsang 2000), its normal variates by Box and Muller.
func (r *rng) gamma(a float64) float64 {
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := math.Sqrt(-2*math.Log(r.unit())) * math.Cos(2*math.Pi*r.unit())
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if math.Log(r.unit()) < x*x/2+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// addSample records one timer sample on a loop's hot path.
func (l *Loop) addSample(s *Snapshot, t *timerVal, v float64) {
	t.seen++
	n := len(t.vals)
	if t.seen == int64(n)+1 { // every sample kept so far
		if (l.sampleCap == 0 || n < l.sampleCap) && (l.sampleBudget == 0 || s.retained < l.sampleBudget || n == 0) {
			if n == cap(t.vals) {
				t.vals = l.grow(t.vals)
			}
			t.vals = append(t.vals, v)
			s.retained++
			return
		}
		t.summarise() // the first sample not kept: aggregates start here
		t.next = 0    // algorithm R first
	}
	t.sum += v
	t.sumSq += v * v
	t.min = min(t.min, v)
	t.max = max(t.max, v)
	d := v - t.shift
	t.dev += d
	t.devSq += d * d
	switch {
	case t.next == 0: // algorithm R: kept with probability n/seen, in a random slot
		if j := l.rng.below(uint64(t.seen)); j < uint64(n) {
			t.vals[j] = v
		}
		if t.seen >= reservoirR*int64(n) { // algorithm L from here
			t.lw = l.rng.kthSmallest(int64(n), t.seen)
			l.gap(t, t.seen)
		}
	case t.seen == t.next:
		t.vals[l.rng.below(uint64(n))] = v
		l.skip(t, n, t.seen)
	}
	s.sampleDrops++
}

// reservoirR is how many times the reservoir's size a timer's samples go
// through algorithm R (one draw a sample) before algorithm L takes over.
// A draw of L's costs about 25 times one of R's (two logarithms, an
// exponential and log1p), and L draws about k/i times at sample i of a
// reservoir of k: L is the cheaper from about i = 25k on. Before, L from
// the first sample past the bound cost about 165 instructions a sample
// over it in BenchmarkHandlePacket10kKeys/20PerPacketOverBudget, whose
// timers see three times their reservoir, as the server's do at 1.5 M
// metrics/s.
const reservoirR = 32

// skip draws the next sample after sample number from that enters a
// reservoir of k samples (Li 1994, algorithm L): W shrinks by a factor
// u^(1/k), and the gap to the next kept sample is geometric with parameter W.
func (l *Loop) skip(t *timerVal, k int, from int64) {
	t.lw *= math.Exp(math.Log(l.rng.unit()) / float64(k))
	l.gap(t, from)
}

// gap draws the number of the next sample after from that enters the
// reservoir: the gap is geometric with parameter W (t.lw).
func (l *Loop) gap(t *timerVal, from int64) {
	g := math.Floor(math.Log(l.rng.unit()) / math.Log1p(-t.lw))
	if !(g < 1<<62) { // W rounded to 0 (or NaN): never again this interval
		g = 1 << 62
	}
	t.next = from + int64(g) + 1
}

// grow doubles a sample slice's capacity without passing the cap, so a
// capped timer never holds more than TimerSampleCap floats. (make and copy,
// not slices.Grow: growslice steps large slices up by about 1.25× until it
// reaches the size asked for, so it allocates up to a fifth more than the
// capacity kept.)
func (l *Loop) grow(vals []float64) []float64 {
	c := max(2*cap(vals), 8)
	if l.sampleCap > 0 {
		c = min(c, l.sampleCap)
	}
	g := make([]float64, len(vals), c)
	copy(g, vals)
	return g
}

// mergeTimer adds one loop's timer (src) to the Flusher's merged timer (dst).
// While both are exact the samples are concatenated (etsy's result exactly);
// otherwise each retained sample carries the weight seen/len(vals) of its
// loop and the aggregates merge exactly (Chan et al.'s pairwise update for
// the squared deviations).
func mergeTimer(dst, src *timerVal) {
	dst.count += src.count
	if dst.exact() && src.exact() {
		dst.seen = dst.samples() + src.samples()
		dst.vals = append(dst.vals, src.vals...)
		return
	}
	if !dst.est { // first inexact merge: weight 1 for what is there
		dst.est = true
		dst.seen = int64(len(dst.vals))
		dst.summarise()
		dst.w = slices.Grow(dst.w[:0], len(dst.vals))
		for range dst.vals {
			dst.w = append(dst.w, 1)
		}
	}
	var sSum, sSumSq, sMin, sMax, sMean, sM2 float64
	if src.exact() {
		c := *src
		c.summarise()
		sMean, sM2 = c.moments()
		sSum, sSumSq, sMin, sMax = c.sum, c.sumSq, c.min, c.max
	} else {
		sMean, sM2 = src.moments()
		sSum, sSumSq, sMin, sMax = src.sum, src.sumSq, src.min, src.max
	}
	na, nb := float64(dst.seen), float64(src.samples())
	if nb == 0 {
		return
	}
	if na == 0 {
		dst.min, dst.max = sMin, sMax
	} else {
		dst.min, dst.max = min(dst.min, sMin), max(dst.max, sMax)
	}
	n := na + nb
	dMean, dM2 := dst.moments()
	delta := sMean - dMean
	dst.setMoments(dMean+delta*nb/n, dM2+sM2+delta*delta*na*nb/n)
	dst.sum += sSum
	dst.sumSq += sSumSq
	dst.seen += src.samples()
	weight := nb / float64(len(src.vals))
	dst.vals = append(dst.vals, src.vals...)
	dst.w = slices.Grow(dst.w, len(src.vals))
	for range src.vals {
		dst.w = append(dst.w, weight)
	}
}

// wsample is a retained sample and the number of samples it stands for.
type wsample struct{ v, w float64 }

// weighted answers rank questions over samples sorted by value, each
// standing for w samples: the estimate of the sorted full sample list.
type weighted []wsample

// at returns the estimated value of the sample at 0-based rank r.
func (ws weighted) at(r float64) float64 {
	var c float64
	for _, s := range ws {
		c += s.w
		if c > r {
			return s.v
		}
	}
	return ws[len(ws)-1].v
}

// below returns the estimated sum and sum of squares of the k lowest
// samples (the last retained sample counted in part).
func (ws weighted) below(k float64) (sum, sumSq float64) {
	for _, s := range ws {
		w := min(s.w, k)
		sum += w * s.v
		sumSq += w * s.v * s.v
		k -= w
		if k <= 0 {
			break
		}
	}
	return sum, sumSq
}

// emitEstimated emits a timer whose samples were capped: count, count_ps,
// sum, sum_squares, mean, upper, lower and std from the exact aggregates;
// percentiles (with count_N exact), median and histogram bins estimated from
// the weighted samples.
func (f *Flusher) emitEstimated(out func(ok bool, sub string, v float64), hist func(freq func(lo, hi float64) float64), t *timerVal) {
	ws := f.ws[:0]
	for i, v := range t.vals {
		ws = append(ws, wsample{v, t.w[i]})
	}
	slices.SortFunc(ws, func(a, b wsample) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	f.ws = ws
	w := weighted(ws)
	n := float64(t.seen)
	for i := range f.pcts {
		p := &f.pcts[i]
		k := math.Floor(math.Abs(p.p)/100*n + 0.5)
		if k == 0 {
			continue
		}
		var bound, sum, sumSq float64
		switch {
		case k >= n:
			sum, sumSq = t.sum, t.sumSq
			bound = t.max
			if p.p < 0 {
				bound = t.min
			}
		case p.p > 0:
			bound = w.at(k - 1)
			sum, sumSq = w.below(k)
		default:
			bound = w.at(n - k)
			ls, lq := w.below(n - k)
			sum, sumSq = t.sum-ls, t.sumSq-lq
		}
		out(p.okCount, p.count, k)
		out(p.okMean, p.mean, sum/k)
		out(p.okBound, p.bound, bound)
		out(p.okSum, p.sum, sum)
		out(p.okSumSq, p.sumSq, sumSq)
	}
	mid := math.Floor(n / 2)
	median := w.at(mid)
	if math.Mod(n, 2) == 0 {
		median = (w.at(mid-1) + median) / 2
	}
	_, m2 := t.moments()
	out(f.tsub.std, "std", math.Sqrt(max(m2, 0)/n))
	out(f.tsub.upper, "upper", t.max)
	out(f.tsub.lower, "lower", t.min)
	out(f.tsub.count, "count", t.count)
	out(f.tsub.countPS, "count_ps", t.count/f.intervalS)
	out(f.tsub.sum, "sum", t.sum)
	out(f.tsub.sumSq, "sum_squares", t.sumSq)
	out(f.tsub.mean, "mean", t.sum/n)
	out(f.tsub.median, "median", median)
	hist(func(lo, hi float64) float64 {
		var c float64
		for _, s := range ws {
			if s.v >= lo && (math.IsInf(hi, 1) || s.v < hi) {
				c += s.w
			}
		}
		return math.Round(c)
	})
}
