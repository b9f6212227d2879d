package clickhouse

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/plumbago/plumbago/storage/schema"
)

// A read of a coarse archive (k >= 1) pushes the first level of whisper's
// propagation into ClickHouse: one query resolves duplicate versions of a
// Time (argMax on Timestamp), keeps the latest row of each finest slot
// (level 0), and aggregates the level-0 values of each level-1 slot with
// the method, counting them. Plumbago then applies the xFilesFactor per
// level-1 slot with that count (exactly as before), and computes any
// coarser level from the level-1 cells as whisper's propagation does. So
// one row crosses the wire per level-1 slot instead of one per point.

// cell is one level-1 slot as ClickHouse computed it.
type cell struct {
	t    int64   // the slot's start
	agg  float64 // the method's aggregate of the known level-0 values (sum for average and avg_zero)
	n    uint32  // known (non-NaN) level-0 values
	raw  uint32  // rows in the slot
	tmin int64   // the earliest row's Time
}

// cellBytes is the RowBinary size of a cell: Time, Float64, 3 × UInt32.
const cellBytes = 4 + 8 + 4 + 4 + 4

// pushdownAgg returns the ClickHouse aggregate over the level-0 values v0
// (times t0) that gives method m's aggregate in whisper's order, and false
// for methods computed in Plumbago from every row. Sums add in time order
// (the subquery is sorted and read as one stream), as whisper's sum() does.
// absmax and absmin break ties by time, which one aggregate cannot say.
func pushdownAgg(m schema.Method) (string, bool) {
	switch m {
	case schema.Average, schema.Sum, schema.AvgZero:
		return "sumIf(v0, NOT isNaN(v0))", true
	case schema.Last:
		return "argMaxIf(v0, t0, NOT isNaN(v0))", true
	case schema.Max:
		return "maxIf(v0, NOT isNaN(v0))", true
	case schema.Min:
		return "minIf(v0, NOT isNaN(v0))", true
	}
	return "", false
}

// readCells reads name's level-1 cells in [from, until) (both aligned to
// step1), sorted by time, for finest step step0.
func (s *Store) readCells(ctx context.Context, name string, from, until, step0, step1 int64, agg string) ([]cell, error) {
	d0 := time.Unix(max(from-86400, 0), 0).UTC().Format(time.DateOnly)
	d1 := time.Unix(until+86400, 0).UTC().Format(time.DateOnly)
	q := fmt.Sprintf("SELECT toUInt32(intDiv(t0, %[7]d) * %[7]d) AS t1, %[8]s, toUInt32(countIf(NOT isNaN(v0))), toUInt32(sum(c)), toUInt32(min(m)) FROM ("+
		"SELECT intDiv(Time, %[6]d) * %[6]d AS t0, argMax(v, Time) AS v0, count() AS c, min(Time) AS m FROM ("+
		"SELECT Time, argMax(Value, Timestamp) AS v FROM %[1]s.%[2]s WHERE Path = %[3]s AND Date >= toDate('%[4]s') AND Date <= toDate('%[5]s') AND Time >= %[9]d AND Time < %[10]d GROUP BY Time"+
		") GROUP BY t0 ORDER BY t0) GROUP BY t1 ORDER BY t1 FORMAT RowBinary",
		s.t.Database, s.t.Points, quote(name), d0, d1, step0, step1, agg, from, until)
	out, err := s.cl.query(ctx, q)
	if err != nil {
		return nil, err
	}
	s.fetchBytes.Add(uint64(len(out)))
	cells, err := decodeCells(out, int((until-from)/step1))
	s.fetchRows.Add(uint64(len(cells)))
	return cells, err
}

// decodeCells decodes a RowBinary answer of cells, at most limit of them.
func decodeCells(out []byte, limit int) ([]cell, error) {
	if len(out)%cellBytes != 0 {
		return nil, errShortRow
	}
	if len(out)/cellBytes > limit {
		return nil, fmt.Errorf("clickhouse answered %d cells for %d slots", len(out)/cellBytes, limit)
	}
	cells := make([]cell, 0, len(out)/cellBytes)
	r := reader{b: out}
	for r.more() {
		c := cell{t: int64(r.u32()), agg: r.f64(), n: r.u32(), raw: r.u32()}
		c.tmin = int64(r.u32())
		cells = append(cells, c)
	}
	return cells, r.err
}

// one is the value of a slot holding one row: that row's value.
func (c *cell) one() float64 {
	if c.n == 0 {
		return math.NaN()
	}
	return c.agg
}

// level1 returns the value of the level-1 slot c: whisper's propagation
// of its level-0 values, or the row ClickHouse rolled it up to.
func (r *rollup) level1(c *cell) float64 {
	if r.now-c.t >= r.rets[0].MaxRetention() && c.raw == 1 && c.tmin == c.t {
		return c.one()
	}
	total := int(r.rets[1].SecondsPerPoint / r.rets[0].SecondsPerPoint)
	if c.n == 0 || float64(c.n)/float64(total) < r.xff {
		return math.NaN()
	}
	switch r.method {
	case schema.Average:
		return c.agg / float64(c.n)
	case schema.AvgZero:
		return c.agg / float64(max(total, int(c.n)))
	}
	return c.agg
}

// cellValue returns the value of level j's slot starting at start (j >=
// 1) from its level-1 cells (sorted, all in the slot), as value does from
// rows.
func (r *rollup) cellValue(j int, start int64, cells []cell) float64 {
	if len(cells) == 0 {
		return math.NaN()
	}
	if j == 1 {
		return r.level1(&cells[0])
	}
	if r.now-start >= r.rets[j-1].MaxRetention() && len(cells) == 1 && cells[0].raw == 1 && cells[0].tmin == start {
		return cells[0].one()
	}
	sub := r.rets[j-1].SecondsPerPoint
	total := int(r.rets[j].SecondsPerPoint / sub)
	known := r.known[j][:0]
	for i := 0; i < len(cells); {
		ss := start + (cells[i].t-start)/sub*sub
		k := i
		for k < len(cells) && cells[k].t < ss+sub {
			k++
		}
		if v := r.cellValue(j-1, ss, cells[i:k]); !math.IsNaN(v) {
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
