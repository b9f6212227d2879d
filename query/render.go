package query

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// ApplyMaxDataPoints consolidates series in place for the json format
// exactly as graphite-web's renderViewJson does: with n = timeRange/step
// points over the whole request, a series with more than maxDataPoints
// points gets valuesPerPoint = ceil(n/maxDataPoints), its start nudged so
// buckets align to multiples of step*valuesPerPoint (dropping
// int(nudge/step)-1 leading values), and maxDataPoints == 1 collapses each
// series into one point.
func ApplyMaxDataPoints(list []*Series, maxDataPoints int) {
	if maxDataPoints <= 0 || !anyValues(list) {
		return
	}
	start, end := list[0].Start, list[0].End
	for _, s := range list {
		start = min(start, s.Start)
		end = max(end, s.End)
	}
	timeRange := float64(end - start)
	for _, s := range list {
		if maxDataPoints == 1 {
			s.ValuesPerPoint = len(s.Values)
			continue
		}
		if s.Step <= 0 {
			continue
		}
		n := timeRange / float64(s.Step)
		if float64(maxDataPoints) < n {
			vpp := int64(math.Ceil(n / float64(maxDataPoints)))
			spp := vpp * s.Step
			nudge := spp + pyMod(s.Start, s.Step) - pyMod(s.Start, spp)
			s.Start += nudge
			lose := int(nudge/s.Step) - 1
			if lose > 0 {
				s.Values = s.Values[min(lose, len(s.Values)):]
			}
			s.ValuesPerPoint = int(vpp)
		}
	}
}

func pyMod(a, b int64) int64 {
	m := a % b
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}

func anyValues(list []*Series) bool {
	for _, s := range list {
		if len(s.Values) > 0 {
			return true
		}
	}
	return false
}

// Datapoints calls fn for each (value, timestamp) pair json output would
// write (after ApplyMaxDataPoints).
func Datapoints(s *Series, fn func(v float64, ts int64)) { datapoints(s, fn) }

// datapoints calls fn for each (value, timestamp) of graphite-web's
// TimeSeries.datapoints(): consolidated values zipped with
// range(start, end+1, step*valuesPerPoint).
func datapoints(s *Series, fn func(v float64, ts int64)) {
	vals, stride := pointsOf(s)
	ts := s.Start
	for _, v := range vals {
		if ts > s.End {
			return
		}
		fn(v, ts)
		ts += stride
	}
}

// pointsOf returns the consolidated values and the timestamp stride
// (no values for a non-positive step).
func pointsOf(s *Series) ([]float64, int64) {
	stride := s.Step * int64(max(s.ValuesPerPoint, 1))
	if stride <= 0 {
		return nil, 1
	}
	return s.Consolidated(), stride
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as Python's json.dumps (ensure_ascii)
// writes it.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b = append(b, '\\', '"')
			case c == '\\':
				b = append(b, '\\', '\\')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r > 0xffff {
			r -= 0x10000
			b = appendU(b, 0xd800+(r>>10))
			b = appendU(b, 0xdc00+(r&0x3ff))
		} else {
			b = appendU(b, r)
		}
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[(r>>12)&15], hexDigits[(r>>8)&15], hexDigits[(r>>4)&15], hexDigits[r&15])
}

// AppendRaw appends graphite-web's raw format: one line per series,
// "name,start,end,step|v1,v2,..." with None for missing values.
func AppendRaw(b []byte, list []*Series) []byte {
	for _, s := range list {
		b = append(b, s.Name...)
		b = append(b, ',')
		b = strconv.AppendInt(b, s.Start, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, s.End, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, s.Step, 10)
		b = append(b, '|')
		for i, v := range s.Consolidated() {
			if i > 0 {
				b = append(b, ',')
			}
			if math.IsNaN(v) {
				b = append(b, "None"...)
			} else {
				b = appendNumber(b, v, s.IntValues)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// AppendCSV appends graphite-web's csv format (excel dialect): rows
// name,YYYY-MM-DD HH:MM:SS,value with the time in loc and an empty value
// for None.
func AppendCSV(b []byte, list []*Series, loc *time.Location) []byte {
	if loc == nil {
		loc = time.UTC
	}
	for _, s := range list {
		name := csvField(s.Name)
		for i, v := range s.Consolidated() {
			b = append(b, name...)
			b = append(b, ',')
			b = time.Unix(s.Start+int64(i)*s.Step, 0).In(loc).AppendFormat(b, "2006-01-02 15:04:05")
			b = append(b, ',')
			if !math.IsNaN(v) {
				b = appendNumber(b, v, s.IntValues)
			}
			b = append(b, '\r', '\n')
		}
	}
	return b
}

// csvField quotes a field as Python's csv module (QUOTE_MINIMAL) does.
func csvField(s string) string {
	need := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\r' || c == '\n' {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
