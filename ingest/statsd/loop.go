package statsd

import (
	"bytes"
	"slices"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Loop is one event loop's aggregation state. It is not safe for concurrent
// use: HandlePacket, Swap and Clone must all run on the loop's goroutine (or
// under its lock: ingest.Server.OnLoops).
type Loop struct {
	sanitize bool
	maxKeys  int
	// sampleCap and sampleBudget bound the timer samples kept per timer and
	// over all timers in one interval (0: no bound); see addSample.
	sampleCap    int
	sampleBudget int
	rng          rng
	// slowOnly turns off the fast paths (fastpath.go; tests compare).
	slowOnly bool
	cur      *Snapshot
	spare    atomic.Pointer[Snapshot]

	keyBuf  []byte
	sortBuf []byte
	tags    [][]byte
}

// NewLoop returns the aggregation state for one event loop.
func NewLoop(cfg *Config) *Loop {
	l := &Loop{sanitize: cfg.KeyNameSanitize, maxKeys: cfg.MaxKeys,
		sampleCap: cfg.TimerSampleCap, sampleBudget: cfg.loopSampleBudget(),
		rng: rng{s: uint64(time.Now().UnixNano())}}
	l.cur = newSnapshot(l)
	return l
}

// Snapshot is the state one loop accumulated during one flush interval. After
// Swap hands it over, only the Flusher touches it; Flush gives it back to its
// loop for reuse.
type Snapshot struct {
	loop    *Loop
	packets float64
	metrics float64
	bad     float64
	lastMsg int64   // unix seconds of the swap if any packet arrived, else 0
	live    int     // names used this interval, over all four tables
	dropped float64 // metrics refused by the MaxKeys limit
	// retained counts the timer samples kept; sampleDrops those seen but
	// not kept (left out of, or replaced in, a timer's reservoir).
	retained    int
	sampleDrops float64
	counters    table[float64]
	timers      table[timerVal]
	gauges      table[gaugeVal]
	sets        table[map[string]struct{}]
}

// gaugeVal is a run of gauge updates: an optional absolute value (with the
// deltas that followed it already applied) or, without one, the deltas in
// arrival order, to be applied to the merged value.
type gaugeVal struct {
	abs    bool
	val    float64
	deltas []float64
}

func newSnapshot(l *Loop) *Snapshot { return &Snapshot{loop: l} }

func (s *Snapshot) recycle() {
	s.packets, s.metrics, s.bad, s.lastMsg, s.live, s.dropped = 0, 0, 0, 0, 0, 0
	s.retained, s.sampleDrops = 0, 0
	s.counters.recycle(func(v *float64) { *v = 0 })
	s.timers.recycle((*timerVal).reset)
	s.gauges.recycle(func(v *gaugeVal) { v.abs = false; v.val = 0; v.deltas = v.deltas[:0] })
	s.sets.recycle(func(v *map[string]struct{}) { clear(*v) })
}

// Swap returns the state accumulated since the previous Swap and starts a
// fresh interval. Call it on the loop's goroutine.
func (l *Loop) Swap() *Snapshot {
	s := l.cur
	if s.packets > 0 {
		s.lastMsg = time.Now().Unix()
	}
	n := l.spare.Swap(nil)
	if n == nil {
		n = newSnapshot(l)
		l.presize(n, s)
	}
	l.cur = n
	return s
}

// presize gives a new snapshot's timers the sample capacity they used in
// the interval just ended (s), so they do not regrow from 8 samples by
// doubling (a recycled snapshot keeps its own). The total is bounded by the
// loop's sample budget before it is allocated; each timer's share by
// sampleCap already (len(vals) never passes it). Every timer's name is
// carried, so its entry is not inserted again; the entries are left not
// live, as recycle leaves them.
func (l *Loop) presize(n, s *Snapshot) {
	left := l.sampleBudget
	s.timers.eachLive(func(e *entry[timerVal]) {
		k := len(e.v.vals)
		if l.sampleBudget > 0 {
			k = min(k, left)
			left -= k
		}
		v := n.timers.getS(e.name)
		if k > 8 { // grow's first size
			v.vals = make([]float64, 0, k)
		}
	})
	n.timers.recycle(func(*timerVal) {})
}

// Clone returns a copy of the current interval's state without disturbing
// it (for the admin console). Call it on the loop's goroutine.
func (l *Loop) Clone() *Snapshot {
	s := l.cur
	c := &Snapshot{packets: s.packets, metrics: s.metrics, bad: s.bad}
	if s.packets > 0 {
		c.lastMsg = time.Now().Unix()
	}
	s.counters.eachLive(func(e *entry[float64]) { *c.counters.getS(e.name) = e.v })
	s.timers.eachLive(func(e *entry[timerVal]) {
		t := e.v
		t.vals, t.w = slices.Clone(t.vals), nil
		*c.timers.getS(e.name) = t
	})
	s.gauges.eachLive(func(e *entry[gaugeVal]) {
		*c.gauges.getS(e.name) = gaugeVal{abs: e.v.abs, val: e.v.val, deltas: slices.Clone(e.v.deltas)}
	})
	s.sets.eachLive(func(e *entry[map[string]struct{}]) {
		m := make(map[string]struct{}, len(e.v))
		for k := range e.v {
			m[k] = struct{}{}
		}
		*c.sets.getS(e.name) = m
	})
	return c
}

// Delete removes names of one kind ('c', 'm', 'g', 's') from the current
// interval (admin del* commands). Call it on the loop's goroutine.
func (l *Loop) Delete(kind byte, names []string) {
	for _, n := range names {
		switch kind {
		case 'c':
			l.cur.counters.del(n)
		case 'm':
			l.cur.timers.del(n)
		case 'g':
			l.cur.gauges.del(n)
		case 's':
			l.cur.sets.del(n)
		}
	}
}

// HandlePacket parses and aggregates one packet: a UDP datagram, or a run of
// complete lines from a TCP stream. p is only read during the call.
func (l *Loop) HandlePacket(p []byte) {
	s := l.cur
	s.packets++
	// Tags ("|#") are rare: one search of the packet for '#' spares each
	// line its own. Without them each line is read in one pass, its end
	// found by the scans of its name and values.
	if bytes.IndexByte(p, '#') < 0 {
		for len(p) > 0 {
			n := -1
			if !l.slowOnly {
				n = l.hitLines(s, p)
			}
			if n < 0 {
				n = l.handleLine(s, p, nil)
			}
			if n >= len(p) {
				return
			}
			p = p[n+1:]
		}
		return
	}
	for len(p) > 0 {
		var line []byte
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			line, p = p, nil
		}
		if len(line) == 0 {
			continue
		}
		var tags []byte
		if i := indexTagSep(line); i >= 0 {
			tags = line[i+2:]
			if j := indexTagSep(tags); j >= 0 {
				tags = tags[:j]
			}
			if line = line[:i]; i == 0 {
				s.metrics++
				s.bad++ // nothing but tags
				continue
			}
		}
		l.handleLine(s, line, tags)
	}
}

// indexTagSep is bytes.Index(b, "|#"), scanning for the rare '#' first.
func indexTagSep(b []byte) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '#')
		if i < 0 {
			return -1
		}
		i += off
		if i > 0 && b[i-1] == '|' {
			return i - 1
		}
		off = i + 1
	}
}

// handleLine parses and aggregates the line at the start of p, which ends
// at the first '\n' or at the end of p, and returns the line's length (the
// index of its '\n'). tags are the line's |# tags, already cut off p.
func (l *Loop) handleLine(s *Snapshot, p, tags []byte) int {
	// One pass finds the name's end and whether the name is already a
	// clean key (no tags, nothing the sanitiser would change): then the key
	// is the name itself, in place.
	c, clean := -1, len(tags) == 0
	i := 0
	// Eight bytes a step while every byte is kept as it is (the usual
	// name); the byte loop below goes on from the first step that is not.
	for ; i+8 <= len(p); i += 8 {
		q := p[i : i+8 : i+8]
		if nameClass[q[0]]|nameClass[q[1]]|nameClass[q[2]]|nameClass[q[3]]|
			nameClass[q[4]]|nameClass[q[5]]|nameClass[q[6]]|nameClass[q[7]] != classKeep {
			break
		}
	}
	for ; i < len(p); i++ {
		if k := nameClass[p[i]]; k != classKeep {
			if k == classColon {
				c = i
				break
			}
			if k == classNewline {
				break
			}
			clean = false
		}
	}
	if c < 0 {
		if i > 0 {
			s.metrics++
			s.bad++ // no value: etsy's default "1" has no type
		}
		return i
	}
	s.metrics++
	key := p[:c]
	if !clean {
		key = l.buildKey(key, tags)
	}
	rest := p[c+1:]
	if len(key) == 0 || key[0] == ';' {
		s.bad++ // empty name (etsy would emit "stats.")
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			return c + 1 + i
		}
		return len(p)
	}
	h := hashName(key)
	if !l.slowOnly {
		if v, typ, n := parseFast(rest); n >= 0 {
			l.applyFast(s, key, h, v, typ)
			return c + 1 + n
		}
	}
	for off := c + 1; ; {
		// One pass over the piece (value|type[|@rate], usually a dozen
		// bytes): its end at the next ':' or the line's end, and its first
		// two '|'. Cheaper than an IndexByte call for each.
		end, bar1, bar2, nl := len(rest), -1, -1, false
	scan:
		for i := 0; i < len(rest); i++ {
			switch rest[i] {
			case '|':
				if bar1 < 0 {
					bar1 = i
				} else if bar2 < 0 {
					bar2 = i
				}
			case ':':
				end = i
				break scan
			case '\n':
				end, nl = i, true
				break scan
			}
		}
		if !l.handleValue(s, key, h, rest[:end], bar1, bar2) {
			s.bad++
		}
		if nl || end == len(rest) {
			return off + end
		}
		off += end + 1
		rest = rest[end+1:]
	}
}

// handleValue applies one value|type[|@rate] piece whose first two '|' are
// at bar1 and bar2 (-1: none); h is hashName(key); false means a bad line.
func (l *Loop) handleValue(s *Snapshot, key []byte, h uint64, piece []byte, bar1, bar2 int) bool {
	if bar1 < 0 {
		return false
	}
	val := piece[:bar1]
	typ := piece[bar1+1:]
	rate := 1.0
	if bar2 >= 0 {
		j := bar2 - bar1 - 1
		r := typ[j+1:]
		typ = typ[:j]
		if k := bytes.IndexByte(r, '|'); k >= 0 {
			r = r[:k]
		}
		var ok bool
		if rate, ok = parseRate(r); !ok {
			return false
		}
	}
	typ = jsTrim(typ)
	switch {
	case len(typ) == 2 && typ[0] == 'm' && typ[1] == 's', len(typ) == 1 && typ[0] == 'h':
		v, ok := jsIsNumber(val)
		if !ok || !(v >= 0) {
			return false
		}
		l.addTimer(s, key, h, v, 1/rate)
	case len(typ) == 1 && typ[0] == 'g':
		v, ok := jsIsNumber(val)
		if !ok {
			return false
		}
		l.addGauge(s, key, h, v, val[0] == '+' || val[0] == '-')
	case len(typ) == 1 && typ[0] == 's':
		m := liveValue(s, &s.sets, key, h, l.maxKeys)
		if m == nil {
			return true
		}
		if *m == nil {
			*m = make(map[string]struct{})
		}
		if len(val) == 0 {
			val = zeroMember
		}
		if _, ok := (*m)[bstr(val)]; !ok {
			(*m)[string(val)] = struct{}{}
		}
	default:
		v, ok := jsIsNumber(val)
		if !ok {
			return false
		}
		l.addCounter(s, key, h, v*(1/rate))
	}
	return true
}

var zeroMember = []byte("0")

// applyDelta is etsy's gauge rule: a signed value is added only to an
// existing gauge whose value is truthy (non-zero, not NaN); otherwise it sets.
func applyDelta(exists bool, cur, d float64) float64 {
	if exists && cur != 0 && cur == cur {
		return cur + d
	}
	return d
}

// parseRate validates "@<non-negative JS number>" and returns the rate as etsy
// computes it: the number formed by the leading digits and dots. A rate that
// is not positive is rejected (etsy accepts @0 and produces Infinity).
func parseRate(r []byte) (float64, bool) {
	if len(r) < 2 || r[0] != '@' || r[1] == '-' || r[1] == '+' && len(r) == 2 {
		return 0, false
	}
	if r[1] != '+' {
		if v, ok := fastDecimal(r[1:]); ok {
			return v, v > 0 // digits and dots only: the whole number is the prefix
		}
	}
	if _, ok := jsIsNumber(r[1:]); !ok {
		return 0, false
	}
	n := 1
	for n < len(r) && (r[n] == '.' || (r[n] >= '0' && r[n] <= '9')) {
		n++
	}
	if n == 1 {
		return 0, false // etsy throws here (e.g. "@+0.5", "@ 1")
	}
	v, ok := jsNumber(r[1:n])
	if !ok || !(v > 0) {
		return 0, false
	}
	return v, true
}

// allowed marks the bytes etsy's key sanitiser keeps.
var allowed = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "_-.=" {
		t[c] = true
	}
	return
}()

// nameClass sorts the bytes of a name for handleLine's scan: kept as they
// are by the sanitiser, the ':' that ends the name, the '\n' that ends a
// line without a value, or anything else.
// The classes are bits so that handleLine can OR eight bytes' classes and
// compare once with classKeep.
const (
	classKeep    = 0
	classOther   = 1
	classColon   = 2
	classNewline = 4
)

var nameClass = func() (t [256]uint8) {
	for c := range t {
		if !allowed[c] {
			t[c] = classOther
		}
	}
	t[':'] = classColon
	t['\n'] = classNewline
	return
}()

// buildKey builds the aggregation key: the name, the |# tags as ;k=v, both
// sanitised like etsy (when enabled) and the tags sorted by name.
func (l *Loop) buildKey(name, tags []byte) []byte {
	if len(tags) == 0 {
		clean := true
		for _, c := range name {
			if !allowed[c] {
				clean = false
				break
			}
		}
		if clean {
			return name
		}
	}
	b := append(l.keyBuf[:0], name...)
	for len(tags) > 0 {
		var t []byte
		if i := bytes.IndexByte(tags, ','); i >= 0 {
			t, tags = tags[:i], tags[i+1:]
		} else {
			t, tags = tags, nil
		}
		if len(t) == 0 {
			continue
		}
		b = append(b, ';')
		start := len(b)
		b = append(b, t...)
		tt := b[start:]
		if i := bytes.IndexByte(tt, ';'); i >= 0 {
			tt[i] = '_'
		}
		if i := bytes.IndexByte(tt, ':'); i >= 0 {
			tt[i] = '='
		}
	}
	if l.sanitize {
		b = sanitizeInPlace(b)
	}
	if bytes.IndexByte(b, ';') >= 0 {
		b = l.sortTags(b)
	}
	l.keyBuf = b
	return b
}

// sanitizeInPlace applies etsy's sanitizeKeyName: runs of white space become
// '_', '/' becomes '-', and everything outside [A-Za-z0-9_.;=-] is removed.
func sanitizeInPlace(b []byte) []byte {
	w := 0
	inWS := false
	for r := 0; r < len(b); {
		c := b[r]
		if c < utf8.RuneSelf {
			r++
			if c == ' ' || (c >= '\t' && c <= '\r') {
				if !inWS {
					b[w] = '_'
					w++
					inWS = true
				}
				continue
			}
			inWS = false
			if c == '/' {
				b[w] = '-'
				w++
			} else if allowed[c] || c == ';' {
				b[w] = c
				w++
			}
			continue
		}
		ru, n := utf8.DecodeRune(b[r:])
		r += n
		if isJSSpaceRune(ru) {
			if !inWS {
				b[w] = '_'
				w++
				inWS = true
			}
			continue
		}
		inWS = false
	}
	return b[:w]
}

// sortTags rewrites name;t1;t2... with the tags sorted by tag name (then
// value) and tags that are not name=value dropped, as Graphite's
// tagged-series form wants.
func (l *Loop) sortTags(b []byte) []byte {
	i := bytes.IndexByte(b, ';')
	tags := l.tags[:0]
	rest := b[i+1:]
	for len(rest) > 0 || rest != nil {
		var t []byte
		if j := bytes.IndexByte(rest, ';'); j >= 0 {
			t, rest = rest[:j], rest[j+1:]
		} else {
			t, rest = rest, nil
		}
		// Graphite tags are name=value with both parts non-empty; etsy
		// passes anything through, Plumbago drops what Graphite would reject.
		if eq := bytes.IndexByte(t, '='); eq > 0 && eq < len(t)-1 {
			tags = append(tags, t)
		}
		if rest == nil {
			break
		}
	}
	for x := 1; x < len(tags); x++ {
		for y := x; y > 0 && tagLess(tags[y], tags[y-1]); y-- {
			tags[y], tags[y-1] = tags[y-1], tags[y]
		}
	}
	out := append(l.sortBuf[:0], b[:i]...)
	for _, t := range tags {
		out = append(out, ';')
		out = append(out, t...)
	}
	l.tags = tags[:0]
	l.sortBuf = b[:0]
	return out
}

func tagLess(a, b []byte) bool {
	ka, kb := a, b
	if i := bytes.IndexByte(a, '='); i >= 0 {
		ka = a[:i]
	}
	if i := bytes.IndexByte(b, '='); i >= 0 {
		kb = b[:i]
	}
	if c := bytes.Compare(ka, kb); c != 0 {
		return c < 0
	}
	return bytes.Compare(a, b) < 0
}
