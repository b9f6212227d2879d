package api

import (
	"fmt"
	"math"
	"strconv"

	"github.com/plumbago/plumbago/query"
)

// pyRangeLen is len(range(start, end, step)) for a positive step (0 rows
// otherwise).
func pyRangeLen(start, end, step int64) int64 {
	if step <= 0 || end <= start {
		return 0
	}
	return (end - start + step - 1) / step
}

// appendPyNumber writes v as Python's str() of the value graphite-web
// holds: an int for integral values of int series, else float repr.
// NaN is written as nan, ±Inf as inf/-inf (callers map them first).
func appendPyNumber(b []byte, v float64, isInt bool) []byte {
	if isInt && v == math.Trunc(v) && math.Abs(v) < 1e18 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return query.AppendFloatRepr(b, v)
}

// appendDygraph writes graphite-web's renderViewDygraph output:
// {"labels" : ["Time", names...], "data" : [[ts000, v1, v2, ...], ...]}.
// Rows come from the first series' range(start, end, step); every series'
// values are placed by index (not by timestamp), as graphite-web does.
// graphite-web fails (500) when a series has more or fewer values than the
// first has rows; that is reported as an error here.
func appendDygraph(b []byte, list []*query.Series) ([]byte, error) {
	if len(list) == 0 {
		return append(b, "{}"...), nil
	}
	first := list[0]
	rows := pyRangeLen(first.Start, first.End, first.Step)
	cols := make([][]float64, len(list))
	for i, s := range list {
		vals := s.Consolidated()
		if int64(len(vals)) != rows {
			return b, fmt.Errorf("format=dygraph needs series of equal length: %q has %d values, the first series %d rows", s.Name, len(vals), rows)
		}
		cols[i] = vals
	}
	b = append(b, `{"labels" : ["Time"`...)
	for _, s := range list {
		b = append(b, ", "...)
		b = query.AppendJSONString(b, s.Name)
	}
	b = append(b, `], "data" : [`...)
	ts := first.Start
	for r := int64(0); r < rows; r++ {
		if r > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, "000"...)
		for i, s := range list {
			b = append(b, ", "...)
			b = appendChartValue(b, cols[i][r], s.IntValues)
		}
		b = append(b, ']')
		ts += first.Step
	}
	return append(b, "]}"...), nil
}

// appendRickshaw writes graphite-web's renderViewRickshaw output:
// [{"target": name, "datapoints": [{"x": ts, "y": v}, ...]}, ...] with
// json.dumps spacing (indent=2 when pretty). Timestamps are
// range(start, end, step) zipped with the (consolidated) values; null for
// missing values and bare Infinity/-Infinity, as Python's json writes them.
func appendRickshaw(b []byte, list []*query.Series, pretty bool) []byte {
	if len(list) == 0 {
		return append(b, "[]"...)
	}
	nl := func(b []byte, level int) []byte {
		if !pretty {
			return b
		}
		return indentLine(b, level)
	}
	sep := ", "
	if pretty {
		sep = ","
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, sep...)
		}
		b = nl(b, 1)
		b = append(b, '{')
		b = nl(b, 2)
		b = append(b, `"target": `...)
		b = query.AppendJSONString(b, s.Name)
		b = append(b, sep...)
		b = nl(b, 2)
		b = append(b, `"datapoints": [`...)
		vals := s.Consolidated()
		n := min(int64(len(vals)), pyRangeLen(s.Start, s.End, s.Step))
		ts := s.Start
		for j := int64(0); j < n; j++ {
			if j > 0 {
				b = append(b, sep...)
			}
			b = nl(b, 3)
			b = append(b, '{')
			b = nl(b, 4)
			b = append(b, `"x": `...)
			b = strconv.AppendInt(b, ts, 10)
			b = append(b, sep...)
			b = nl(b, 4)
			b = append(b, `"y": `...)
			b = appendChartValue(b, vals[j], s.IntValues)
			b = nl(b, 3)
			b = append(b, '}')
			ts += s.Step
		}
		if n > 0 {
			b = nl(b, 2)
		}
		b = append(b, ']')
		b = nl(b, 1)
		b = append(b, '}')
	}
	b = nl(b, 0)
	return append(b, ']')
}

// appendChartFormat renders the dygraph or rickshaw format, wrapped as
// jsonp(...) when the request has jsonp. graphite-web applies neither
// maxDataPoints nor noNullPoints to these formats.
func appendChartFormat(r *renderRequest, list []*query.Series, pretty bool) ([]byte, error) {
	var b []byte
	if r.hasJSONP {
		b = append(append(b, r.jsonp...), '(')
	}
	if r.format == "dygraph" {
		var err error
		if b, err = appendDygraph(b, list); err != nil {
			return nil, err
		}
	} else {
		b = appendRickshaw(b, list, pretty)
	}
	if r.hasJSONP {
		b = append(b, ')')
	}
	return b, nil
}

func chartContentType(r *renderRequest) string {
	if r.hasJSONP {
		return "text/javascript"
	}
	return "application/json"
}

// appendChartValue appends v as Python's json.dumps writes it in the
// dygraph and rickshaw answers: null for a missing value, Infinity and
// -Infinity, the number otherwise.
func appendChartValue(b []byte, v float64, intValues bool) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "null"...)
	case math.IsInf(v, 1):
		return append(b, "Infinity"...)
	case math.IsInf(v, -1):
		return append(b, "-Infinity"...)
	}
	return appendPyNumber(b, v, intValues)
}
