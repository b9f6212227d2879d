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

// applyFast aggregates one line that parseFast accepted; h is
// hashName(key).
func (l *Loop) applyFast(s *Snapshot, key []byte, h, v uint64, typ byte) {
	switch typ {
	case 'c':
		c := s.counters.getLimH(key, h, &s.live, l.maxKeys)
		if c == nil {
			s.dropped++
			return
		}
		*c += float64(v)
	case 'g':
		g := s.gauges.getLimH(key, h, &s.live, l.maxKeys)
		if g == nil {
			s.dropped++
			return
		}
		g.abs, g.val, g.deltas = true, float64(v), g.deltas[:0]
	default: // 'm', 'h'
		t := s.timers.getLimH(key, h, &s.live, l.maxKeys)
		if t == nil {
			s.dropped++
			return
		}
		t.count++
		l.addSample(s, t, float64(v))
	}
}
