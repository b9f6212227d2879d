package clickhouse

import (
	"math"

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
	return fold(r, j, cells, (*rollup).cellValue)
}
