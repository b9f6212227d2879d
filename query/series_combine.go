package query

// Series arithmetic shared by the function groups: normalising lists to one
// step, aggregate, percentiles, safe power and product, constant lines.

import (
	"math"
	"slices"
	"strings"
)

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int64) int64 {
	if a == b {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a / gcd(a, b) * b
}

// normalize is graphite-web's normalize(): all series on the LCM step
// (finer ones consolidated by their own function), start = min start,
// end = max end trimmed to whole steps. ok is false for no series.
func normalize(lists [][]*Series) (all []*Series, start, end, step int64, ok bool) {
	for _, l := range lists {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return nil, 0, 0, 0, false
	}
	step = all[0].Step
	for _, s := range all[1:] {
		step = lcm(step, s.Step)
	}
	start, end = all[0].Start, all[0].End
	for _, s := range all {
		if s.Step > 0 {
			s.ValuesPerPoint = int(step / s.Step)
		}
		start = min(start, s.Start)
		end = max(end, s.End)
	}
	if step > 0 {
		end -= (end - start) % step
	}
	return all, start, end, step, true
}

// formatPathExpressions joins the distinct path expressions in order.
func formatPathExpressions(list []*Series) string {
	var seen []string
	for _, s := range list {
		dup := false
		for _, p := range seen {
			if p == s.PathExpression {
				dup = true
				break
			}
		}
		if !dup {
			seen = append(seen, s.PathExpression)
		}
	}
	return strings.Join(seen, ",")
}

// commonTags keeps the tags of the first series that every series shares.
func commonTags(list []*Series) Tags {
	var tags Tags
	for _, kv := range list[0].Tags {
		keep := true
		for _, s := range list[1:] {
			if v, ok := s.Tags.Get(kv.Key); !ok || v != kv.Value {
				keep = false
				break
			}
		}
		if keep {
			tags = append(tags, kv)
		}
	}
	return tags
}

// xffOK is graphite-web's xff(): some non-null values and a non-null
// share of at least xFilesFactor.
func xffOK(nonNull, total int, xff float64) bool {
	if nonNull == 0 || total == 0 {
		return false
	}
	return float64(nonNull)/float64(total) >= xff
}

// aggregate is graphite-web's aggregate(): one series combining the
// lists row by row. xff NaN means the request's xFilesFactor.
func aggregate(e *Env, lists [][]*Series, fn, rawFn string, xff float64) ([]*Series, error) {
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", rawFn)
	}
	all, start, end, step, ok := normalize(lists)
	if !ok {
		return nil, nil
	}
	if math.IsNaN(xff) {
		xff = e.XFilesFactor
	}
	cols := make([][]float64, len(all))
	rows := 0
	for i, s := range all {
		cols[i] = s.Consolidated()
		rows = max(rows, len(cols[i]))
	}
	values := make([]float64, rows)
	if fn == "sum" || fn == "average" {
		foldSumAvg(values, cols, fn == "average", xff)
	} else {
		aggregateRows(values, cols, agg, xff)
	}
	name := fn + "Series(" + formatPathExpressions(all) + ")"
	tags := commonTags(all)
	if _, ok := tags.Get("name"); !ok {
		tags.Set("name", name)
	}
	tags.Set("aggregatedBy", fn)
	s := NewSeries(name, start, end, step, values, xff)
	s.Tags = tags
	s.IntValues = fn == "count"
	return []*Series{s}, nil
}

// aggregateRows sets values[r] to agg of row r of cols (a missing value
// is NaN), or NaN where the row's non-null share fails xff.
func aggregateRows(values []float64, cols [][]float64, agg AggFunc, xff float64) {
	row := make([]float64, len(cols))
	for r := range values {
		nonNull := 0
		for i, c := range cols {
			if r < len(c) {
				row[i] = c[r]
			} else {
				row[i] = math.NaN()
			}
			if !math.IsNaN(row[i]) {
				nonNull++
			}
		}
		if xffOK(nonNull, len(row), xff) {
			values[r] = agg(row)
		} else {
			values[r] = math.NaN()
		}
	}
}

// foldSumAvg is aggregateRows for safeSum (avg false) and safeAvg (avg
// true) series by series instead of row by row: each row's sum is the
// same additions in the same order (0.0, then every non-null value in
// series order), so the results are bit for bit those of the row-wise
// functions, while each series is read once, in order.
func foldSumAvg(values []float64, cols [][]float64, avg bool, xff float64) {
	counts := make([]int32, len(values))
	clear(values)
	for _, c := range cols {
		c = c[:min(len(c), len(values))]
		for r, x := range c {
			if x == x { // not NaN
				values[r] += x
				counts[r]++
			}
		}
	}
	for r, n := range counts {
		switch {
		case !xffOK(int(n), len(cols), xff):
			values[r] = math.NaN()
		case avg:
			values[r] /= float64(n)
		}
	}
}

// percentile is graphite-web's _getPercentile.
func percentile(points []float64, n float64, interpolate bool) float64 {
	var sorted []float64
	for _, p := range points {
		if !math.IsNaN(p) {
			sorted = append(sorted, p)
		}
	}
	if len(sorted) == 0 {
		return math.NaN()
	}
	slices.Sort(sorted)
	frac := (n / 100.0) * float64(len(sorted)+1)
	rank := int(frac)
	rankFrac := frac - float64(rank)
	if !interpolate {
		rank += int(math.Ceil(rankFrac))
	}
	var p float64
	switch {
	case rank == 0:
		p = sorted[0]
	case rank-1 == len(sorted):
		p = sorted[len(sorted)-1]
	default:
		i := rank - 1
		if i < 0 {
			i += len(sorted)
		}
		if i < 0 || i >= len(sorted) {
			return math.NaN()
		}
		p = sorted[i]
	}
	if interpolate && rank != len(sorted) {
		if rank < 0 || rank >= len(sorted) {
			return p
		}
		p = p + rankFrac*(sorted[rank]-p)
	}
	return p
}

// safePow is graphite-web's safePow over Python's math.pow: None on
// missing input, domain errors (0 to a negative power, negative to a
// fractional one) and overflow.
func safePow(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	if a == 0 && b < 0 {
		return math.NaN()
	}
	r := math.Pow(a, b)
	if math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
		return math.NaN()
	}
	return r
}

// constantLine is graphite-web's constantLine with str(value) given.
func constantLine(e *Env, value float64, str string) *Series {
	step := int64(math.Trunc(float64(e.Until-e.From) / 2.0))
	s := NewSeries(str, e.From, e.Until, step, []float64{value, value, value}, e.XFilesFactor)
	s.PathExpression = "constantLine(" + str + ")"
	return s
}

// safeMul2 is safeMul(a, b): None if either is None.
func safeMul2(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a * b
}

// maxGenerated is Limits.MaxGeneratedPoints: the points one function may
// create for one series.
func (e *Env) maxGenerated() int64 { return int64(e.ev.limits.MaxGeneratedPoints) }
