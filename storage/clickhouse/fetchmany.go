package clickhouse

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// Many series are read with one query per group of names that share the
// aligned range and the kind of read (every row, or the cells of a
// pushed-down coarse read): `Path IN (...)` over the points table's
// primary key, the answer sorted by Path and time and split by path. The
// list travels in the POST body with the statement: 18.16 has no query
// parameters, and the statement stays under max_query_size (256 KiB by
// default) because a query carries at most maxInBytes of paths.

// FetchBatch is how many names the query engine hands to one FetchMany:
// a 1,000-series render is one query, a larger one several in parallel;
// the answer of one stays a few megabytes at the figures' ranges
// (docs/clickhouse.md, "Reads").
func (s *Store) FetchBatch() int { return fetchBatch }

const (
	fetchBatch = 1000
	// maxInBytes bounds the quoted paths of one query's IN list.
	maxInBytes = 128 << 10
	// batchRows bounds the rows a query's names can hold at one row per
	// finest slot (or per cell); a group past it is split.
	batchRows = 1 << 20
)

// FetchMany is Fetch for each of names, at time now: the result holds, in
// names' order, each name's series exactly as Fetch returns it, or nil for
// a name Fetch answers storage.ErrNotFound. It sends one query per group
// of names (see above) rather than one per name.
func (s *Store) FetchMany(names []string, from, until, now int64) ([]*storage.Series, error) {
	out := make([]*storage.Series, len(names))
	if err := s.fetchInto(names, from, until, now, out); err != nil {
		return nil, err
	}
	return out, nil
}

// fetchInto fetches names into out (nil for unknown names).
func (s *Store) fetchInto(names []string, from, until, now int64, out []*storage.Series) error {
	if len(names) == 0 {
		return nil
	}
	s.fetches.Add(uint64(len(names)))
	if now <= 0 {
		now = s.opts.Now()
	}
	if from > until {
		return fmt.Errorf("fetching %q from %d until %d: %w", names[0], from, until, ErrInvalidInterval)
	}
	plans, err := s.plans(names, from, until, now)
	if err != nil {
		return err
	}
	ptrs := make([]*plan, 0, len(plans))
	for i := range plans {
		ptrs = append(ptrs, &plans[i])
	}
	slices.SortFunc(ptrs, comparePlans)
	for len(ptrs) > 0 {
		n := batchLen(ptrs)
		if err := s.readBatch(ptrs[:n]); err != nil {
			s.fetchErr.Add(1)
			release(plans)
			return err
		}
		ptrs = ptrs[n:]
	}
	for i := range plans {
		out[plans[i].slot] = plans[i].out
	}
	return nil
}

// plans plans the read of every name a schema matches. Only the look-up of
// the names' series holds the writers' lock: a series' path, retentions,
// method and xFilesFactor do not change once it exists, and each plan's
// values (from the storage value pool) are made after the lock is let go.
func (s *Store) plans(names []string, from, until, now int64) ([]plan, error) {
	found, err := s.lookup(names)
	if err != nil {
		return nil, err
	}
	plans := make([]plan, 0, len(names))
	for i, ser := range found {
		if ser == nil {
			continue
		}
		p := newPlan(names[i], ser, from, until, now, s.opts.Pushdown)
		p.slot, p.key = i, key(&p)
		plans = append(plans, p)
	}
	return plans, nil
}

// lookup returns the series of each name, nil for a name no schema
// matches, under the writers' lock.
func (s *Store) lookup(names []string) ([]*series, error) {
	found := make([]*series, len(names))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, name := range names {
		ser, err := s.info(name, false)
		if errors.Is(err, schema.ErrNoSchema) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found[i] = ser
	}
	return found, nil
}

// release hands the values of plans back to the pool (the fetch failed).
func release(plans []plan) {
	for i := range plans {
		if p := &plans[i]; p.out != nil && p.out.Pooled {
			storage.PutValues(p.out.Values)
			p.out.Values, p.out.Pooled = nil, false
		}
	}
}

// comparePlans orders plans by the query that reads them, then by path.
func comparePlans(a, b *plan) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return strings.Compare(a.path, b.path)
}

// key is what a plan's query depends on besides the path; plans that
// agree share a query. Plans with nothing to read sort first, apart.
func key(p *plan) string {
	if p.empty {
		return ""
	}
	return fmt.Sprintf("%s|%d|%d|%d|%d", p.agg, p.out.Start, p.until(), p.r.rets[0].SecondsPerPoint, step1(p))
}

// step1 is the second-finest step of a pushed-down plan (0 otherwise).
func step1(p *plan) int64 {
	if p.agg == "" {
		return 0
	}
	return p.r.rets[1].SecondsPerPoint
}

// batchLen returns how many plans from the start of ps (sorted) one query
// reads: those of the same key, within maxInBytes of paths and batchRows
// of rows. Plans with nothing to read go together.
func batchLen(ps []*plan) int {
	k := ps[0].key
	bytes, rows := 0, int64(0)
	for i, p := range ps {
		if i > 0 && p.key != k {
			return i
		}
		if p.empty {
			continue
		}
		bytes += len(p.path) + 4
		rows += estimateRows(p)
		if i > 0 && (bytes > maxInBytes || rows > batchRows) {
			return i
		}
	}
	return len(ps)
}

// estimateRows is how many rows p's read answers at one per finest slot
// (points) or one per second-finest slot (cells).
func estimateRows(p *plan) int64 {
	span := p.until() - p.out.Start
	if p.agg != "" {
		return span / step1(p)
	}
	return span / p.r.rets[0].SecondsPerPoint
}

// readBatch reads the plans of one batch (same key) with one query; a
// batch whose answer is past the row bound is split in two, down to one
// name, which then fails as Fetch of it fails.
func (s *Store) readBatch(b []*plan) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	var err error
	if !b[0].empty {
		if b[0].agg != "" {
			err = s.readCells(ctx, b)
		} else {
			err = s.readRows(ctx, b)
		}
	}
	if errors.Is(err, storage.ErrTooManyResults) && len(b) > 1 {
		if err = s.readBatch(b[:len(b)/2]); err == nil {
			err = s.readBatch(b[len(b)/2:])
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("fetching %s: %w", names(b), err)
	}
	for _, p := range b {
		if p.rows {
			continue
		}
		ok, err := s.exists(ctx, p.name)
		if err != nil {
			return fmt.Errorf("fetching %q: %w", p.name, err)
		}
		if !ok {
			if p.out.Pooled {
				storage.PutValues(p.out.Values)
			}
			p.out = nil
		}
	}
	return nil
}

// names describes a batch's names for an error.
func names(b []*plan) string {
	if len(b) == 1 {
		return fmt.Sprintf("%q", b[0].name)
	}
	return fmt.Sprintf("%d series (%q, …)", len(b), b[0].name)
}

// pathFilter is the WHERE clause of a batch's points: its paths, and its
// range, with Date bounds (a day of margin either side) that let
// ClickHouse skip partitions.
func pathFilter(b []*plan) string {
	from, until := b[0].out.Start, b[0].until()
	var in strings.Builder
	for i, p := range b {
		if i > 0 {
			in.WriteByte(',')
		}
		in.WriteString(quote(p.path))
	}
	d0 := time.Unix(max(from-86400, 0), 0).UTC().Format(time.DateOnly)
	d1 := time.Unix(until+86400, 0).UTC().Format(time.DateOnly)
	return fmt.Sprintf("Path IN (%s) AND Date >= toDate('%s') AND Date <= toDate('%s') AND Time >= %d AND Time < %d",
		in.String(), d0, d1, from, until)
}

// maxAnswer bounds the bytes of an answer of at most rows rows of size
// bytes after the path, for batch b's paths.
func maxAnswer(b []*plan, rows, size int) int64 {
	longest := 0
	for _, p := range b {
		longest = max(longest, len(p.path))
	}
	return int64(rows) * int64(size+binary.MaxVarintLen64+longest)
}

// readRows reads every row of b's paths in the batch's range, sorted by
// path, Time and version, and keeps the newest version of each Time. The
// versions are resolved here, not with argMax in ClickHouse: on 18.16 a
// `GROUP BY Path, Time` costs about ten times the sorted read
// (docs/clickhouse.md, "Reads").
func (s *Store) readRows(ctx context.Context, b []*plan) error {
	q := fmt.Sprintf("SELECT Path, Time, Timestamp, Value FROM %s.%s WHERE %s ORDER BY Path, Time, Timestamp LIMIT %d FORMAT RowBinary",
		s.t.Database, s.t.Points, pathFilter(b), maxFetchRows+1)
	rows, runs, err := readRuns(ctx, s, q, b, maxFetchRows, rowBytes, decodeRow)
	if errors.Is(err, errRowLimit) {
		return fmt.Errorf("more than %d rows in the range: %w", maxFetchRows, storage.ErrTooManyResults)
	}
	if err != nil {
		return err
	}
	return fillRuns(b, newest(rows, runs), runs, (*rollup).value)
}

// vrow is a row of the points table as read: time, version, value.
type vrow struct {
	t   int64
	v   float64
	ver uint32
}

// rowBytes is the RowBinary size of a vrow: Time, Timestamp, Value.
const rowBytes = 4 + 4 + 8

// newest keeps the newest version of each Time of each run of rows
// (sorted by path, Time and version: the last one), and moves the runs
// onto the points it returns.
func newest(rows []vrow, runs []pathRun) []qpoint {
	out := make([]qpoint, 0, len(rows))
	for k := range runs {
		run := rows[runs[k].lo:runs[k].hi]
		runs[k].lo = len(out)
		for i, x := range run {
			if i+1 < len(run) && run[i+1].t == x.t {
				continue
			}
			out = append(out, qpoint{x.t, x.v})
		}
		runs[k].hi = len(out)
	}
	return out
}

// readCells reads the level-1 cells (pushdown.go) of b's paths in the
// batch's range, sorted by path and time.
func (s *Store) readCells(ctx context.Context, b []*plan) error {
	p := b[0]
	step0, step1 := p.r.rets[0].SecondsPerPoint, step1(p)
	limit := 0
	for _, p := range b {
		limit += int(estimateRows(p))
	}
	q := fmt.Sprintf("SELECT Path, toUInt32(intDiv(t0, %[4]d) * %[4]d) AS t1, %[5]s, toUInt32(countIf(NOT isNaN(v0))), toUInt32(sum(c)), toUInt32(min(m)) FROM ("+
		"SELECT Path, intDiv(Time, %[3]d) * %[3]d AS t0, argMax(v, Time) AS v0, count() AS c, min(Time) AS m FROM ("+
		"SELECT Path, Time, argMax(Value, Timestamp) AS v FROM %[1]s.%[2]s WHERE %[6]s GROUP BY Path, Time"+
		") GROUP BY Path, t0 ORDER BY Path, t0) GROUP BY Path, t1 ORDER BY Path, t1 LIMIT %[7]d FORMAT RowBinary",
		s.t.Database, s.t.Points, step0, step1, p.agg, pathFilter(b), limit+1)
	cells, runs, err := readRuns(ctx, s, q, b, limit, cellBytes, decodeCell)
	if errors.Is(err, errRowLimit) {
		return fmt.Errorf("clickhouse answered more than %d cells for %d slots", limit, limit)
	}
	if err != nil {
		return err
	}
	return fillRuns(b, cells, runs, (*rollup).cellValue)
}

// readRuns sends the fetch query q of batch b, which answers at most
// limit+1 rows of size bytes after the path, reads at most that many bytes
// of the answer, and decodes it by path with dec (errRowLimit past limit
// rows).
func readRuns[T any](ctx context.Context, s *Store, q string, b []*plan, limit, size int, dec func(*reader) T) ([]T, []pathRun, error) {
	s.fetchQueries.Add(1)
	out, err := s.cl.queryLimit(ctx, q, maxAnswer(b, limit+1, size))
	if err != nil {
		return nil, nil, err
	}
	s.fetchBytes.Add(uint64(len(out)))
	items, runs, err := decodeByPath(out, limit, dec)
	s.fetchRows.Add(uint64(len(items)))
	return items, runs, err
}

// fillRuns fills each plan of b (sorted by path) from its run of xs; both
// are in ClickHouse's order of Path (bytewise). Several plans may share a
// path.
func fillRuns[T timed](b []*plan, xs []T, runs []pathRun, val func(*rollup, int, int64, []T) float64) error {
	i := 0
	for _, run := range runs {
		for i < len(b) && b[i].path < run.path {
			i++
		}
		if i == len(b) || b[i].path != run.path {
			return fmt.Errorf("clickhouse answered rows of %q, which was not asked for or not in order", run.path)
		}
		for j := i; j < len(b) && b[j].path == run.path; j++ {
			if b[j].rows {
				return fmt.Errorf("clickhouse answered rows of %q twice", run.path)
			}
			b[j].rows = true
			if err := fill(b[j], xs[run.lo:run.hi], val); err != nil {
				return err
			}
		}
	}
	return nil
}

// pathRun is one path's rows of a path-sorted answer: items lo to hi.
type pathRun struct {
	path   string
	lo, hi int
}

// errRowLimit is an answer with more rows than the caller allows.
var errRowLimit = errors.New("too many rows")

// decodeByPath decodes a RowBinary answer of (Path String, columns...)
// rows sorted by Path, at most limit of them, dec reading each row's
// columns after the path; it returns the rows and the runs of each path.
func decodeByPath[T any](out []byte, limit int, dec func(*reader) T) ([]T, []pathRun, error) {
	var items []T
	var runs []pathRun
	r := reader{b: out}
	for r.more() {
		p := r.bytes()
		x := dec(&r)
		if r.err != nil {
			break
		}
		if len(items) == limit {
			return nil, nil, errRowLimit
		}
		if n := len(runs); n == 0 || runs[n-1].path != string(p) {
			if n > 0 {
				runs[n-1].hi = len(items)
			}
			runs = append(runs, pathRun{path: string(p), lo: len(items)})
		}
		items = append(items, x)
	}
	if n := len(runs); n > 0 {
		runs[n-1].hi = len(items)
	}
	return items, runs, r.err
}

// decodeRow reads a (Time UInt32, Timestamp UInt32, Value Float64) row.
func decodeRow(r *reader) vrow {
	t := r.u32()
	ver := r.u32()
	return vrow{t: int64(t), ver: ver, v: r.f64()}
}

// decodeCell reads a cell: Time, Float64, 3 × UInt32.
func decodeCell(r *reader) cell {
	c := cell{t: int64(r.u32()), agg: r.f64(), n: r.u32(), raw: r.u32()}
	c.tmin = int64(r.u32())
	return c
}
