package statsd

import (
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"
)

// timerLoop returns a loop with a fixed random seed, so the sampled tests
// are deterministic.
func timerLoop(cfg *Config, seed uint64) *Loop {
	l := NewLoop(cfg)
	l.rng.s = seed
	return l
}

func sendTimer(l *Loop, name string, vals ...float64) {
	b := []byte(nil)
	for _, v := range vals {
		b = append(b[:0], name...)
		b = append(b, ':')
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
		b = append(b, "|ms"...)
		l.HandlePacket(b)
	}
}

// TestReservoirExactAggregates: two loops over their cap of 100 samples keep
// 100 each; count, sum, sum of squares, mean, upper, lower, std and count_90
// are exactly what etsy computes from all 20,000 samples; the percentile
// values are estimates close to the truth.
func TestReservoirExactAggregates(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TimerSampleCap = 100
	cfg.Histogram = []HistogramConfig{{Metric: "t", Bins: []any{int64(5000), "inf"}}}
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := timerLoop(&cfg, 1), timerLoop(&cfg, 2)
	var av, bv []float64
	for i := 1; i <= 10000; i++ {
		av = append(av, float64(i))
		bv = append(bv, float64(10001-i))
	}
	sendTimer(a, "t", av...)
	sendTimer(b, "t", bv...)
	sa, sb := a.Swap(), b.Swap()
	if sa.retained != 100 || sb.retained != 100 || sa.sampleDrops != 9900 {
		t.Fatalf("retained %d, %d, dropped %v; want 100, 100, 9900", sa.retained, sb.retained, sa.sampleDrops)
	}
	if tv, _ := sa.timers.find("t"); len(tv.vals) != 100 || cap(tv.vals) != 100 {
		t.Fatalf("loop kept len %d cap %d, want 100 100", len(tv.vals), cap(tv.vals))
	}
	got := flushOnce(t, f, t0.Add(10*time.Second), sa, sb)
	// Sum of 1..10000 twice, sum of squares n(n+1)(2n+1)/6 twice.
	exact := map[string]float64{
		"stats.timers.t.count":       20000,
		"stats.timers.t.count_ps":    2000,
		"stats.timers.t.sum":         2 * 50005000,
		"stats.timers.t.sum_squares": 2 * 333383335000,
		"stats.timers.t.mean":        5000.5,
		"stats.timers.t.upper":       10000,
		"stats.timers.t.lower":       1,
		"stats.timers.t.count_90":    18000,
	}
	for n, w := range exact {
		if got[n] != w {
			t.Errorf("%s = %v, want exactly %v", n, got[n], w)
		}
	}
	// Population std of 1..10000 (twice): sqrt((n^2-1)/12).
	if w := math.Sqrt((1e8 - 1) / 12); math.Abs(got["stats.timers.t.std"]-w) > 1e-9*w {
		t.Errorf("std = %v, want %v", got["stats.timers.t.std"], w)
	}
	near := map[string]float64{
		"stats.timers.t.upper_90":           9000,
		"stats.timers.t.median":             5000.5,
		"stats.timers.t.mean_90":            4500.5,
		"stats.timers.t.sum_90":             2 * 40504500,
		"stats.timers.t.sum_squares_90":     486081003000,
		"stats.timers.t.histogram.bin_5000": 9998,
		"stats.timers.t.histogram.bin_inf":  10002,
	}
	for n, w := range near {
		g, ok := got[n]
		if !ok || math.Abs(g-w) > 0.12*w {
			t.Errorf("%s = %v (present %v), want within 12%% of %v", n, g, ok, w)
		}
	}
	if h := got["stats.timers.t.histogram.bin_5000"] + got["stats.timers.t.histogram.bin_inf"]; math.Abs(h-20000) > 1 {
		t.Errorf("histogram bins add up to %v, want 20000±1", h)
	}
	if tot := f.Totals(); tot.TimerSamplesDropped != 19800 || tot.TimerSamplesRetained != 200 {
		t.Errorf("totals dropped %v retained %d, want 19800 200", tot.TimerSamplesDropped, tot.TimerSamplesRetained)
	}
}

// TestReservoirWeightedMerge: one loop over its cap (10,000 samples of 1, kept
// as 100 standing for 100 each) and one exact loop (100 samples of 1000). An
// unweighted merge would put the median at 500.5; weighted, every rank below
// 10,000 is a 1, as in etsy's full list.
func TestReservoirWeightedMerge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TimerSampleCap = 100
	cfg.PercentThreshold = []float64{90, 99, -1}
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := timerLoop(&cfg, 3), timerLoop(&cfg, 4)
	ones := make([]float64, 10000)
	for i := range ones {
		ones[i] = 1
	}
	thousands := make([]float64, 100)
	for i := range thousands {
		thousands[i] = 1000
	}
	sendTimer(a, "t", ones...)
	sendTimer(b, "t", thousands...)
	got := flushOnce(t, f, t0.Add(10*time.Second), a.Swap(), b.Swap())
	// n = 10100: count_90 = 9090, count_99 = 9999, count_top1 = 101.
	want := map[string]float64{
		"stats.timers.t.count":          10100,
		"stats.timers.t.sum":            110000,
		"stats.timers.t.median":         1,
		"stats.timers.t.count_90":       9090,
		"stats.timers.t.upper_90":       1,
		"stats.timers.t.sum_90":         9090,
		"stats.timers.t.mean_90":        1,
		"stats.timers.t.count_99":       9999,
		"stats.timers.t.upper_99":       1,
		"stats.timers.t.count_top1":     101,
		"stats.timers.t.lower_top1":     1,
		"stats.timers.t.sum_top1":       100001,
		"stats.timers.t.sum_squares_99": 9999,
		"stats.timers.t.upper":          1000,
		"stats.timers.t.lower":          1,
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s = %v, want %v", n, got[n], w)
		}
	}
}

// TestReservoirBudget: a loop's share of TimerSampleBudget bounds the samples
// kept over all its timers; a timer that finds the budget spent keeps one
// sample, and every timer's count and sum stay exact.
func TestReservoirBudget(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TimerSampleCap = 0
	cfg.TimerSampleBudget = 100
	cfg.EventLoops = 2 // 50 per loop
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	l := timerLoop(&cfg, 5)
	for k := 0; k < 10; k++ {
		vals := make([]float64, 100)
		for i := range vals {
			vals[i] = float64(k*100 + i)
		}
		sendTimer(l, fmt.Sprintf("k%d", k), vals...)
	}
	s := l.Swap()
	// k0 keeps 50, k1..k9 one each.
	if s.retained != 59 || s.sampleDrops != 1000-59 {
		t.Fatalf("retained %d dropped %v, want 59 941", s.retained, s.sampleDrops)
	}
	got := flushOnce(t, f, t0.Add(10*time.Second), s)
	for k := 0; k < 10; k++ {
		base := float64(k * 100)
		if c, sum := got[fmt.Sprintf("stats.timers.k%d.count", k)], got[fmt.Sprintf("stats.timers.k%d.sum", k)]; c != 100 || sum != 100*base+4950 {
			t.Errorf("k%d count %v sum %v, want 100 %v", k, c, sum, 100*base+4950)
		}
		if lo, hi := got[fmt.Sprintf("stats.timers.k%d.lower", k)], got[fmt.Sprintf("stats.timers.k%d.upper", k)]; lo != base || hi != base+99 {
			t.Errorf("k%d lower %v upper %v, want %v %v", k, lo, hi, base, base+99)
		}
	}
}

// TestReservoirFloodBounded: a million samples on one timer keep the loop at
// its cap, and the hot path allocates nothing once the reservoir is full.
func TestReservoirFloodBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TimerSampleCap = 1000
	l := timerLoop(&cfg, 6)
	pkt := []byte("flood:12.5|ms")
	for i := 0; i < 1_000_000; i++ {
		l.HandlePacket(pkt)
	}
	tv, _ := l.cur.timers.find("flood")
	if len(tv.vals) != 1000 || cap(tv.vals) != 1000 || tv.seen != 1_000_000 || l.cur.retained != 1000 {
		t.Fatalf("len %d cap %d seen %d retained %d; want 1000 1000 1000000 1000", len(tv.vals), cap(tv.vals), tv.seen, l.cur.retained)
	}
	if a := testing.AllocsPerRun(1000, func() { l.HandlePacket(pkt) }); a != 0 {
		t.Errorf("HandlePacket over the cap allocates %v times per packet", a)
	}
}

// TestMemoryReleasedAfterSpike: after a flood interval and a quiet one, the
// loop's sample slice and name index shrink back.
func TestMemoryReleasedAfterSpike(t *testing.T) {
	cfg := DefaultConfig()
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	l := timerLoop(&cfg, 7)
	vals := make([]float64, 10000)
	sendTimer(l, "t", vals...)
	for i := 0; i < 20000; i++ {
		l.HandlePacket([]byte(fmt.Sprintf("burst%d:1|c", i)))
	}
	now := t0
	flush := func() {
		now = now.Add(10 * time.Second)
		flushOnce(t, f, now, l.Swap())
	}
	flush() // the spike's snapshot goes back to the loop as its spare
	sendTimer(l, "t", 1, 2, 3)
	flush() // the loop works in the recycled spike snapshot
	sendTimer(l, "t", 1, 2, 3)
	flush() // ... and recycles it after a quiet interval: it shrinks
	for _, s := range []*Snapshot{l.cur, l.spare.Load()} {
		if s == nil {
			continue
		}
		if tv := s.timers.index("t"); tv >= 0 && cap(s.timers.ents[tv].v.vals) > 1024 {
			t.Errorf("timer samples keep capacity %d after the spike", cap(s.timers.ents[tv].v.vals))
		}
		if len(s.counters.ents) > 4096 || cap(s.counters.ents) > 4096 {
			t.Errorf("counter table holds %d (cap %d) entries after the burst", len(s.counters.ents), cap(s.counters.ents))
		}
	}
	if cap(f.cum) > 1024 || cap(f.st.timers.ents[0].v.vals) > 1024 {
		t.Errorf("flusher keeps cum cap %d, merged samples cap %d", cap(f.cum), cap(f.st.timers.ents[0].v.vals))
	}
}

// TestTimerSamplesFlatWithRate: the samples held over an interval are the
// same at 4 and at 16 times the budget's rate (2 loops, 200 timers, samples
// round-robin over the timers as from a busy service): the loops keep their
// shares of TimerSampleBudget, the slices' capacity is the same, and every
// timer's count and sum stay exact. This is what keeps RSS flat with the
// timer rate once the budget is reached.
func TestTimerSamplesFlatWithRate(t *testing.T) {
	const timers, budget = 200, 20_000
	held := func(mult int) (retained, capacity int) {
		cfg := DefaultConfig()
		cfg.TimerSampleBudget = budget
		cfg.EventLoops = 2
		f, err := NewFlusher(cfg, t0)
		if err != nil {
			t.Fatal(err)
		}
		loops := []*Loop{timerLoop(&cfg, 11), timerLoop(&cfg, 12)}
		var b []byte
		perTimer := budget * mult / timers / len(loops)
		for _, l := range loops {
			for i := 0; i < perTimer; i++ {
				for k := 0; k < timers; k++ {
					b = fmt.Appendf(b[:0], "svc.t%d:%d|ms", k, i%1000)
					l.HandlePacket(b)
				}
			}
			retained += l.cur.retained
			l.cur.timers.eachLive(func(e *entry[timerVal]) { capacity += cap(e.v.vals) })
		}
		got := flushOnce(t, f, t0.Add(10*time.Second), loops[0].Swap(), loops[1].Swap())
		wantSum := 0.0
		for i := 0; i < perTimer; i++ {
			wantSum += float64(i % 1000)
		}
		for _, k := range []int{0, timers / 2, timers - 1} {
			if c, s := got[fmt.Sprintf("stats.timers.svc.t%d.count", k)], got[fmt.Sprintf("stats.timers.svc.t%d.sum", k)]; c != float64(2*perTimer) || s != 2*wantSum {
				t.Errorf("x%d: svc.t%d count %v sum %v, want %d %v", mult, k, c, s, 2*perTimer, 2*wantSum)
			}
		}
		return retained, capacity
	}
	r4, c4 := held(4)
	r16, c16 := held(16)
	if r4 != budget || r16 != budget || c4 != c16 {
		t.Fatalf("at 4x the budget: %d samples kept in %d capacity; at 16x: %d in %d; want %d kept and equal capacity", r4, c4, r16, c16, budget)
	}
}

// TestReservoirUniform: a loop capped at 10 samples sees the values 1..1000,
// 4000 times with seeds 1..4000; every value should be kept with probability
// 10/1000, so each block of 10 values holds 400 of the 40,000 kept samples
// (standard deviation about 20) and each block of 100 holds 4000 (about 60).
// The first and last blocks catch a skew toward the reservoir's first fill or
// the stream's end. Deterministic: fixed seeds.
func TestReservoirUniform(t *testing.T) {
	const k, n, trials = 10, 1000, 4000
	cfg := DefaultConfig()
	cfg.TimerSampleCap = k
	var small [n / 10]int
	var large [10]int
	for seed := uint64(1); seed <= trials; seed++ {
		l := timerLoop(&cfg, seed)
		s := l.cur
		tv := &timerVal{}
		for v := 1; v <= n; v++ {
			l.addSample(s, tv, float64(v))
		}
		if len(tv.vals) != k || tv.seen != n {
			t.Fatalf("seed %d: kept %d of %d, want %d of %d", seed, len(tv.vals), tv.seen, k, n)
		}
		for _, v := range tv.vals {
			small[(int(v)-1)/10]++
			large[(int(v)-1)/100]++
		}
	}
	for _, b := range []int{0, 1, 50, n/10 - 2, n/10 - 1} {
		if c := small[b]; c < 320 || c > 480 {
			t.Errorf("values %d..%d kept %d times, want 400±80", 10*b+1, 10*b+10, c)
		}
	}
	for b, c := range large {
		if c < 3760 || c > 4240 {
			t.Errorf("values %d..%d kept %d times, want 4000±240", 100*b+1, 100*b+100, c)
		}
	}
}

// TestTimerCapacityCarried: a loop's second snapshot (new, as the Flusher has
// not given the first back) starts each timer at the capacity it used in the
// first interval and its name, so the same traffic again allocates only for
// a timer that kept 8 samples or fewer (grow's first size). With a budget of 150 samples
// the timers keep 100, 50 and 1 (each keeps at least one), and the carried
// capacity stays within the budget: 100 + 50 + 0.
func TestTimerCapacityCarried(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TimerSampleBudget = 150
	l := timerLoop(&cfg, 1)
	var pkts [][]byte
	for _, name := range []string{"a", "b", "c"} {
		for i := range 100 {
			pkts = append(pkts, []byte(fmt.Sprintf("%s:%d|ms", name, i)))
		}
	}
	send := func() {
		for _, p := range pkts {
			l.HandlePacket(p)
		}
	}
	send()
	first := l.Swap()
	for name, want := range map[string]int{"a": 100, "b": 50, "c": 1} {
		if n := len(mustTimer(t, first, name).vals); n != want {
			t.Fatalf("%s kept %d in the first interval, want %d", name, n, want)
		}
	}
	if n := l.cur.live; n != 0 {
		t.Fatalf("new snapshot has %d live names, want 0", n)
	}
	if _, ok := l.cur.timers.find("a"); ok {
		t.Fatal("carried timer a is live before any sample")
	}
	var caps [3]int
	if a := testing.AllocsPerRun(1, func() {
		send()
		second := l.Swap()
		for i, name := range []string{"a", "b", "c"} {
			caps[i] = cap(mustTimer(t, second, name).vals)
		}
		second.recycle()
		l.spare.Store(second)
	}); a != 1 { // c's first 8 samples
		t.Errorf("%v allocations for an interval in a new snapshot, want 1", a)
	}
	if want := [3]int{100, 50, 8}; caps != want {
		t.Errorf("capacities of a, b, c %v, want %v", caps, want)
	}
}

func mustTimer(t *testing.T, s *Snapshot, name string) *timerVal {
	t.Helper()
	v, ok := s.timers.find(name)
	if !ok {
		t.Fatalf("no timer %q", name)
	}
	return v
}

// TestKthSmallest checks algorithm L's W as taken over from algorithm R:
// the k-th smallest of n uniforms is Beta(k, n−k+1), mean k/(n+1) and
// variance k(n−k+1)/((n+1)²(n+2)). 20,000 draws with a fixed seed for each
// (k, n); the mean's standard error is under 0.8 % of the mean for these.
func TestKthSmallest(t *testing.T) {
	for _, c := range []struct{ k, n int64 }{{1, 32}, {10, 320}, {256, 8192}, {16384, 524288}} {
		r := rng{s: 42}
		const draws = 20_000
		var sum, sumSq float64
		for range draws {
			w := r.kthSmallest(c.k, c.n)
			if !(w > 0 && w < 1) {
				t.Fatalf("k=%d n=%d: W = %v, not in (0, 1)", c.k, c.n, w)
			}
			sum += w
			sumSq += w * w
		}
		k, n := float64(c.k), float64(c.n)
		mean, vr := sum/draws, sumSq/draws-(sum/draws)*(sum/draws)
		wantMean, wantVar := k/(n+1), k*(n-k+1)/((n+1)*(n+1)*(n+2))
		if math.Abs(mean-wantMean) > 4*math.Sqrt(wantVar/draws) {
			t.Errorf("k=%d n=%d: mean %v, want %v", c.k, c.n, mean, wantMean)
		}
		if math.Abs(vr/wantVar-1) > 0.06 {
			t.Errorf("k=%d n=%d: variance %v, want %v", c.k, c.n, vr, wantVar)
		}
	}
}
