package aggregator

import "math"

// acc is one interval's buffer.
type acc struct {
	interval      int64
	sum, min, max float64
	n             int64
	vals          []float64 // only for percentile methods
}

func (a *acc) add(v float64, keep bool) {
	if a.n == 0 {
		a.min, a.max = v, v
	} else {
		// Python's min/max keep the first of equal values and never
		// pick a NaN over a number here (NaN never reaches the buffer).
		if v < a.min {
			a.min = v
		}
		if v > a.max {
			a.max = v
		}
	}
	a.sum += v
	a.n++
	if keep {
		a.vals = append(a.vals, v)
	}
}

// merge folds b into a, b's kept values included.
func (a *acc) merge(b *acc) {
	if b.n == 0 {
		return
	}
	if a.n == 0 {
		a.min, a.max = b.min, b.max
	} else {
		a.min = math.Min(a.min, b.min)
		a.max = math.Max(a.max, b.max)
	}
	a.sum += b.sum
	a.n += b.n
	a.vals = append(a.vals, b.vals...)
}

// output is the buffers of one aggregate metric.
type output struct {
	rule int   // index of the first rule that produced this name
	def  *Rule // that rule (a state outlives a swap of the rule set)
	accs []acc
}

func (o *output) acc(interval int64) *acc {
	for i := range o.accs {
		if o.accs[i].interval == interval {
			return &o.accs[i]
		}
	}
	o.accs = append(o.accs, acc{interval: interval})
	return &o.accs[len(o.accs)-1]
}

// State is one event loop's buffers since its last Swap.
type State struct {
	outs   map[string]*output
	points int
}

// Points returns how many (input, rule) values the state buffers.
func (s *State) Points() int { return s.points }

type match struct {
	rule int
	out  string
}

// Loop is one event loop's aggregation front end: it matches names against
// the rules (caching the result per name) and buffers values. It is not safe
// for concurrent use: call Add and Swap from the loop's own goroutine.
type Loop struct {
	rules *Rules
	st    *State
	cache map[string][]match
	// MaxCachedNames bounds the name -> outputs cache (default 1<<20); it
	// is cleared when full.
	MaxCachedNames int
	buf            []byte
	// keepValues: some rule's method needs every value (a percentile).
	// Values are then kept for every output: an output's method is its
	// first rule's, and a rule earlier in the file can match an output
	// that a later rule's points created (FuzzParseRules: "0 (11) = p80
	// 0" after "0 (1) = sum 0<0>0" matched first), so the values must be
	// there already.
	keepValues bool
}

// NewLoop returns a Loop for rules.
func NewLoop(rules *Rules) *Loop {
	l := &Loop{rules: rules, st: newState(), cache: make(map[string][]match)}
	for _, r := range rules.Rules {
		l.keepValues = l.keepValues || r.Method.NeedsValues()
	}
	return l
}

func newState() *State { return &State{outs: make(map[string]*output)} }

// floorMod is Python's %: the result has the divisor's sign.
func floorMod(a, b int64) int64 {
	m := a % b
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}

// Add feeds one point. It reports whether any rule matched the name.
func (l *Loop) Add(name []byte, ts int64, v float64) (matched bool) {
	ms, ok := l.cache[string(name)]
	if !ok {
		ms = l.resolve(name)
	}
	if len(ms) == 0 || math.IsNaN(v) {
		return len(ms) > 0
	}
	for _, m := range ms {
		o := l.st.outs[m.out]
		if o == nil {
			o = &output{rule: m.rule, def: l.rules.Rules[m.rule]}
			l.st.outs[m.out] = o
		} else if m.rule < o.rule {
			o.rule, o.def = m.rule, l.rules.Rules[m.rule]
		}
		r := o.def
		o.acc(ts-floorMod(ts, r.Frequency)).add(v, l.keepValues)
		l.st.points++
	}
	return true
}

// Forward reports whether a raw point should also be stored, with carbon's
// rule: always when no rule matched; with FORWARD_ALL, unless the name is
// one of its own aggregate outputs. Call it after Add for the same name.
func (l *Loop) Forward(name []byte, matched bool) bool {
	if !matched {
		return true
	}
	if !l.rules.ForwardAll {
		return false
	}
	for _, m := range l.cache[string(name)] {
		if m.out == string(name) {
			return false
		}
	}
	return true
}

func (l *Loop) resolve(name []byte) []match {
	max := l.MaxCachedNames
	if max <= 0 {
		max = 1 << 20
	}
	if len(l.cache) >= max {
		clear(l.cache)
	}
	var ms []match
	for i, r := range l.rules.Rules {
		out, ok := r.AppendOutput(l.buf[:0], name)
		l.buf = out
		if !ok {
			continue
		}
		// carbon feeds the value once per matching rule, even when two
		// rules produce the same output name.
		ms = append(ms, match{rule: i, out: string(out)})
	}
	l.cache[string(name)] = ms
	return ms
}

// Swap returns the buffers accumulated since the last Swap and starts
// afresh. Hand the result to Merger.Merge.
func (l *Loop) Swap() *State {
	st := l.st
	l.st = newState()
	return st
}
