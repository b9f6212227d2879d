package pebble

import (
	"math"
	"unsafe"

	"github.com/plumbago/plumbago/storage/schema"
)

// tail is the writer's running knowledge of one higher archive h of a
// series within the lower-archive interval currently being filled, so that
// propagation (whisper's __propagate) needs no read of the blocks just
// appended to. It holds the fold of the interval's known slots except the
// newest, plus the newest slot itself (which may still be overwritten, as
// a lower archive slot is on every propagation into it).
//
// Invariant while ok: the stored slots of archive h in [curL, curL+lstep)
// are exactly the n folded into (acc, lastTs/lastVal), and archive h holds
// nothing in [curL+lstep, end). Anything the writer cannot prove keeps the
// invariant (an out-of-order slot, a jump past end) clears ok, and the next
// propagation reads the blocks instead and re-establishes the tail.
//
// It takes 40 bytes, one per lower archive of every series written since
// the store opened: the newest slot's timestamp is kept as its offset from
// curL (it lies in [curL, curL+lstep), and stored timestamps fit in 32
// bits), and n = -1 stands for "not ok".
type tail struct {
	curL    int64
	end     int64
	lastVal float64
	acc     float64
	lastOff uint32
	n       int32
}

// tailList returns the series' tails (nil if it has none yet): archive h's
// is tailList()[h].
func (s *series) tailList() []tail {
	if s.tails == nil {
		return nil
	}
	return unsafe.Slice(s.tails, len(s.schema.archives)-1)
}

// setTails makes ts, one tail per lower archive, the series' tails.
func (s *series) setTails(ts []tail) {
	if len(ts) != len(s.schema.archives)-1 {
		panic("pebble: tails do not match the series' archives")
	}
	s.tails = nil
	if len(ts) > 0 {
		s.tails = &ts[0]
	}
}

// tailNotOK is n of a tail whose invariant does not hold.
const tailNotOK = -1

// ok tells whether the tail's invariant holds.
func (t *tail) ok() bool { return t.n != tailNotOK }

// lastTs is the timestamp of the interval's newest known slot (n > 0).
func (t *tail) lastTs() int64 { return t.curL + int64(t.lastOff) }

// closedTail is a tail the writer moved past during the current series
// write; its interval is complete and is propagated from it.
type closedTail struct {
	h int
	t tail
}

// fold adds v (the next value in time order) to acc, the fold of n values,
// exactly as whisper's aggregate() consumes its list: sums start from 0
// (Python's sum), max/min/absmax/absmin keep the first extreme.
func fold(m schema.Method, acc float64, n int32, v float64) float64 {
	switch m {
	case schema.Average, schema.Sum, schema.AvgZero:
		if n == 0 {
			return 0 + v
		}
		return acc + v
	}
	if n == 0 {
		return v
	}
	switch m {
	case schema.Last:
		return v
	case schema.Max:
		if v > acc {
			return v
		}
	case schema.Min:
		if v < acc {
			return v
		}
	case schema.AbsMax:
		if math.Abs(v) > math.Abs(acc) {
			return v
		}
	case schema.AbsMin:
		if math.Abs(v) < math.Abs(acc) {
			return v
		}
	}
	return acc
}

// value returns the aggregate of the tail's n known slots out of total.
func (t *tail) value(m schema.Method, total int) float64 {
	all := fold(m, t.acc, t.n-1, t.lastVal)
	switch m {
	case schema.Average:
		return all / float64(t.n)
	case schema.AvgZero:
		return all / float64(max(total, int(t.n)))
	}
	return all
}

// freshTails returns the tails of a series with nothing stored.
func (w *writer) freshTails(n int) []tail {
	ts := w.newTails(n)
	for i := range ts {
		ts[i] = tail{curL: math.MinInt64, end: math.MaxInt64}
	}
	return ts
}

// tailSlab is the number of tails the writer allocates at once.
const tailSlab = 1024

// newTails returns n zero tails carved from the writer's slab (one
// allocation for many series, and no rounding up to a size class). A
// slab lives while any series keeps tails from it; tails are replaced only
// after a failed commit or an import.
func (w *writer) newTails(n int) []tail {
	if n > tailSlab/4 {
		return make([]tail, n)
	}
	if len(w.tailSlab) < n {
		w.tailSlab = make([]tail, tailSlab)
	}
	ts := w.tailSlab[:n:n]
	w.tailSlab = w.tailSlab[n:]
	return ts
}

// noteSet updates the tail of archive h for a slot written at t.
func (w *writer) noteSet(h int, t int64, v float64) {
	ser := w.ser
	tails := ser.tailList()
	if h >= len(tails) {
		return
	}
	tl := &tails[h]
	if !tl.ok() {
		return
	}
	m := ser.schema.method
	lstep := ser.schema.archives[h+1].step
	l := t - t%lstep
	switch {
	case l == tl.curL:
		switch {
		case tl.n == 0:
			tl.n, tl.lastOff, tl.lastVal = 1, uint32(t-l), v
		case t > tl.lastTs():
			tl.acc = fold(m, tl.acc, tl.n-1, tl.lastVal)
			tl.n++
			tl.lastOff, tl.lastVal = uint32(t-l), v
		case t == tl.lastTs():
			tl.lastVal = v
		default:
			w.dropTails(h)
		}
	case l > tl.curL && l+lstep <= tl.end:
		w.closed = append(w.closed, closedTail{h: h, t: *tl})
		*tl = tail{curL: l, end: tl.end, n: 1, lastOff: uint32(t - l), lastVal: v}
	default:
		w.dropTails(h)
	}
}

// dropTails forgets everything known about archive h's intervals.
func (w *writer) dropTails(h int) {
	w.ser.tailList()[h].n = tailNotOK
	out := w.closed[:0]
	for _, c := range w.closed {
		if c.h != h {
			out = append(out, c)
		}
	}
	w.closed = out
}

// tailFor returns the tail describing interval l of archive h, if any.
func (w *writer) tailFor(h int, l int64) *tail {
	tails := w.ser.tailList()
	if h >= len(tails) {
		return nil
	}
	if tl := &tails[h]; tl.ok() && tl.curL == l {
		return tl
	}
	for i := range w.closed {
		if c := &w.closed[i]; c.h == h && c.t.curL == l {
			return &c.t
		}
	}
	return nil
}
