package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// ErrInvalidInterval is whisper's InvalidTimeInterval: from is after until.
var ErrInvalidInterval = errors.New("invalid time interval: from is after until")

// maxFetchRows bounds the rows one Fetch reads (about 12 bytes each).
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
// level (pushdown.go).
func (s *Store) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	s.fetches.Add(1)
	if now <= 0 {
		now = s.opts.Now()
	}
	if from > until {
		return nil, fmt.Errorf("fetching %q from %d until %d: %w", name, from, until, ErrInvalidInterval)
	}
	s.mu.Lock()
	ser, err := s.info(name, false)
	var sc series
	if ser != nil {
		sc = *ser
	}
	s.mu.Unlock()
	if err != nil {
		if errors.Is(err, schema.ErrNoSchema) {
			return nil, storage.ErrNotFound
		}
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	rets := sc.rets
	out := &storage.Series{Name: name, Start: from, Step: rets[0].SecondsPerPoint}
	maxRet := rets[len(rets)-1].MaxRetention()
	oldest := now - maxRet
	if from > now || until < oldest {
		return s.found(ctx, name, out)
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
	out.Start, out.Step = fromI, step
	out.Values = make([]float64, (untilI-fromI)/step)
	for i := range out.Values {
		out.Values[i] = math.NaN()
	}
	r := rollup{rets: rets, method: sc.method, xff: sc.xff, now: now, known: make([][]float64, len(rets))}
	if agg, ok := pushdownAgg(sc.method); ok && k >= 1 && s.opts.Pushdown {
		return s.fetchCells(ctx, sc.path, out, &r, k, agg)
	}
	rows, err := s.readRows(ctx, sc.path, fromI, untilI)
	if err != nil {
		s.fetchErr.Add(1)
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	if len(rows) == 0 {
		return s.found(ctx, name, out)
	}
	for i := 0; i < len(rows); {
		slot := rows[i].t - floorMod(rows[i].t, step)
		j := i
		for j < len(rows) && rows[j].t < slot+step {
			j++
		}
		out.Values[(slot-fromI)/step] = r.value(k, slot, rows[i:j])
		i = j
	}
	return out, nil
}

// fetchCells fills out (a range of archive k >= 1) from the level-1
// cells ClickHouse aggregated (pushdown.go).
func (s *Store) fetchCells(ctx context.Context, name string, out *storage.Series, r *rollup, k int, agg string) (*storage.Series, error) {
	step := out.Step
	fromI := out.Start
	untilI := fromI + int64(len(out.Values))*step
	cells, err := s.readCells(ctx, name, fromI, untilI, r.rets[0].SecondsPerPoint, r.rets[1].SecondsPerPoint, agg)
	if err != nil {
		s.fetchErr.Add(1)
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	if len(cells) == 0 {
		return s.found(ctx, name, out)
	}
	for i := 0; i < len(cells); {
		slot := cells[i].t - floorMod(cells[i].t, step)
		j := i
		for j < len(cells) && cells[j].t < slot+step {
			j++
		}
		out.Values[(slot-fromI)/step] = r.cellValue(k, slot, cells[i:j])
		i = j
	}
	return out, nil
}

// found returns out for a name the index knows, ErrNotFound otherwise.
func (s *Store) found(ctx context.Context, name string, out *storage.Series) (*storage.Series, error) {
	ok, err := s.exists(ctx, name)
	if err != nil {
		s.fetchErr.Add(1)
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	if !ok {
		return nil, storage.ErrNotFound
	}
	return out, nil
}

// readRows reads the rows of path (a Path of the points table) in
// [from, until), one per Time (the newest
// version), sorted by Time. Date bounds (a day of margin either side) let
// ClickHouse skip partitions.
func (s *Store) readRows(ctx context.Context, path string, from, until int64) ([]qpoint, error) {
	d0 := time.Unix(max(from-86400, 0), 0).UTC().Format(time.DateOnly)
	d1 := time.Unix(until+86400, 0).UTC().Format(time.DateOnly)
	q := fmt.Sprintf("SELECT Time, argMax(Value, Timestamp) FROM %s.%s WHERE Path = %s AND Date >= toDate('%s') AND Date <= toDate('%s') AND Time >= %d AND Time < %d GROUP BY Time ORDER BY Time LIMIT %d FORMAT RowBinary",
		s.t.Database, s.t.Points, quote(path), d0, d1, from, until, maxFetchRows+1)
	out, err := s.cl.query(ctx, q)
	if err != nil {
		return nil, err
	}
	s.fetchBytes.Add(uint64(len(out)))
	rows, err := decodeRows(out)
	s.fetchRows.Add(uint64(len(rows)))
	return rows, err
}

// decodeRows decodes a RowBinary answer of (Time UInt32, Value Float64)
// rows, at most maxFetchRows of them.
func decodeRows(out []byte) ([]qpoint, error) {
	if len(out)%12 != 0 {
		return nil, errShortRow
	}
	if len(out)/12 > maxFetchRows {
		return nil, fmt.Errorf("more than %d rows in the range: %w", maxFetchRows, storage.ErrTooManyResults)
	}
	rows := make([]qpoint, 0, len(out)/12)
	r := reader{b: out}
	for r.more() {
		t := r.u32()
		v := r.f64()
		rows = append(rows, qpoint{int64(t), v})
	}
	return rows, r.err
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
	sub := r.rets[j-1].SecondsPerPoint
	total := int(r.rets[j].SecondsPerPoint / sub)
	known := r.known[j][:0]
	for i := 0; i < len(rows); {
		ss := start + (rows[i].t-start)/sub*sub
		k := i
		for k < len(rows) && rows[k].t < ss+sub {
			k++
		}
		if v := r.value(j-1, ss, rows[i:k]); !math.IsNaN(v) {
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
