package aggregator

// Emitter receives aggregate points.
type Emitter func(name string, timestamp int64, value float64)

type mout struct {
	rule   int
	def    *Rule
	accs   []acc
	active []bool
}

// Merger combines the loops' states and emits aggregates. It is not safe for
// concurrent use; one goroutine owns it. Each aggregate keeps the rule that
// made it, so states built under a rule set that was since replaced (see
// SetRules) merge and emit as they were buffered.
type Merger struct {
	rules *Rules
	outs  map[string]*mout
	// Emitted counts aggregate points emitted (carbon's
	// aggregateDatapointsSent).
	Emitted uint64
}

// NewMerger returns a Merger for rules.
func NewMerger(rules *Rules) *Merger {
	return &Merger{rules: rules, outs: make(map[string]*mout)}
}

// SetRules replaces the rule set whose MAX_AGGREGATION_INTERVALS applies
// (after a reload); buffered aggregates keep their rules.
func (m *Merger) SetRules(rules *Rules) { m.rules = rules }

// Merge folds one loop's swapped state in. The state must not be used again.
func (m *Merger) Merge(st *State) {
	for name, o := range st.outs {
		mo := m.outs[name]
		if mo == nil {
			mo = &mout{rule: o.rule, def: o.def}
			m.outs[name] = mo
		} else if o.rule < mo.rule {
			mo.rule, mo.def = o.rule, o.def
		}
		for i := range o.accs {
			a := &o.accs[i]
			j := 0
			for ; j < len(mo.accs); j++ {
				if mo.accs[j].interval == a.interval {
					break
				}
			}
			if j == len(mo.accs) {
				mo.accs = append(mo.accs, acc{interval: a.interval})
				mo.active = append(mo.active, false)
			}
			mo.accs[j].merge(a)
			mo.active[j] = true
		}
	}
}

// Buffers returns the number of aggregate metrics with buffers and the
// number of values buffered (carbon's allocatedBuffers and
// bufferedDatapoints).
func (m *Merger) Buffers() (metrics, points int) {
	for _, o := range m.outs {
		for i := range o.accs {
			points += int(o.accs[i].n)
		}
	}
	return len(m.outs), points
}

// Emit emits every interval that is complete at now (its end is at or
// before now) and received values since it was last emitted, timestamped
// with the interval start. Intervals older than MaxIntervals frequencies
// before the current one are then dropped, as carbon does; a late point for
// a dropped interval starts a new buffer that holds only the late values.
func (m *Merger) Emit(now int64, emit Emitter) {
	m.emit(now, false, emit)
}

// Flush emits every interval with new values, complete or not (for
// shutdown), and drops all buffers.
func (m *Merger) Flush(emit Emitter) {
	m.emit(0, true, emit)
}

func (m *Merger) emit(now int64, all bool, emit Emitter) {
	maxI := m.rules.MaxIntervals
	if maxI <= 0 {
		maxI = DefaultMaxIntervals
	}
	for name, o := range m.outs {
		r := o.def
		current := now - floorMod(now, r.Frequency)
		threshold := current - maxI*r.Frequency
		keep := 0
		for i := range o.accs {
			a := &o.accs[i]
			if o.active[i] && (all || a.interval < current) {
				// A percentile over no kept values: the buffer began under a
				// rule set without percentiles and a reload gave its name to
				// a percentile rule. Nothing exact to emit; skipped.
				if v, ok := r.Method.aggregate(a); ok {
					emit(name, a.interval, v)
					m.Emitted++
				}
				o.active[i] = false
			}
			if all || a.interval < threshold {
				continue
			}
			o.accs[keep], o.active[keep] = o.accs[i], o.active[i]
			keep++
		}
		o.accs, o.active = o.accs[:keep], o.active[:keep]
		if keep == 0 {
			delete(m.outs, name)
		}
	}
}
