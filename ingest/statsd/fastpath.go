package statsd

import (
	"bytes"
	"unsafe"
)

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

// hitLines is the steady state's run of lines: the tagless lines at the
// start of p whose name, the bytes before the line's first ':', is a key
// already live this interval and whose value is one parseFast accepts
// ("<1 to 15 digits>|<c, g, ms or h>", the line's end after it) or such
// digits as a set's member ("|s"). It updates
// those keys and returns the index of the '\n' that ends the last of them
// (len(p) or more when they run to the end of p; -1 when the first line is
// not one), so the caller goes on with handleLine from the line after it.
//
// The name is the bytes before the line's first ':', found by
// bytes.IndexByte over the rest of p, without the sanitiser's byte classes
// and without looking for the line's end: a name equal to a key in the
// tables needs no sanitising, because every key k is its own key as a
// tagless name (buildKey(k, nil) is k): keys hold only bytes the sanitiser
// keeps, or ';' before tags that sortTags has already sorted and filtered,
// and with the sanitiser off buildKey changes nothing but the order of such
// tags. No key holds a '\n' (handleLine ends a name there, and tags are cut
// from one line), so a "name" that runs past its line's end into the next
// is never found, and that line goes to handleLine. The value is read in
// place with parseFast's rules. FuzzFastValue compares it with the general
// path (slowOnly).
func (l *Loop) hitLines(s *Snapshot, p []byte) int {
	end, hits := l.hitRun(s, p)
	s.metrics += float64(hits)
	return end
}

// hitRun is hitLines' loop; hits is the number of lines it applied.
func (l *Loop) hitRun(s *Snapshot, p []byte) (end, hits int) {
	n := len(p)
	base := unsafe.Pointer(unsafe.SliceData(p))
	at := 0 // the current line's start
	for ; ; hits++ {
		c := bytes.IndexByte(p[at:], ':')
		if c <= 0 {
			return at - 1, hits
		}
		c += at
		key := p[at:c]
		h := hashName(key)
		// The value: 1 to 15 digits, '|', c, g, h, s or ms, the line's end.
		k := c + 1
		var v uint64
		for ; k < n; k++ {
			d := *(*byte)(unsafe.Add(base, k)) - '0'
			if d > 9 {
				break
			}
			v = v*10 + uint64(d)
		}
		if d := k - c - 1; d == 0 || d > 15 || k+1 >= n || *(*byte)(unsafe.Add(base, k)) != '|' {
			return at - 1, hits
		}
		typ := *(*byte)(unsafe.Add(base, k+1))
		e := k + 2 // the line's end
		switch typ {
		case 'c', 'g', 'h', 's':
		case 'm':
			if e >= n || *(*byte)(unsafe.Add(base, e)) != 's' {
				return at - 1, hits
			}
			e++
		default:
			return at - 1, hits
		}
		if e < n && *(*byte)(unsafe.Add(base, e)) != '\n' {
			return at - 1, hits
		}
		switch typ {
		case 'c': // the commonest, without applyHit's call
			cv := s.counters.hit(key, h)
			if cv == nil {
				return at - 1, hits
			}
			*cv += float64(int64(v)) // v < 10^15: the signed conversion is one instruction
		case 's':
			if !s.hitSet(key, h, p[c+1:k]) {
				return at - 1, hits
			}
		default:
			if !l.applyHit(s, key, h, v, typ) {
				return at - 1, hits
			}
		}
		if e+1 >= n {
			return e, hits + 1
		}
		at = e + 1
	}
}

// applyHit applies one line that parseFast accepted (rate 1) to a key
// already live this interval (table.hit); h is hashName(key). It reports
// false, changing nothing, when the key is not live.
func (l *Loop) applyHit(s *Snapshot, key []byte, h, v uint64, typ byte) bool {
	f := float64(int64(v)) // v < 10^15
	switch typ {
	case 'c':
		if c := s.counters.hit(key, h); c != nil {
			*c += f
			return true
		}
	case 'g':
		if g := s.gauges.hit(key, h); g != nil {
			g.set(f)
			return true
		}
	default: // 'm', 'h'
		if t := s.timers.hit(key, h); t != nil {
			t.count++
			l.addSample(s, t, f)
			return true
		}
	}
	return false
}

// hitSet adds member to the set under key (hash h) when that set is
// already live this interval, as handleValue does; it reports false,
// changing nothing, when it is not.
func (s *Snapshot) hitSet(key []byte, h uint64, member []byte) bool {
	m := s.sets.hit(key, h)
	if m == nil || *m == nil {
		return false
	}
	if _, ok := (*m)[bstr(member)]; !ok {
		(*m)[string(member)] = struct{}{}
	}
	return true
}

// applyFast aggregates one line that parseFast accepted through the same
// updates as the general path (rate 1); h is hashName(key). A name already
// live this interval is updated by applyHit; a new or refused one takes
// the general path's functions.
func (l *Loop) applyFast(s *Snapshot, key []byte, h, v uint64, typ byte) {
	if l.applyHit(s, key, h, v, typ) {
		return
	}
	f := float64(int64(v)) // v < 10^15
	switch typ {
	case 'c':
		l.addCounter(s, key, h, f)
	case 'g':
		l.addGauge(s, key, h, f, false)
	default: // 'm', 'h'
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
