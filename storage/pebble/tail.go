package pebble

import (
	"math"

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

// tailsOf returns ser's tails (nil if it has none yet), one per lower
// archive of its schema sc: archive h's is tailsOf(ser, sc)[h].
func (w *writer) tailsOf(ser *series, sc *seriesSchema) []tail {
	if ser.tails == 0 {
		return nil
	}
	r := ser.tails - 1
	n := uint32(len(sc.archives) - 1)
	c, off := w.tailChunks[r>>tailShift], r&(tailChunk-1)
	return c[off : off+n : off+n]
}

// tailList returns the tails of the series being written (w.ser).
func (w *writer) tailList() []tail { return w.tailsOf(w.ser, w.sc) }

// ownTails returns w.ser's tails, carving zero ones for it first if it has
// none (nil for a single-archive series).
func (w *writer) ownTails() []tail {
	if w.ser.tails == 0 {
		w.ser.tails = w.newTails(len(w.sc.archives) - 1)
	}
	return w.tailList()
}

// forgetTails makes every tail of ser unknown, as if it had none: its next
// write reads the stored blocks back.
func (w *writer) forgetTails(ser *series) {
	ts := w.tailsOf(ser, w.s.schemaOf(ser))
	for i := range ts {
		ts[i] = tail{n: tailNotOK}
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

// freshTails makes w.ser's tails those of a series with nothing stored.
func (w *writer) freshTails() {
	ts := w.ownTails()
	for i := range ts {
		ts[i] = tail{curL: math.MinInt64, end: math.MaxInt64}
	}
}

// The writer's tails live in chunks of tailChunk; a series' tails are
// consecutive in one chunk and named by a ref, chunk<<tailShift | offset
// (a count above tailChunk/4 gets a chunk of its own). A series keeps its
// tails for its life (a failed commit or an import makes them unknown in
// place); compactNames carves the live series' anew.
const (
	tailShift = 10
	tailChunk = 1 << tailShift
)

// newTails carves n zero tails and returns 1 + their ref (0 for none).
func (w *writer) newTails(n int) uint32 {
	if n == 0 {
		return 0
	}
	last := len(w.tailChunks) - 1
	if n > tailChunk/4 || last < 0 || w.tailUsed+n > tailChunk {
		size := tailChunk
		if n > tailChunk/4 {
			size = n
		}
		w.tailChunks = append(w.tailChunks, make([]tail, size))
		last++
		w.tailUsed = 0
	}
	r := uint32(last)<<tailShift | uint32(w.tailUsed)
	w.tailUsed += n
	if n > tailChunk/4 {
		w.tailUsed = tailChunk // nothing else goes into its chunk
	}
	return r + 1
}

// noteSet updates the tail of archive h for a slot written at t.
func (w *writer) noteSet(h int, t int64, v float64) {
	tails := w.tailList()
	if h >= len(tails) {
		return
	}
	tl := &tails[h]
	if !tl.ok() {
		return
	}
	m := w.sc.method
	lstep := w.sc.archives[h+1].step
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
	w.tailList()[h].n = tailNotOK
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
	tails := w.tailList()
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
