package query

import (
	"math"
	"time"
)

func init() {
	Register("summarize", fnSummarize, FuncMeta{
		Group:       "Transform",
		Description: "Re-buckets the data into intervals (aligned to multiples of the interval, or to 'from' with alignToFrom) aggregated with func (default sum).",
		Params: []Param{
			seriesListParam(),
			{Name: "intervalString", Type: TypeInterval, Required: true, Suggestions: []any{"10min", "1h", "1d"}},
			{Name: "func", Type: TypeAggFunc, Default: "sum", Options: AggFuncNames()},
			{Name: "alignToFrom", Type: TypeBoolean, Default: false},
		},
	})
	Register("hitcount", fnHitcount, FuncMeta{
		Group:       "Transform",
		Description: "Treats values as rates per second and returns the total per interval bucket (buckets end at the series' end, or start at a whole unit with alignToInterval).",
		Params: []Param{
			seriesListParam(),
			{Name: "intervalString", Type: TypeInterval, Required: true, Suggestions: []any{"10min", "1h", "1d"}},
			{Name: "alignToInterval", Type: TypeBoolean, Default: false},
		},
	})
	Register("timeShift", fnTimeShift, FuncMeta{
		Group:       "Transform",
		Description: "Draws the series as it was a given interval earlier (or later with a leading +), re-stamped into the current window.",
		Params: []Param{
			seriesListParam(),
			{Name: "timeShift", Type: TypeInterval, Required: true, Suggestions: []any{"1h", "6h", "12h", "1d", "2d", "7d", "14d", "30d"}},
			{Name: "resetEnd", Type: TypeBoolean, Default: true},
			{Name: "alignDst", Type: TypeBoolean, Default: false},
		},
		Signature: "seriesList, timeShift, resetEnd=True, alignDST=False",
	})
	Register("keepLastValue", fnKeepLastValue, FuncMeta{
		Group:       "Transform",
		Description: "Fills runs of missing values (of at most limit points) with the last value seen before them.",
		Params:      []Param{seriesListParam(), {Name: "limit", Type: TypeIntOrInf, Default: math.Inf(1)}},
	})
	Register("transformNull", fnTransformNull, FuncMeta{
		Group:       "Transform",
		Description: "Replaces missing values with default (0 unless given); with referenceSeries only where some reference series has a value.",
		Params: []Param{
			seriesListParam(),
			{Name: "default", Type: TypeFloat, Default: 0},
			{Name: "referenceSeries", Type: TypeSeriesList},
		},
	})
	Register("consolidateBy", fnConsolidateBy, FuncMeta{
		Group:       "Special",
		Description: "Sets the function used to consolidate points when more points than maxDataPoints are returned.",
		Params: []Param{
			seriesListParam(),
			{Name: "consolidationFunc", Type: TypeString, Required: true, Options: []string{"average", "avg", "avg_zero", "first", "last", "max", "min", "sum"}},
		},
	})
}

// maxGeneratedPoints bounds the points one function may create for one
// series (summarize/hitcount with a tiny interval over a long range).
const maxGeneratedPoints = 5_000_000

func positiveInterval(s string) (int64, error) {
	iv, err := intervalSeconds(s)
	if err != nil {
		return 0, err
	}
	if iv <= 0 {
		return 0, inputErrorf("interval %q must be positive", s)
	}
	return iv, nil
}

func fnSummarize(e *Env, a *Args) ([]*Series, error) {
	ivs := a.String(1, "")
	interval, err := positiveInterval(ivs)
	if err != nil {
		return nil, err
	}
	fn := a.String(2, "sum")
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	alignToFrom := a.Bool(3, false)
	var out []*Series
	for _, s := range a.SeriesList(0) {
		var newStart, newEnd int64
		if alignToFrom {
			newStart, newEnd = s.Start, s.End
		} else {
			newStart = s.Start - pyMod(s.Start, interval)
			newEnd = s.End - pyMod(s.End, interval) + interval
		}
		if (newEnd-newStart)/interval > maxGeneratedPoints {
			return nil, inputErrorf("summarize produces too many points")
		}
		vals, alignedEnd := summarizeValues(s, agg, interval, newStart, newEnd)
		if alignToFrom {
			newEnd = alignedEnd
		}
		s.Tags.Set("summarize", ivs)
		s.Tags.Set("summarizeFunction", fn)
		suffix := ""
		if alignToFrom {
			suffix = ", true"
		}
		ns := s.copyWith("summarize("+s.Name+", \""+ivs+"\", \""+fn+"\""+suffix+")", vals)
		ns.Start, ns.End, ns.Step = newStart, newEnd, interval
		out = append(out, ns)
	}
	return out, nil
}

// summarizeValues is graphite-web's _summarizeValues, including its
// window start rule (a bucket's slice starts at the last point at or
// before the bucket start).
func summarizeValues(s *Series, agg AggFunc, interval, newStart, newEnd int64) ([]float64, int64) {
	data := s.Consolidated()
	var nts int64
	if s.Step > 0 && s.End > s.Start {
		nts = (s.End - s.Start + s.Step - 1) / s.Step
	}
	numPoints := min(int(nts), len(data))
	intervalPoints := float64(interval) / float64(s.Step)
	var vals []float64
	i := 0
	ts := newStart
	for ts < newEnd {
		start := i
		nonNull := 0
		for i < numPoints && s.Start+int64(i)*s.Step < ts+interval {
			t := s.Start + int64(i)*s.Step
			if t <= ts {
				start = i
			}
			if t >= ts && !math.IsNaN(data[i]) {
				nonNull++
			}
			i++
		}
		if nonNull > 0 && intervalPoints > 0 && float64(nonNull)/intervalPoints >= s.XFilesFactor {
			vals = append(vals, agg(data[start:i]))
		} else {
			vals = append(vals, math.NaN())
		}
		ts += interval
	}
	return vals, ts
}

func fnHitcount(e *Env, a *Args) ([]*Series, error) {
	ivs := a.String(1, "")
	interval, err := positiveInterval(ivs)
	if err != nil {
		return nil, err
	}
	align := a.Bool(2, false)
	list := a.SeriesList(0)
	if align {
		t := time.Unix(e.From, 0).In(e.Loc)
		from := e.From
		switch {
		case interval >= 86400:
			from = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, e.Loc).Unix()
		case interval >= 3600:
			from = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, e.Loc).Unix()
		case interval >= 60:
			from = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, e.Loc).Unix()
		}
		list, err = e.EvalRange(a.Value(0).Node, from, e.Until)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			count := (s.End - s.Start) / interval
			s.End = s.Start + count*interval + interval
		}
	}
	var out []*Series
	for _, s := range list {
		step := s.Step
		bucketCount := int64(math.Ceil(float64(s.End-s.Start) / float64(interval)))
		if bucketCount > maxGeneratedPoints || bucketCount < 0 {
			return nil, inputErrorf("hitcount produces too many points")
		}
		buckets := make([]float64, bucketCount)
		used := make([]bool, bucketCount)
		add := func(i int64, v float64) {
			buckets[i] += v
			used[i] = true
		}
		newStart := s.End - bucketCount*interval
		for i, v := range s.Consolidated() {
			if math.IsNaN(v) {
				continue
			}
			startTime := s.Start + int64(i)*step
			sb, sm := pyDivmod(startTime-newStart, interval)
			endTime := startTime + step
			eb, em := pyDivmod(endTime-newStart, interval)
			if eb >= bucketCount {
				eb = bucketCount - 1
				em = interval
			}
			if sb == eb {
				if sb >= 0 {
					add(sb, v*float64(em-sm))
				}
				continue
			}
			if sb >= 0 {
				add(sb, v*float64(interval-sm))
			}
			for j := max(sb+1, 0); j < eb; j++ {
				add(j, v*float64(interval))
			}
			if em > 0 {
				add(eb, v*float64(em))
			}
		}
		vals := make([]float64, bucketCount)
		for i := range vals {
			if used[i] {
				vals[i] = buckets[i]
			} else {
				vals[i] = math.NaN()
			}
		}
		s.Tags.Set("hitcount", ivs)
		suffix := ""
		if align {
			suffix = ", true"
		}
		ns := s.copyWith("hitcount("+s.Name+", \""+ivs+"\""+suffix+")", vals)
		ns.Start, ns.Step = newStart, interval
		out = append(out, ns)
	}
	return out, nil
}

func pyDivmod(a, b int64) (int64, int64) {
	q := a / b
	r := a % b
	if r != 0 && (r < 0) != (b < 0) {
		q--
		r += b
	}
	return q, r
}

func fnTimeShift(e *Env, a *Args) ([]*Series, error) {
	shift := a.String(1, "")
	if shift != "" && shift[0] >= '0' && shift[0] <= '9' {
		shift = "-" + shift
	}
	delta, err := intervalSeconds(shift)
	if err != nil {
		return nil, err
	}
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	first := list[0]
	shifted, err := e.EvalRange(a.Value(0).Node, e.From+delta, e.Until+delta)
	if err != nil {
		return nil, err
	}
	resetEnd := a.Bool(2, true)
	for _, s := range shifted {
		s.Tags.Set("timeShift", shift)
		s.Name = "timeShift(" + s.Name + ", \"" + shift + "\")"
		if resetEnd {
			s.End = first.End
		} else {
			s.End = s.End - s.Start + first.Start
		}
		s.Start = first.Start
	}
	return shifted, nil
}

func fnKeepLastValue(e *Env, a *Args) ([]*Series, error) {
	limit := a.Float(1, math.Inf(1))
	list := a.SeriesList(0)
	for _, s := range list {
		s.Name = "keepLastValue(" + s.Name + ")"
		s.PathExpression = s.Name
		nones := 0
		last := math.NaN()
		v := s.Values
		for i, x := range v {
			if math.IsNaN(x) {
				nones++
				continue
			}
			if nones > 0 && float64(nones) <= limit && !math.IsNaN(last) {
				for k := i - nones; k < i; k++ {
					v[k] = last
				}
			}
			nones = 0
			last = x
		}
		if nones > 0 && float64(nones) <= limit && !math.IsNaN(last) {
			for k := len(v) - nones; k < len(v); k++ {
				v[k] = last
			}
		}
	}
	return list, nil
}

func fnTransformNull(e *Env, a *Args) ([]*Series, error) {
	def := a.Float(1, 0)
	defStr := "0"
	if a.Has(1) {
		defStr = a.Value(1).PyStr()
	}
	var defaults []float64
	ref := a.Has(2) && len(a.SeriesList(2)) > 0
	if ref {
		refs := a.SeriesList(2)
		rows := 0
		cols := make([][]float64, len(refs))
		for i, r := range refs {
			cols[i] = r.Consolidated()
			rows = max(rows, len(cols[i]))
		}
		defaults = make([]float64, rows)
		for r := range defaults {
			defaults[r] = math.NaN()
			for _, c := range cols {
				if r < len(c) && !math.IsNaN(c[r]) {
					defaults[r] = def
					break
				}
			}
		}
	}
	list := a.SeriesList(0)
	for _, s := range list {
		s.Tags.Set("transformNull", defStr)
		if ref {
			s.Tags.Set("referenceSeries", "1")
			s.Name = "transformNull(" + s.Name + "," + FormatG(def) + ",referenceSeries)"
		} else {
			s.Name = "transformNull(" + s.Name + "," + FormatG(def) + ")"
		}
		s.PathExpression = s.Name
		vals := s.Consolidated()
		if len(defaults) > 0 {
			n := max(len(vals), len(defaults))
			nv := make([]float64, n)
			for i := range nv {
				v, d := math.NaN(), math.NaN()
				if i < len(vals) {
					v = vals[i]
				}
				if i < len(defaults) {
					d = defaults[i]
				}
				if math.IsNaN(v) {
					nv[i] = d
				} else {
					nv[i] = v
				}
			}
			s.Values = nv
		} else {
			nv := make([]float64, len(vals))
			for i, v := range vals {
				if math.IsNaN(v) {
					nv[i] = def
				} else {
					nv[i] = v
				}
			}
			s.Values = nv
		}
		s.ValuesPerPoint = 1
	}
	return list, nil
}

func fnConsolidateBy(e *Env, a *Args) ([]*Series, error) {
	fn := a.String(1, "")
	list := a.SeriesList(0)
	for _, s := range list {
		s.ConsolidationFunc = fn
		s.Tags.Set("consolidateBy", fn)
		s.Name = "consolidateBy(" + s.Name + ",\"" + fn + "\")"
		s.PathExpression = s.Name
	}
	return list, nil
}
