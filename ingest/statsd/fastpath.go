package statsd

// The fast path for the commonest statsd lines: a clean name and a small
// non-negative integer of one type without a sample rate ("name:<digits>|c",
// "|g", "|ms" or "|h"). Such a line needs neither the general value scan nor
// jsNumber, and its result is the same as the general path's (at most 15
// digits are exact in a float64, and a rate of 1 multiplies by 1).
// handleLine tries it for every line once the key is known.

// parseFast reads the rest of a line after the name's ':' when it is
// "<1 to 15 digits>|<c, g, ms or h>" followed by the line's end ('\n' or the
// end of rest). It returns the value, the type's first byte and the rest's
// length up to the line's end, or n = -1 for anything else.
func parseFast(rest []byte) (v uint64, typ byte, n int) {
	i := 0
	for ; i < len(rest) && i < 15; i++ {
		d := rest[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	if i == 0 || i+1 >= len(rest) || rest[i] != '|' {
		return 0, 0, -1
	}
	typ = rest[i+1]
	n = i + 2
	switch typ {
	case 'c', 'g', 'h':
	case 'm':
		if n >= len(rest) || rest[n] != 's' {
			return 0, 0, -1
		}
		n++
	default:
		return 0, 0, -1
	}
	if n < len(rest) && rest[n] != '\n' {
		return 0, 0, -1
	}
	return v, typ, n
}

// applyFast aggregates one line that parseFast accepted through the same
// updates as the general path (rate 1); h is hashName(key). A name already
// live this interval is updated here (table.hit); a new or refused one takes
// the general path's functions.
func (l *Loop) applyFast(s *Snapshot, key []byte, h, v uint64, typ byte) {
	f := float64(v)
	switch typ {
	case 'c':
		if c := s.counters.hit(key, h); c != nil {
			*c += f
			return
		}
		l.addCounter(s, key, h, f)
	case 'g':
		if g := s.gauges.hit(key, h); g != nil {
			g.set(f)
			return
		}
		l.addGauge(s, key, h, f, false)
	default: // 'm', 'h'
		if t := s.timers.hit(key, h); t != nil {
			t.count++
			l.addSample(s, t, f)
			return
		}
		l.addTimer(s, key, h, f, 1)
	}
}

// liveValue is the value under key (hash h) in one of the snapshot's
// tables, made live; nil, counted in dropped, when the MaxKeys limit
// refuses a new name.
func liveValue[V any](s *Snapshot, t *table[V], key []byte, h uint64, maxKeys int) *V {
	v := t.getLimH(key, h, &s.live, maxKeys)
	if v == nil {
		s.dropped++
	}
	return v
}

// addCounter adds v (already divided by the sample rate) to a counter.
func (l *Loop) addCounter(s *Snapshot, key []byte, h uint64, v float64) {
	if c := liveValue(s, &s.counters, key, h, l.maxKeys); c != nil {
		*c += v
	}
}

// addGauge sets a gauge to v, or applies v as a signed delta (etsy's rule).
func (l *Loop) addGauge(s *Snapshot, key []byte, h uint64, v float64, delta bool) {
	g := liveValue(s, &s.gauges, key, h, l.maxKeys)
	switch {
	case g == nil:
	case !delta:
		g.set(v)
	case g.abs:
		g.val = applyDelta(true, g.val, v)
	default:
		g.deltas = append(g.deltas, v)
	}
}

// set makes v the gauge's absolute value (the deltas before it no longer
// count).
func (g *gaugeVal) set(v float64) { g.abs, g.val, g.deltas = true, v, g.deltas[:0] }

// addTimer records one timer sample standing for count samples (1/rate).
func (l *Loop) addTimer(s *Snapshot, key []byte, h uint64, v, count float64) {
	if t := liveValue(s, &s.timers, key, h, l.maxKeys); t != nil {
		t.count += count
		l.addSample(s, t, v)
	}
}
