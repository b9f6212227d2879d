package clickhouse

import (
	"errors"
	"fmt"
	"math"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// ErrInvalidInterval is whisper's InvalidTimeInterval: from is after until.
var ErrInvalidInterval = errors.New("invalid time interval: from is after until")

// maxFetchRows bounds the rows one query of a fetch reads.
const maxFetchRows = 4_000_000

// Fetch returns name's values over (from, until] with whisper's
// file_fetch semantics at time now: the archive (step) is the finest of the
// name's schema whose retention covers now-from, the range is aligned as
// whisper aligns it, and each slot of a coarser archive is computed from
// the rows in it as whisper's propagation would have: level by level from
// the finest step, with the method and the xFilesFactor. Rows ClickHouse
// already rolled up (one row at a slot's start, in the age range where
// graphite_rollup rolls that step) are taken as the slot's value. For a
// coarse archive with Options.Pushdown, ClickHouse computes the first
// level (pushdown.go). It is FetchMany of one name.
func (s *Store) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	var out [1]*storage.Series
	if err := s.fetchInto([]string{name}, from, until, now, out[:]); err != nil {
		return nil, err
	}
	if out[0] == nil {
		return nil, storage.ErrNotFound
	}
	return out[0], nil
}

// plan is one name's read: the archive, the aligned range, and the series
// it fills.
type plan struct {
	name  string
	path  string // Path in the points table
	out   *storage.Series
	r     rollup
	k     int    // the archive read
	agg   string // ClickHouse's aggregate of a pushed-down coarse read; "" reads every row
	empty bool   // the range is outside retention: nothing to read
	rows  bool   // the answer held rows of it
	slot  int    // its index in the caller's names
	key   string // what its query depends on besides the path (fetchmany.go)
}

// newPlan plans the read of name (series sc) over (from, until] at now
// (from <= until).
func newPlan(name string, sc *series, from, until, now int64, pushdown bool) plan {
	rets := sc.rets
	p := plan{name: name, path: sc.path, out: &storage.Series{Name: name, Start: from, Step: rets[0].SecondsPerPoint}}
	oldest := now - rets[len(rets)-1].MaxRetention()
	if from > now || until < oldest {
		p.empty = true
		return p
	}
	from = max(from, oldest)
	until = min(until, now)
	k := schema.ArchiveFor(len(rets), func(i int) int64 { return rets[i].MaxRetention() }, now-from)
	step := rets[k].SecondsPerPoint
	fromI := from - floorMod(from, step) + step
	untilI := until - floorMod(until, step) + step
	if fromI == untilI {
		untilI += step
	}
	p.out.Start, p.out.Step = fromI, step
	p.out.Values = storage.GetValues(int((untilI - fromI) / step))
	p.out.Pooled = true
	for i := range p.out.Values {
		p.out.Values[i] = math.NaN()
	}
	p.k = k
	p.r = rollup{rets: rets, method: sc.method, xff: sc.xff, now: now, known: make([][]float64, len(rets))}
	if agg, ok := pushdownAgg(sc.method); ok && k >= 1 && pushdown {
		p.agg = agg
	}
	return p
}

// until is the end of the plan's aligned range (exclusive).
func (p *plan) until() int64 { return p.out.Start + int64(len(p.out.Values))*p.out.Step }

// timed is a row or a cell of an answer: it has a time.
type timed interface{ at() int64 }

func (q qpoint) at() int64 { return q.t }
func (c cell) at() int64   { return c.t }

// nextSlot returns the start of the step-aligned slot of xs[i] and the end
// of the run of xs (sorted by time) from i that lies in it.
func nextSlot[T timed](xs []T, i int, step int64) (int64, int) {
	slot := xs[i].at() - floorMod(xs[i].at(), step)
	j := i + 1
	for j < len(xs) && xs[j].at() < slot+step {
		j++
	}
	return slot, j
}

// fill sets each slot of p's range from its run of xs (sorted by time)
// with val: (*rollup).value for rows, (*rollup).cellValue for cells.
func fill[T timed](p *plan, xs []T, val func(*rollup, int, int64, []T) float64) error {
	step := p.out.Step
	for i := 0; i < len(xs); {
		slot, j := nextSlot(xs, i, step)
		k := (slot - p.out.Start) / step
		if slot < p.out.Start || k >= int64(len(p.out.Values)) {
			return fmt.Errorf("clickhouse answered a row of %q at %d, outside [%d, %d)", p.name, slot, p.out.Start, p.until())
		}
		p.out.Values[k] = val(&p.r, p.k, slot, xs[i:j])
		i = j
	}
	return nil
}

// rollup computes coarse slots from rows as whisper's propagation does.
type rollup struct {
	rets   []schema.Retention
	method schema.Method
	xff    float64
	now    int64
	known  [][]float64 // scratch per level
}

// value returns the value of level j's slot starting at start, from rows
// (sorted, all in the slot); NaN when whisper would hold none.
func (r *rollup) value(j int, start int64, rows []qpoint) float64 {
	if len(rows) == 0 {
		return math.NaN()
	}
	if j == 0 {
		return rows[len(rows)-1].v // the latest timestamp of the slot
	}
	// graphite_rollup rolls rows older than the finer archive's retention
	// into one row at the slot's start (and whisper writes a point that
	// old straight into this archive): take it as it is.
	if r.now-start >= r.rets[j-1].MaxRetention() && len(rows) == 1 && rows[0].t == start {
		return rows[0].v
	}
	return fold(r, j, rows, (*rollup).value)
}

// fold is whisper's propagation into level j's slot from xs (sorted, all
// in the slot): sub gives the value of each level j-1 slot from its run
// of xs, and the known ones are aggregated with the method when they are
// at least the xFilesFactor of the slot's sub-slots.
func fold[T timed](r *rollup, j int, xs []T, sub func(*rollup, int, int64, []T) float64) float64 {
	step := r.rets[j-1].SecondsPerPoint
	total := int(r.rets[j].SecondsPerPoint / step)
	known := r.known[j][:0]
	for i := 0; i < len(xs); {
		ss, k := nextSlot(xs, i, step)
		if v := sub(r, j-1, ss, xs[i:k]); !math.IsNaN(v) {
			known = append(known, v)
		}
		i = k
	}
	r.known[j] = known
	if len(known) == 0 || float64(len(known))/float64(total) < r.xff {
		return math.NaN()
	}
	return r.method.Aggregate(known, total)
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
