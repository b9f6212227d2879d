package query

import (
	"math"
	"regexp"
	"strings"
)

// Tag is one tag of a series.
type Tag struct{ Key, Value string }

// Tags is an insertion-ordered tag set, like the Python dict graphite-web
// serialises (the order shows in json output).
type Tags []Tag

// Get returns the value of key.
func (t Tags) Get(key string) (string, bool) {
	for _, kv := range t {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Set sets key, keeping its position if present.
func (t *Tags) Set(key, value string) {
	for i := range *t {
		if (*t)[i].Key == key {
			(*t)[i].Value = value
			return
		}
	}
	*t = append(*t, Tag{key, value})
}

// Delete removes key.
func (t *Tags) Delete(key string) {
	for i := range *t {
		if (*t)[i].Key == key {
			*t = append((*t)[:i], (*t)[i+1:]...)
			return
		}
	}
}

// Clone returns a copy.
func (t Tags) Clone() Tags { return append(Tags(nil), t...) }

// Series is a graphite-web TimeSeries: Values[i] is the value at
// Start+i*Step (NaN = None). End is graphite-web's end, which is not always
// Start+len*Step.
type Series struct {
	Name              string
	PathExpression    string
	Tags              Tags
	Start, End, Step  int64
	Values            []float64
	ConsolidationFunc string
	XFilesFactor      float64
	ValuesPerPoint    int
	// IntValues marks values graphite-web computes as Python ints (counts);
	// they print without ".0".
	IntValues bool
	// Color is the colour set by color(), threshold() or verticalLine()
	// ("" = the graph's next colorList colour); Graph holds the rest of
	// graphite-web's series.options. Both only style drawn graphs.
	Color string
	Graph GraphOptions
}

// GraphOptions are graphite-web's series.options set by the Graph
// functions: what a drawn graph does with the series.
type GraphOptions struct {
	Alpha          float64 // alpha(); 0 = not set
	LineWidth      float64 // lineWidth(); 0 = not set
	Dashed         float64 // dashed() dash length; 0 = not dashed
	HasAlpha       bool
	HasLineWidth   bool
	SecondYAxis    bool // secondYAxis()
	DrawAsInfinite bool // drawAsInfinite(), verticalLine()
	Stacked        bool // stacked(), areaBetween()
	Invisible      bool // areaBetween()'s lower series
}

// Copy returns a deep copy.
func (s *Series) Copy() *Series {
	c := *s
	c.Tags = s.Tags.Clone()
	c.Values = append([]float64(nil), s.Values...)
	return &c
}

// NewSeries builds a series the way graphite-web's TimeSeries constructor
// does: tags parsed from the name (name;tag=value) unless the name looks
// like a function call, consolidation average, valuesPerPoint 1.
func NewSeries(name string, start, end, step int64, values []float64, xff float64) *Series {
	return &Series{
		Name: name, PathExpression: name, Tags: ParseTags(name),
		Start: start, End: end, Step: step, Values: values,
		ConsolidationFunc: "average", XFilesFactor: xff, ValuesPerPoint: 1,
	}
}

var funcLike = regexp.MustCompile(`(?i)^[a-z]+[(].+[)]$`)

// ParseTags returns the tags graphite-web derives from a series name:
// carbon's name;tag=value;... syntax with the name (minus leading '~') as
// tag "name"; a name that fails to parse or looks like a function call
// gets just {"name": name}.
func ParseTags(name string) Tags {
	plain := Tags{{"name", name}}
	if funcLike.MatchString(name) {
		return plain
	}
	if !strings.Contains(name, ";") {
		if strings.TrimLeft(name, "~") == "" {
			return plain
		}
		return Tags{{"name", strings.TrimLeft(name, "~")}}
	}
	segs := strings.Split(name, ";")
	metric := segs[0]
	if metric == "" {
		return plain
	}
	var tags Tags
	for _, seg := range segs[1:] {
		k, v, ok := strings.Cut(seg, "=")
		if !ok || k == "" || v == "" || strings.ContainsAny(k, ";!^=") || v[0] == '~' {
			return plain
		}
		tags.Set(k, v)
	}
	m := strings.TrimLeft(metric, "~")
	if m == "" {
		return plain
	}
	tags.Set("name", m)
	return tags
}

// Consolidated returns the values as graphite-web iterates them: grouped by
// ValuesPerPoint with ConsolidationFunc when that is > 1. The result may
// alias s.Values.
func (s *Series) Consolidated() []float64 {
	vpp := s.ValuesPerPoint
	if vpp <= 1 {
		return s.Values
	}
	out := make([]float64, (len(s.Values)+vpp-1)/vpp)
	switch s.ConsolidationFunc {
	case "max", "min", "first", "last":
		for k := range out {
			i := k * vpp
			out[k] = consolidateBucket(s.Values[i:min(i+vpp, len(s.Values))], vpp, s.ConsolidationFunc, s.XFilesFactor)
		}
	case "sum":
		sumBuckets(out, s.Values, vpp, s.XFilesFactor, bucketSum)
	case "avg_zero":
		sumBuckets(out, s.Values, vpp, s.XFilesFactor, bucketAvgZero)
	default: // average, avg
		sumBuckets(out, s.Values, vpp, s.XFilesFactor, bucketAverage)
	}
	return out
}

// What sumBuckets makes of a bucket's sum.
const (
	bucketSum     = iota // the sum
	bucketAvgZero        // divided by the bucket's length (nulls as 0)
	bucketAverage        // divided by the non-null values' count
)

// sumBuckets is consolidateBucket for sum, avg_zero and average over
// every bucket of vals into out (len(out) buckets of vpp, the last maybe
// shorter): the same additions in the same order and the same
// xFilesFactor test, without the first, last, min and max that those
// functions do not read, nor a call and a switch on the function's name
// per bucket. mode is one of bucketSum, bucketAvgZero, bucketAverage.
// The ratio of non-null values is positive, so it is worked out only
// for an xFilesFactor above 0 (graphite-web's default is 0).
func sumBuckets(out, vals []float64, vpp int, xff float64, mode int) {
	for k := range out {
		i := k * vpp
		b := vals[i:min(i+vpp, len(vals))]
		nonNull := 0
		sum := 0.0
		for _, v := range b {
			if v == v { // not NaN
				nonNull++
				sum += v
			}
		}
		switch {
		case nonNull == 0 || xff > 0 && float64(nonNull)/float64(vpp) < xff:
			out[k] = math.NaN()
		case mode == bucketSum:
			out[k] = sum
		case mode == bucketAvgZero:
			out[k] = sum / float64(len(b))
		default:
			out[k] = sum / float64(nonNull)
		}
	}
}

// consolidateBucket applies a consolidation function to one bucket of
// size vpp (the final bucket may be shorter but the xFilesFactor ratio
// still divides by vpp, as graphite-web does).
func consolidateBucket(vals []float64, vpp int, fn string, xff float64) float64 {
	nonNull := 0
	sum := 0.0
	first, last := math.NaN(), math.NaN()
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		if nonNull == 0 {
			first = v
		}
		last = v
		nonNull++
		sum += v
		mn = min(mn, v)
		mx = max(mx, v)
	}
	if nonNull == 0 || float64(nonNull)/float64(vpp) < xff {
		return math.NaN()
	}
	switch fn {
	case "sum":
		return sum
	case "avg_zero":
		return sum / float64(len(vals))
	case "max":
		return mx
	case "min":
		return mn
	case "first":
		return first
	case "last":
		return last
	default: // average, avg
		return sum / float64(nonNull)
	}
}

// ValidConsolidation reports whether graphite-web's TimeSeries accepts fn.
func ValidConsolidation(fn string) bool {
	switch fn {
	case "sum", "average", "avg", "avg_zero", "max", "min", "first", "last":
		return true
	}
	return false
}

// copyWith is graphite-web's TimeSeries.copy(name=..., values=...): same
// time frame, tags (shared), consolidation and xFilesFactor; the path
// expression becomes the new name and valuesPerPoint 1.
func (s *Series) copyWith(name string, values []float64) *Series {
	return &Series{
		Name: name, PathExpression: name, Tags: s.Tags,
		Start: s.Start, End: s.End, Step: s.Step, Values: values,
		ConsolidationFunc: s.ConsolidationFunc, XFilesFactor: s.XFilesFactor, ValuesPerPoint: 1,
	}
}
