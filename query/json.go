package query

import (
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
)

// AppendJSON appends graphite-web's json output for list (after
// ApplyMaxDataPoints): [{"target": ..., "tags": {...}, "datapoints":
// [[v, ts], ...]}, ...] with Python's json.dumps spacing, None/NaN as null
// and ±Infinity as ±1e9999. noNullPoints drops null points and then
// series left empty.
//
// An answer of at least parallelJSONPoints points is encoded on up to
// GOMAXPROCS goroutines, each a run of whole series, and joined in order:
// the same bytes as one goroutine writes.
func AppendJSON(b []byte, list []*Series, noNullPoints bool) []byte {
	b = append(b, '[')
	if !anyValues(list) {
		return append(b, ']')
	}
	points := make([]int, len(list))
	total := 0
	for i, s := range list {
		points[i] = jsonPoints(s)
		total += points[i]
	}
	if w := min(runtime.GOMAXPROCS(0), len(list), maxJSONWorkers); w > 1 && total >= parallelJSONPoints {
		b = appendJSONParallel(b, list, points, total, w, noNullPoints)
	} else {
		b, _ = appendJSONRun(b, list, points, noNullPoints)
	}
	return append(b, ']')
}

const (
	// parallelJSONPoints is the smallest answer encoded in parallel: about
	// 2 ms of encoding, far above a goroutine's start.
	parallelJSONPoints = 50_000
	maxJSONWorkers     = 16
	// jsonPointBytes is the room reserved per point before any is
	// written: "[12345.678901234567, 1700000000], " is 36 bytes.
	jsonPointBytes = 36
)

// jsonPoints is the number of points AppendJSON writes for s at most.
func jsonPoints(s *Series) int {
	vpp := max(s.ValuesPerPoint, 1)
	return (len(s.Values) + vpp - 1) / vpp
}

// jsonRun is one run of whole series of an answer encoded in parallel,
// held in chunks (appendJSONChunks).
type jsonRun struct {
	chunks [][]byte
	wrote  bool
	lo, hi int
}

// encodeJSONRuns splits list into w runs of about equal points and
// encodes them, the first on the calling goroutine and the others on
// goroutines of their own, each into pooled chunks the caller puts back
// (putRunBuf).
func encodeJSONRuns(list []*Series, points []int, total, w int, noNullPoints bool) []jsonRun {
	runs := make([]jsonRun, 0, w)
	lo, acc := 0, 0
	for i := range list {
		acc += points[i]
		if acc*w >= total*(len(runs)+1) || i == len(list)-1 {
			runs = append(runs, jsonRun{lo: lo, hi: i + 1})
			lo = i + 1
		}
	}
	encode := func(r *jsonRun) {
		r.chunks, r.wrote = appendJSONChunks(list[r.lo:r.hi], points[r.lo:r.hi], noNullPoints)
	}
	var wg sync.WaitGroup
	for k := 1; k < len(runs); k++ {
		wg.Add(1)
		go func(r *jsonRun) {
			defer wg.Done()
			encode(r)
		}(&runs[k])
	}
	encode(&runs[0])
	wg.Wait()
	return runs
}

// appendJSONParallel encodes list in w runs of whole series of about
// equal points on goroutines, then appends them to b in order.
func appendJSONParallel(b []byte, list []*Series, points []int, total, w int, noNullPoints bool) []byte {
	runs := encodeJSONRuns(list, points, total, w, noNullPoints)
	n := 0
	for _, r := range runs {
		for _, c := range r.chunks {
			n += len(c) + 2
		}
	}
	b = slices.Grow(b, n)
	wrote := false
	for _, r := range runs {
		if r.wrote {
			if wrote {
				b = append(b, ", "...)
			}
			wrote = true
			for _, c := range r.chunks {
				b = append(b, c...)
			}
		}
		for _, c := range r.chunks {
			putRunBuf(c)
		}
	}
	return b
}

// runBufs holds the chunks of encoded answers between answers (the pool
// drops what no garbage collection cycle used), so a big answer is
// written into memory already in use instead of fresh, zeroed
// allocations.
var runBufs sync.Pool

// getRunBuf returns an empty chunk of jsonChunkBytes or more.
func getRunBuf() []byte {
	if p, ok := runBufs.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, jsonChunkBytes)
}

func putRunBuf(b []byte) {
	if cap(b) >= jsonChunkBytes && cap(b) <= maxRunBuf {
		runBufs.Put(&b)
	}
}

const (
	// jsonChunkBytes is the size of the chunks a large answer is
	// encoded into: each sent as it is, none copied into a buffer of
	// the whole answer.
	jsonChunkBytes = 1 << 20
	// maxRunBuf is the largest chunk kept for reuse (one grown past
	// jsonChunkBytes by a series bigger than its estimate): a sync.Pool
	// keeps what it holds through one garbage collection (its victim
	// cache), so big buffers kept here stayed live after a spike of
	// large renders (TestMemoryReturnsAfterSpike) until a second cycle
	// ran.
	maxRunBuf = 4 << 20
)

// appendJSONChunks encodes list's series objects separated by ", " into
// pooled chunks (getRunBuf), a series started in a new chunk when the
// room left in the current one is less than its estimate (the bytes per
// point written so far), and reports whether it wrote any (noNullPoints
// skips series without a value). A series larger than a chunk gets a
// buffer of its own.
func appendJSONChunks(list []*Series, points []int, noNullPoints bool) ([][]byte, bool) {
	var chunks [][]byte
	cur := getRunBuf()
	wrote := false
	per := jsonPointBytes
	for i, s := range list {
		if noNullPoints && !hasValue(s) {
			continue
		}
		if need := 128 + 2*len(s.Name) + per*points[i] + per*points[i]/8; cap(cur)-len(cur) < need {
			if len(cur) > 0 {
				chunks = append(chunks, cur)
				cur = getRunBuf()
			}
			if cap(cur) < need {
				putRunBuf(cur)
				cur = make([]byte, 0, need)
			}
		}
		if wrote {
			cur = append(cur, ", "...)
		}
		wrote = true
		start := len(cur)
		cur = appendJSONSeries(cur, s, noNullPoints)
		if points[i] > 0 {
			per = (len(cur)-start)/points[i] + 2
		}
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	} else {
		putRunBuf(cur)
	}
	return chunks, wrote
}

// appendJSONRun appends list's series objects separated by ", " and
// reports whether it wrote any (noNullPoints skips series without a
// value). Room is reserved ahead from the bytes per point written so far,
// so the buffer grows a few times, not by doubling from small.
func appendJSONRun(b []byte, list []*Series, points []int, noNullPoints bool) ([]byte, bool) {
	left := 0
	for _, n := range points {
		left += n
	}
	start, done := len(b), 0
	wrote := false
	for i, s := range list {
		if need := 128 + 2*len(s.Name) + jsonPointBytes*points[i]; cap(b)-len(b) < need {
			per := jsonPointBytes
			if done > 0 {
				per = (len(b)-start)/done + 2
			}
			b = slices.Grow(b, max(need, 128*(len(list)-i)+per*left+per*left/8))
		}
		left -= points[i]
		done += points[i]
		if noNullPoints && !hasValue(s) {
			continue
		}
		if wrote {
			b = append(b, ", "...)
		}
		wrote = true
		b = appendJSONSeries(b, s, noNullPoints)
	}
	return b, wrote
}

// hasValue reports whether json output of s has a non-null point.
func hasValue(s *Series) bool {
	has := false
	datapoints(s, func(v float64, _ int64) {
		if !math.IsNaN(v) {
			has = true
		}
	})
	return has
}

// appendJSONSeries appends one series object.
func appendJSONSeries(b []byte, s *Series, noNullPoints bool) []byte {
	b = append(b, `{"target": `...)
	b = AppendJSONString(b, s.Name)
	b = append(b, `, "tags": {`...)
	for i, kv := range s.Tags {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = AppendJSONString(b, kv.Key)
		b = append(b, ": "...)
		b = AppendJSONString(b, kv.Value)
	}
	b = append(b, `}, "datapoints": [`...)
	vals, stride := pointsOf(s)
	ts := s.Start
	// The timestamps' text is stepped in place (decCounter) when no sum
	// can leave int64: most series.
	counted := ts >= 0 && stride > 0 && s.End < 1<<62 && stride < 1<<62
	var tsText decCounter
	if counted {
		tsText.set(uint64(ts))
	}
	firstPoint := true
	misses := 0 // values in a row appendFewDecimals could not print
	for _, v := range vals {
		if ts > s.End {
			break
		}
		if noNullPoints && math.IsNaN(v) {
			ts += stride
			if counted {
				tsText.add(uint64(stride))
			}
			continue
		}
		if !firstPoint {
			b = append(b, ", "...)
		}
		firstPoint = false
		b = append(b, '[')
		b = appendSeriesValue(b, v, s.IntValues, &misses)
		b = append(b, ", "...)
		if counted {
			b = append(b, tsText.text()...)
			tsText.add(uint64(stride))
		} else {
			b = strconv.AppendInt(b, ts, 10)
		}
		b = append(b, ']')
		ts += stride
	}
	return append(b, "]}"...)
}

// decCounter is the decimal text of a non-negative integer below 10^20
// that steps up (a series' timestamps): adding a step changes its last
// few digits instead of formatting the whole number again.
type decCounter struct {
	d     [20]byte
	start int // the text is d[start:]
}

func (c *decCounter) set(v uint64) {
	i := len(c.d)
	for {
		i--
		c.d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	c.start = i
}

// add adds n; the sum must stay below 10^20.
func (c *decCounter) add(n uint64) {
	for i := len(c.d) - 1; n > 0 && i >= 0; i-- {
		if i < c.start {
			c.d[i] = '0'
			c.start = i
		}
		x := uint64(c.d[i]-'0') + n
		c.d[i] = byte('0' + x%10)
		n = x / 10
	}
}

func (c *decCounter) text() []byte { return c.d[c.start:] }

func appendJSONValue(b []byte, v float64, isInt bool) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "null"...)
	case math.IsInf(v, 1):
		return append(b, "1e9999"...)
	case math.IsInf(v, -1):
		return append(b, "-1e9999"...)
	}
	return appendNumber(b, v, isInt)
}

// fewDecimalsTries is how many values of a series in a row
// appendFewDecimals may fail to print before it is no longer tried for
// the series' later values (averages and rates: 16-17 digits each).
const fewDecimalsTries = 8

// appendSeriesValue is appendJSONValue for the values of one series,
// misses counting the values in a row appendFewDecimals could not print:
// the same text, without a failing attempt per value.
func appendSeriesValue(b []byte, v float64, isInt bool, misses *int) []byte {
	if isInt || math.IsNaN(v) || math.IsInf(v, 0) {
		return appendJSONValue(b, v, isInt)
	}
	b, few := appendFloatRepr(b, v, *misses < fewDecimalsTries)
	switch {
	case few:
		*misses = 0
	case *misses < fewDecimalsTries:
		*misses++
	}
	return b
}

// appendNumber prints v as Python prints a float, or an int when isInt
// and v is integral.
func appendNumber(b []byte, v float64, isInt bool) []byte {
	if isInt && v == math.Trunc(v) && math.Abs(v) < 1e18 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return AppendFloatRepr(b, v)
}
