package statsd

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/internal/schedyield"
)

// Flusher merges the loops' snapshots at each flush, keeps the state that
// persists across flushes and emits the flushed series. One Flusher serves one
// statsd server; Flush is called from one goroutine, the Admin may run
// concurrently (the state is guarded by a mutex; the hot path never takes it).
type Flusher struct {
	mu sync.Mutex

	cfg       Config
	hist      []histogram
	pcts      []pctNames
	intervalS float64 // flushInterval in seconds, as etsy divides
	delC      bool
	delT      bool
	delG      bool
	delS      bool
	maxTTL    int

	st state

	startup       int64 // unix seconds
	oldTS         int64
	lastMsgSeen   int64
	badTotal      float64
	totPackets    float64
	totMetrics    float64
	totDropped    float64
	sampleDrops   float64
	lastDrops     float64 // sampleDrops of the last flush
	retained      int
	flushes       uint64
	health        string
	lastFlush     int64
	lastException int64
	flushTime     int64
	flushLength   int64

	// names
	badName, pktName, metName, lagName string
	counterNS, countNS, timerNS        string
	gaugeNS, setNS, selfNS, numStats   string
	suffix                             string
	tsub                               timerSubs

	nb  []byte // name buffer
	kb  []byte // sanitised key buffer
	num []byte
	cum []float64
	sq  []float64
	ws  []wsample

	// yield gives the P to waiting goroutines (the UDP readers) every
	// schedyield.Every during a flush; work counts the items since the
	// last check (yieldWork).
	yield *schedyield.Yielder
	work  int
}

// yieldWork is how many items (table entries, timer values) a flush
// handles between two checks of its yield clock: a few tens of µs.
const yieldWork = 256

// step counts w items of flush work and, every yieldWork, lets the
// readers have the P if they wait for one (internal/schedyield): a flush
// of a large interval runs for tens of ms on one P, and sysmon preempts
// it only after 10 ms.
func (f *Flusher) step(w int) {
	f.work += w
	if f.work >= yieldWork {
		f.work = 0
		f.yield.Maybe()
	}
}

type state struct {
	counters table[float64]
	timers   table[timerVal]
	gauges   table[fgauge]
	sets     table[map[string]struct{}]
}

type fgauge struct {
	v      float64
	ttl    int
	hasTTL bool
}

type pctNames struct {
	p                               float64
	count, mean, bound, sum, sumSq  string
	okCount, okMean, okBound, okSum bool
	okSumSq                         bool
}

type timerSubs struct {
	std, upper, lower, count, countPS, sum, sumSq, mean, median, hist bool
}

// NewFlusher validates cfg and returns a Flusher whose server started at
// startup (the first graphiteStats.last_flush).
func NewFlusher(cfg Config, startup time.Time) (*Flusher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hist, _ := cfg.histograms()
	f := &Flusher{
		cfg:       cfg,
		hist:      hist,
		yield:     schedyield.New(),
		intervalS: float64(cfg.FlushInterval) / float64(time.Millisecond) / 1000,
		delC:      cfg.deleteOpt(cfg.DeleteCounters),
		delT:      cfg.deleteOpt(cfg.DeleteTimers),
		delG:      cfg.deleteOpt(cfg.DeleteGauges),
		delS:      cfg.deleteOpt(cfg.DeleteSets),
		maxTTL:    max(cfg.GaugesMaxTTL, 1),
		startup:   jsRoundSeconds(startup),
		health:    cfg.HealthStatus,
	}
	f.lastMsgSeen = f.startup
	f.lastFlush = f.startup
	ps := cfg.PrefixStats
	f.badName, f.pktName, f.metName, f.lagName = ps+".bad_lines_seen", ps+".packets_received", ps+".metrics_received", ps+".timestamp_lag"
	f.st.counters.getS(f.badName)
	f.st.counters.getS(f.pktName)
	f.st.counters.getS(f.metName)

	g := cfg.Graphite
	if g.GlobalSuffix != "" {
		f.suffix = "." + g.GlobalSuffix
	}
	ns := func(parts ...string) string {
		var b strings.Builder
		for _, p := range parts {
			if p != "" {
				b.WriteString(p)
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	if g.LegacyNamespace {
		f.counterNS, f.countNS, f.timerNS, f.gaugeNS, f.setNS = "stats.", "stats_counts.", "stats.timers.", "stats.gauges.", "stats.sets."
		f.selfNS = "stats." + ps
		f.numStats = ps + ".numStats"
	} else {
		f.counterNS = ns(g.GlobalPrefix, g.PrefixCounter)
		f.countNS = f.counterNS
		f.timerNS = ns(g.GlobalPrefix, g.PrefixTimer)
		f.gaugeNS = ns(g.GlobalPrefix, g.PrefixGauge)
		f.setNS = ns(g.GlobalPrefix, g.PrefixSet)
		f.selfNS = ns(g.GlobalPrefix) + ps
		f.numStats = f.selfNS + ".numStats"
	}

	okName := func(n string) bool {
		if len(cfg.CalculatedTimerMetrics) == 0 {
			return true
		}
		return slices.Contains(cfg.CalculatedTimerMetrics, percentClean(n))
	}
	for _, p := range cfg.PercentThreshold {
		c := jsNumberString(p)
		c = strings.Replace(c, ".", "_", 1)
		c = strings.Replace(c, "-", "top", 1)
		pn := pctNames{p: p, count: "count_" + c, mean: "mean_" + c, sum: "sum_" + c, sumSq: "sum_squares_" + c}
		if p > 0 {
			pn.bound = "upper_" + c
		} else {
			pn.bound = "lower_" + c
		}
		pn.okCount, pn.okMean, pn.okBound, pn.okSum, pn.okSumSq = okName(pn.count), okName(pn.mean), okName(pn.bound), okName(pn.sum), okName(pn.sumSq)
		f.pcts = append(f.pcts, pn)
	}
	f.tsub = timerSubs{okName("std"), okName("upper"), okName("lower"), okName("count"), okName("count_ps"),
		okName("sum"), okName("sum_squares"), okName("mean"), okName("median"), okName("histogram")}
	return f, nil
}

// percentClean is etsy's key.replace(/_(top)?\d+$/, "_percent").
func percentClean(k string) string {
	for i := 0; i < len(k); i++ {
		if k[i] != '_' {
			continue
		}
		r := strings.TrimPrefix(k[i+1:], "top")
		if r == "" {
			continue
		}
		digits := true
		for j := 0; j < len(r); j++ {
			if r[j] < '0' || r[j] > '9' {
				digits = false
				break
			}
		}
		if digits {
			return k[:i] + "_percent"
		}
	}
	return k
}

// jsRoundSeconds is Math.round(t.getTime()/1000).
func jsRoundSeconds(t time.Time) int64 {
	return int64(math.Floor(float64(t.UnixMilli())/1000 + 0.5))
}

// merge applies snapshots to the state in slice order; within a snapshot
// every update kept its arrival order.
func (f *Flusher) merge(st *state, snaps []*Snapshot) {
	for _, s := range snaps {
		if s == nil {
			continue
		}
		*st.counters.getS(f.badName) += s.bad
		*st.counters.getS(f.pktName) += s.packets
		*st.counters.getS(f.metName) += s.metrics
		s.counters.eachLive(func(e *entry[float64]) {
			*st.counters.getS(e.name) += e.v
			f.step(1)
		})
		s.timers.eachLive(func(e *entry[timerVal]) {
			mergeTimer(st.timers.getS(e.name), &e.v)
			f.step(1 + len(e.v.vals))
		})
		s.gauges.eachLive(func(e *entry[gaugeVal]) {
			f.step(1 + len(e.v.deltas))
			g, exists := st.gauges.find(e.name)
			if !exists {
				g = st.gauges.getS(e.name)
				*g = fgauge{}
			}
			if e.v.abs {
				g.v, exists = e.v.val, true
			}
			for _, d := range e.v.deltas {
				g.v = applyDelta(exists, g.v, d)
				exists = true
			}
			if f.delG {
				g.ttl, g.hasTTL = f.maxTTL, true
			}
		})
		s.sets.eachLive(func(e *entry[map[string]struct{}]) {
			f.step(1 + len(e.v))
			m := st.sets.getS(e.name)
			if *m == nil {
				*m = make(map[string]struct{}, len(e.v))
			}
			for k := range e.v {
				(*m)[k] = struct{}{}
			}
		})
	}
}

// Flush merges the snapshots (in slice order, see docs/statsd.md), emits every
// flushed point to sink with timestamp round(now/1000), clears the interval
// state and gives the snapshots back to their loops.
func (f *Flusher) Flush(snaps []*Snapshot, now time.Time, sink ingest.Sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	f.yield.Start()
	f.work = 0
	ts := jsRoundSeconds(now)
	f.flushes++
	f.merge(&f.st, snaps)
	retained := 0
	f.lastDrops = 0
	if f.oldTS > 0 { // after the interval's gauges, as etsy inserts it
		f.st.gauges.getS(f.lagName).v = float64(ts-f.oldTS) - f.intervalS
	}
	f.oldTS = ts
	for _, s := range snaps {
		if s == nil {
			continue
		}
		f.badTotal += s.bad
		f.totPackets += s.packets
		f.totMetrics += s.metrics
		f.totDropped += s.dropped
		f.sampleDrops += s.sampleDrops
		f.lastDrops += s.sampleDrops
		retained += s.retained
		if s.lastMsg > f.lastMsgSeen {
			f.lastMsgSeen = s.lastMsg
		}
		if s.loop != nil {
			s.recycle()
			s.loop.spare.Store(s)
		}
	}

	e := emitter{sink: sink, ts: ts, tsLen: len(strconv.AppendInt(f.num[:0], ts, 10))}
	numStats := f.emitState(&e)
	e.add(f.plain(f.numStats), float64(numStats))
	processing := time.Since(start).Milliseconds()
	e.add(f.plain(f.selfNS+".graphiteStats.calculationtime"), float64(processing))
	e.add(f.plain(f.selfNS+".processing_time"), float64(processing))
	e.add(f.plain(f.selfNS+".graphiteStats.last_exception"), float64(f.lastException))
	e.add(f.plain(f.selfNS+".graphiteStats.last_flush"), float64(f.lastFlush))
	e.add(f.plain(f.selfNS+".graphiteStats.flush_time"), float64(f.flushTime))
	e.add(f.plain(f.selfNS+".graphiteStats.flush_length"), float64(f.flushLength))
	f.flushTime = time.Since(start).Milliseconds() - processing
	f.flushLength = int64(e.bytes)
	f.lastFlush = jsRoundSeconds(time.Now())
	f.num = e.num
	f.retained = retained

	f.clearInterval()
}

// emitState emits every live counter, timer, gauge and set of the
// interval and returns how many it emitted (numStats).
func (f *Flusher) emitState(e *emitter) int {
	numStats := 0
	st := &f.st
	for i := range st.counters.ents {
		c := &st.counters.ents[i]
		if !c.live {
			continue
		}
		f.step(1)
		name, tags := f.splitKey(c.name)
		rate := c.v / f.intervalS
		if f.cfg.Graphite.LegacyNamespace {
			e.add(f.build(f.counterNS, name, "", "", tags), rate)
			if f.cfg.FlushCounts {
				e.add(f.build(f.countNS, name, "", "", tags), c.v)
			}
		} else {
			e.add(f.build(f.counterNS, name, "rate", "", tags), rate)
			if f.cfg.FlushCounts {
				e.add(f.build(f.countNS, name, "count", "", tags), c.v)
			}
		}
		numStats++
	}
	for i := range st.timers.ents {
		t := &st.timers.ents[i]
		if !t.live {
			continue
		}
		f.step(1 + len(t.v.vals))
		f.emitTimer(e, t.name, &t.v)
		numStats++
	}
	for i := range st.gauges.ents {
		g := &st.gauges.ents[i]
		if !g.live {
			continue
		}
		f.step(1)
		name, tags := f.splitKey(g.name)
		e.add(f.build(f.gaugeNS, name, "", "", tags), g.v.v)
		numStats++
	}
	for i := range st.sets.ents {
		s := &st.sets.ents[i]
		if !s.live {
			continue
		}
		f.step(1)
		name, tags := f.splitKey(s.name)
		e.add(f.build(f.setNS, name, "count", "", tags), float64(len(s.v)))
		numStats++
	}
	return numStats
}

// clearInterval resets or deletes the interval state like etsy's
// clear_metrics.
func (f *Flusher) clearInterval() {
	st := &f.st
	for i := range st.counters.ents {
		c := &st.counters.ents[i]
		if f.delC && !strings.Contains(c.name, "packets_received") &&
			!strings.Contains(c.name, "metrics_received") && !strings.Contains(c.name, "bad_lines_seen") {
			c.live = false
		}
		c.v = 0
	}
	for i := range st.timers.ents {
		t := &st.timers.ents[i]
		if f.delT {
			t.live = false
		}
		t.v.reset()
	}
	for i := range st.sets.ents {
		s := &st.sets.ents[i]
		if f.delS {
			s.live = false
			s.v = nil
		} else {
			clear(s.v)
		}
	}
	if f.delG {
		for i := range st.gauges.ents {
			g := &st.gauges.ents[i]
			if g.live && g.v.hasTTL {
				g.v.ttl--
				if g.v.ttl < 1 {
					g.live = false
				}
			}
		}
	}
	st.counters.compact()
	st.timers.compact()
	st.gauges.compact()
	st.sets.compact()
	f.cum, f.sq = shrink(f.cum), shrink(f.sq)
	if cap(f.ws) > 1024 && len(f.ws) < cap(f.ws)/4 {
		f.ws = nil
	}
	f.ws = f.ws[:0]
}

type emitter struct {
	sink  ingest.Sink
	ts    int64
	tsLen int
	bytes int
	num   []byte
}

func (e *emitter) add(name []byte, v float64) {
	if v == 0 {
		v = 0 // -0 (from -0|ms or -0|g) goes out as 0, as etsy prints it
	}
	e.sink.AddPoint(name, e.ts, v)
	e.num = appendJSNumber(e.num[:0], v)
	e.bytes += len(name) + len(e.num) + e.tsLen + 3
}

// splitKey splits a key into its name (sanitised here when keyNameSanitize
// is off, as etsy's graphite backend does) and its ";tags" part.
func (f *Flusher) splitKey(key string) (name, tags string) {
	name = key
	if i := strings.IndexByte(key, ';'); i >= 0 {
		name, tags = key[:i], key[i:]
	}
	if !f.cfg.KeyNameSanitize {
		f.kb = sanitizeInPlace(append(f.kb[:0], name...))
		name = bstr(f.kb)
	}
	return name, tags
}

func (f *Flusher) build(ns, name, sub1, sub2, tags string) []byte {
	b := append(f.nb[:0], ns...)
	b = append(b, name...)
	if sub1 != "" {
		b = append(b, '.')
		b = append(b, sub1...)
	}
	if sub2 != "" {
		b = append(b, '.')
		b = append(b, sub2...)
	}
	b = append(b, f.suffix...)
	b = append(b, tags...)
	f.nb = b
	return b
}

func (f *Flusher) plain(name string) []byte {
	b := append(f.nb[:0], name...)
	b = append(b, f.suffix...)
	f.nb = b
	return b
}

// emitTimer computes and emits one timer's values (lib/process_metrics.js).
func (f *Flusher) emitTimer(e *emitter, key string, t *timerVal) {
	name, tags := f.splitKey(key)
	out := func(ok bool, sub string, v float64) {
		if ok {
			e.add(f.build(f.timerNS, name, sub, "", tags), v)
		}
	}
	n := len(t.vals)
	if n == 0 {
		out(f.tsub.count, "count", 0)
		out(f.tsub.countPS, "count_ps", 0)
		return
	}
	h := f.histogramFor(key)
	if !t.exact() {
		if !t.est { // one loop only, over its cap: weight seen/len for each
			t.est = true
			t.w = t.w[:0]
			for range t.vals {
				t.w = append(t.w, float64(t.seen)/float64(n))
			}
		}
		f.emitEstimated(out, func(freq func(lo, hi float64) float64) {
			if h == nil {
				return
			}
			lo := math.Inf(-1)
			for _, b := range h.bins {
				e.add(f.build(f.timerNS, name, "histogram", b.name, tags), freq(lo, b.bound))
				lo = b.bound
			}
		}, t)
		return
	}
	vals := t.vals
	slices.Sort(vals)
	cum, sq := f.cumulate(vals)
	f.emitPercentiles(out, vals, cum, sq)
	lo, hi := vals[0], vals[n-1]
	sum, sumSq := cum[n-1], sq[n-1]
	mean := sum / float64(n)
	var diffs float64
	for _, v := range vals {
		diffs += (v - mean) * (v - mean)
	}
	mid := n / 2
	median := vals[mid]
	if n%2 == 0 {
		median = (vals[mid-1] + vals[mid]) / 2
	}
	out(f.tsub.std, "std", math.Sqrt(diffs/float64(n)))
	out(f.tsub.upper, "upper", hi)
	out(f.tsub.lower, "lower", lo)
	out(f.tsub.count, "count", t.count)
	out(f.tsub.countPS, "count_ps", t.count/f.intervalS)
	out(f.tsub.sum, "sum", sum)
	out(f.tsub.sumSq, "sum_squares", sumSq)
	out(f.tsub.mean, "mean", mean)
	out(f.tsub.median, "median", median)
	if h != nil {
		f.emitHistogram(e, name, tags, h, vals)
	}
}

// histogramFor returns the first histogram whose metric key contains, or
// nil (etsy's histogram config: the first match wins).
func (f *Flusher) histogramFor(key string) *histogram {
	if !f.tsub.hist {
		return nil
	}
	for i := range f.hist {
		if strings.Contains(key, f.hist[i].metric) {
			return &f.hist[i]
		}
	}
	return nil
}

// cumulate returns the running sums of sorted vals and of their squares,
// in the flusher's reused buffers.
func (f *Flusher) cumulate(vals []float64) (cum, sq []float64) {
	lo := vals[0]
	cum = append(f.cum[:0], lo)
	sq = append(f.sq[:0], lo*lo)
	for i := 1; i < len(vals); i++ {
		cum = append(cum, vals[i]+cum[i-1])
		sq = append(sq, float64(vals[i]*vals[i])+sq[i-1])
	}
	f.cum, f.sq = cum, sq
	return cum, sq
}

// emitPercentiles writes etsy's count_/mean_/upper_/sum_/sum_squares_<pct>
// of sorted vals (a negative percentile is the top share).
func (f *Flusher) emitPercentiles(out func(ok bool, sub string, v float64), vals, cum, sq []float64) {
	n := len(vals)
	lo, hi := vals[0], vals[n-1]
	for i := range f.pcts {
		p := &f.pcts[i]
		k := n
		sum, sumSq, mean, bound := lo, lo*lo, lo, hi
		if n > 1 {
			k = int(math.Floor(math.Abs(p.p)/100*float64(n) + 0.5))
			if k == 0 {
				continue
			}
			if p.p > 0 {
				bound, sum, sumSq = vals[k-1], cum[k-1], sq[k-1]
			} else {
				bound = vals[n-k]
				sum, sumSq = cum[n-1], sq[n-1]
				if k < n { // etsy reads cum[-1] here and prints NaN
					sum -= cum[n-k-1]
					sumSq -= sq[n-k-1]
				}
			}
			mean = sum / float64(k)
		}
		out(p.okCount, p.count, float64(k))
		out(p.okMean, p.mean, mean)
		out(p.okBound, p.bound, bound)
		out(p.okSum, p.sum, sum)
		out(p.okSumSq, p.sumSq, sumSq)
	}
}

// emitHistogram writes the count of sorted vals in each of h's bins.
func (f *Flusher) emitHistogram(e *emitter, name, tags string, h *histogram, vals []float64) {
	i := 0
	for _, b := range h.bins {
		freq := 0
		for ; i < len(vals) && (math.IsInf(b.bound, 1) || vals[i] < b.bound); i++ {
			freq++
		}
		e.add(f.build(f.timerNS, name, "histogram", b.name, tags), float64(freq))
	}
}

// Totals are cumulative counts over every flush so far.
type Totals struct {
	Packets, Metrics, BadLines float64
	// Dropped counts metrics refused by Config.MaxKeys.
	Dropped float64
	// TimerSamplesDropped counts timer samples the loops saw but did not
	// keep (Config.TimerSampleCap, TimerSampleBudget): their timers' count,
	// sum, sum of squares, mean, upper and lower stay exact, percentiles
	// and median are estimated.
	TimerSamplesDropped float64
	// LastTimerSamplesDropped is TimerSamplesDropped's growth at the last
	// flush: the samples of that interval that were not kept.
	LastTimerSamplesDropped float64
	// TimerSamplesRetained is the number of timer samples the last flush
	// merged (what the caps bound).
	TimerSamplesRetained int
	Flushes              uint64
}

// Totals returns the cumulative counts (for /metrics).
func (f *Flusher) Totals() Totals {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Totals{Packets: f.totPackets, Metrics: f.totMetrics, BadLines: f.badTotal, Dropped: f.totDropped,
		TimerSamplesDropped: f.sampleDrops, LastTimerSamplesDropped: f.lastDrops, TimerSamplesRetained: f.retained, Flushes: f.flushes}
}
