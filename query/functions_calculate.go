package query

import (
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/plumbago/plumbago/query/target"
)

// calculateFunctions is graphite-web's "Calculate" function group.
func calculateFunctions() []Function {
	boot := Param{Name: "bootstrapInterval", Type: TypeInterval, Default: "7d", Suggestions: []any{"7d", "30d"}}
	season := Param{Name: "seasonality", Type: TypeInterval, Default: "1d", Suggestions: []any{"1d", "7d"}}
	delta := Param{Name: "delta", Type: TypeInteger, Default: 3}
	fns := []Function{
		{"aggregateLine", fnAggregateLine, FuncMeta{Description: "A horizontal line per series at an aggregate of its values (func, default average); keepStep keeps the series' own points.",
			Params: []Param{seriesListParam(), {Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()}, {Name: "keepStep", Type: TypeBoolean, Default: false}}}},
		{"exponentialMovingAverage", fnEMA, FuncMeta{Description: "Exponential moving average with smoothing 2/(windowSize+1); data before 'from' is fetched to seed it.",
			Params: []Param{seriesListParam(), {Name: "windowSize", Type: TypeIntOrInterval, Required: true, Suggestions: intOrIntervalSuggestions}}}},
		{"holtWintersAberration", fnHWAberration, FuncMeta{Description: "How far each value lies outside the Holt-Winters confidence bands (0 inside).",
			Params: []Param{seriesListParam(), delta, boot, season}}},
		{"holtWintersConfidenceArea", fnHWArea, FuncMeta{Description: "The Holt-Winters confidence bands of one series as an area (for graphs); data as holtWintersConfidenceBands.",
			Params: []Param{seriesListParam(), delta, boot, season}}},
		{"holtWintersConfidenceBands", fnHWBands, FuncMeta{Description: "Upper and lower Holt-Winters confidence bands: forecast ± delta × the predicted deviation.",
			Params: []Param{seriesListParam(), delta, boot, season}}},
		{"holtWintersForecast", fnHWForecast, FuncMeta{Description: "Holt-Winters forecast of the series, trained on bootstrapInterval of data before 'from' with the given seasonality.",
			Params: []Param{seriesListParam(), boot, season}}},
		{"identity", fnIdentity, FuncMeta{Description: "A series whose value is its own timestamp, one point per minute.", Params: []Param{{Name: "name", Type: TypeString, Required: true}}}},
		{"linearRegression", fnLinearRegression, FuncMeta{Description: "Least-squares line fitted on the source window (startSourceAt..endSourceAt, default the request's) drawn over the request window.",
			Params: []Param{seriesListParam(), {Name: "startSourceAt", Type: TypeDate}, {Name: "endSourceAt", Type: TypeDate}}}},
		{"movingWindow", fnMovingWindow, FuncMeta{
			Description: "Aggregates the preceding windowSize points or interval with func (an aggregation function), like movingAverage.",
			Preview:     movingPathPreview,
			Params: []Param{
				seriesListParam(),
				{Name: "windowSize", Type: TypeIntOrInterval, Required: true, Suggestions: intOrIntervalSuggestions},
				{Name: "func", Type: TypeAggFunc, Default: "average", Options: AggFuncNames()},
				{Name: "xFilesFactor", Type: TypeFloat},
			},
		}},
		{"nPercentile", fnNPercentile, FuncMeta{
			Description: "A horizontal line per series at its n-th percentile.",
			Params:      []Param{seriesListParam(), {Name: "n", Type: TypeFloat, Required: true}},
		}},
		{"stdev", fnStdev, FuncMeta{Description: "Rolling standard deviation over the last points values (missing while fewer than windowTolerance of them are present).",
			Params: []Param{seriesListParam(), {Name: "points", Type: TypeInteger, Required: true}, {Name: "windowTolerance", Type: TypeFloat, Default: 0.1}}}},
	}
	for _, m := range []struct{ name, fn, desc string }{
		{"movingAverage", "average", "Average of the preceding windowSize points (an integer) or time (an interval string such as '5min'); data before 'from' is fetched so the first points are complete."},
		{"movingSum", "sum", "Sum of the preceding windowSize points or interval, like movingAverage."},
		{"movingMin", "min", "Minimum of the preceding windowSize points or interval, like movingAverage."},
		{"movingMax", "max", "Maximum of the preceding windowSize points or interval, like movingAverage."},
		{"movingMedian", "median", "Median of the preceding windowSize points or interval, like movingAverage."},
	} {
		fn := m.fn
		fns = append(fns, Function{m.name, func(e *Env, a *Args) ([]*Series, error) {
			return movingWindow(e, a, a.Value(1), fn, a.Float(2, math.NaN()))
		}, FuncMeta{
			Description: m.desc,
			Preview:     movingPathPreview,
			Params: []Param{
				seriesListParam(),
				{Name: "windowSize", Type: TypeIntOrInterval, Required: true, Suggestions: intOrIntervalSuggestions},
				{Name: "xFilesFactor", Type: TypeFloat},
			},
		}})
	}
	return fns
}

func fnIdentity(e *Env, a *Args) ([]*Series, error) {
	name := a.String(0, "")
	ts, err := generatorSteps(e, 60)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(ts))
	for i, t := range ts {
		vals[i] = float64(t)
	}
	s := NewSeries(name, e.From, e.Until, 60, vals, e.XFilesFactor)
	s.PathExpression = "identity(\"" + name + "\")"
	s.IntValues = true
	return []*Series{s}, nil
}

func fnMovingWindow(e *Env, a *Args) ([]*Series, error) {
	return movingWindow(e, a, a.Value(1), a.String(2, "average"), a.Float(3, math.NaN()))
}

var intOrIntervalSuggestions = []any{5, 7, 10, "1min", "5min", "10min", "30min", "1hour"}

// pyCapitalize is Python's str.capitalize for ASCII names.
func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

// movingWindow is graphite-web's movingWindow: the first argument is
// evaluated again from 'from' minus the window, and output point k
// aggregates raw points [k, k+windowPoints) of that longer series.
func movingWindow(e *Env, a *Args, window Value, fn string, xff float64) ([]*Series, error) {
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	isInterval := window.Kind == ValString
	preview, err := movingPreview(list, window)
	if err != nil {
		return nil, err
	}
	long := list // evaluated from from-preview already (movingPathPreview)
	if p, ok := a.Preview(); !ok || p != preview {
		if long, err = e.EvalRange(a.Value(0).Node, e.From-preview, e.Until); err != nil {
			return nil, err
		}
	}
	m := movingJob{e: e, window: window, fn: fn, agg: agg, tag: "moving" + pyCapitalize(fn), isInterval: isInterval, preview: preview, xff: xff}
	out := make([]*Series, len(long))
	work := 0
	for _, s := range long {
		work += len(s.Values) * int(max(1, movingPoints(s, window, isInterval, preview)))
	}
	w := min(runtime.GOMAXPROCS(0), len(long), maxMovingWorkers)
	if work < parallelMovingWork || w < 2 || !distinctSeries(long) {
		w = 1
	}
	// w runs, each the series i ≡ k (mod w), on goroutines of their own
	// but the first: the same series and results as one run, in order.
	errs := make([]error, w)
	run := func(k int) {
		var work int
		buf := make([]float64, 0, 64)
		for i := k; i < len(long); i += w {
			if out[i], errs[k] = m.one(long[i], &work, &buf); errs[k] != nil {
				return
			}
		}
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(k)
		}()
	}
	run(0)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// distinctSeries reports whether no series is in list twice (movingJob.one
// changes its series' tags: one series twice cannot be shared out).
func distinctSeries(list []*Series) bool {
	seen := make(map[*Series]bool, len(list))
	for _, s := range list {
		if seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

const (
	// parallelMovingWork is the least window additions a moving window
	// shares among goroutines (about a millisecond of them).
	parallelMovingWork = 1 << 20
	maxMovingWorkers   = 8
)

// movingJob is one movingWindow call's settings, for each series.
type movingJob struct {
	e          *Env
	window     Value
	fn, tag    string
	agg        AggFunc
	isInterval bool
	preview    int64
	xff        float64
}

// movingPoints is the window's length in s's points.
func movingPoints(s *Series, window Value, isInterval bool, preview int64) int64 {
	if !isInterval {
		return max(0, int64(window.Num))
	}
	if s.Step > 0 {
		return max(0, preview/s.Step)
	}
	return 0
}

// one is movingWindow's answer for one series s of the longer
// evaluation; work counts its additions (Env.spend), buf is scratch.
func (m *movingJob) one(s *Series, work *int, buf *[]float64) (*Series, error) {
	e, window, fn := m.e, m.window, m.fn
	var name string
	if m.isInterval {
		name = m.tag + "(" + s.Name + ",\"" + window.Str + "\")"
	} else {
		name = m.tag + "(" + s.Name + "," + window.PyStr() + ")"
	}
	wp := movingPoints(s, window, m.isInterval, m.preview)
	s.Tags.Set(m.tag, window.PyStr())
	ns := s.copyWith(name, nil)
	ns.Start = s.Start + m.preview
	x := m.xff
	if math.IsNaN(x) {
		x = s.XFilesFactor
	}
	vals := s.Values
	if n := len(vals) - int(wp); n > 0 {
		ns.Values = make([]float64, 0, n)
	}
	i := int(wp)
	sumAvg := fn == "sum" || fn == "average"
	if sumAvg {
		var err error
		if i, err = movingSumAvg(e, work, ns, vals, int(wp), x, fn == "average"); err != nil {
			return nil, err
		}
	}
	for ; i < len(vals); i++ {
		if err := e.spend(work, int(wp)+1); err != nil {
			return nil, err
		}
		if sumAvg {
			// safeSum / safeAvg over the window without collecting it:
			// the same additions in the same order.
			sum, n := 0.0, 0
			for _, v := range vals[i-int(wp) : i] {
				if v == v { // not NaN
					sum += v
					n++
				}
			}
			switch {
			case n == 0 || !xffOK(n, int(wp), x):
				sum = math.NaN()
			case fn == "average":
				sum /= float64(n)
			}
			ns.Values = append(ns.Values, sum)
			continue
		}
		b := (*buf)[:0]
		for _, v := range vals[i-int(wp) : i] {
			if !math.IsNaN(v) {
				b = append(b, v)
			}
		}
		*buf = b
		if len(b) > 0 && xffOK(len(b), int(wp), x) {
			ns.Values = append(ns.Values, m.agg(b))
		} else {
			ns.Values = append(ns.Values, math.NaN())
		}
	}
	return ns, nil
}

// movingSumAvg appends to ns.Values graphite-web's safeSum (average:
// safeAvg) of each window of wp values of vals, eight windows at a time
// without a test per value where none of their values is None, else four
// at a time with the tests: each sum adds its window's values in order, as
// safeSum does, so the results are the same doubles; the independent sums
// keep the processor's adders busy where one sum waits on each addition.
// The test for None is made per eight windows, not per series, so the
// None of the newest points (data not yet sent: the end of most dashboard
// ranges) does not send the whole series down the slow path. It returns
// the index of the first window left (fewer than four remain).
func movingSumAvg(e *Env, work *int, ns *Series, vals []float64, wp int, xff float64, average bool) (int, error) {
	finish := func(sum float64, n int) float64 {
		switch {
		case n == 0 || !xffOK(n, wp, xff):
			return math.NaN()
		case average:
			return sum / float64(n)
		}
		return sum
	}
	i := wp
	nan := -1 // the first None at or after the current block's first value (len(vals): none)
	for i+4 <= len(vals) {
		if wp > 0 && i+8 <= len(vals) {
			if nan < i-wp {
				nan = i - wp + nextNaN(vals[i-wp:])
			}
			if nan >= i+7 {
				// The eight windows' values vals[i-wp:i+7] hold no None.
				if err := e.spend(work, 8*(wp+1)); err != nil {
					return i, err
				}
				var s0, s1, s2, s3, s4, s5, s6, s7 float64
				win := vals[i-wp : i+7]
				for k := range wp {
					w := win[k : k+8 : k+8]
					s0 += w[0]
					s1 += w[1]
					s2 += w[2]
					s3 += w[3]
					s4 += w[4]
					s5 += w[5]
					s6 += w[6]
					s7 += w[7]
				}
				ns.Values = append(ns.Values, finish(s0, wp), finish(s1, wp), finish(s2, wp), finish(s3, wp),
					finish(s4, wp), finish(s5, wp), finish(s6, wp), finish(s7, wp))
				i += 8
				continue
			}
		}
		if err := e.spend(work, 4*(wp+1)); err != nil {
			return i, err
		}
		var s0, s1, s2, s3 float64
		var n0, n1, n2, n3 int
		win := vals[i-wp : i+3]
		for k := range wp {
			v0, v1, v2, v3 := win[k], win[k+1], win[k+2], win[k+3]
			if v0 == v0 { // not NaN
				s0 += v0
				n0++
			}
			if v1 == v1 {
				s1 += v1
				n1++
			}
			if v2 == v2 {
				s2 += v2
				n2++
			}
			if v3 == v3 {
				s3 += v3
				n3++
			}
		}
		ns.Values = append(ns.Values, finish(s0, n0), finish(s1, n1), finish(s2, n2), finish(s3, n3))
		i += 4
	}
	return i, nil
}

// nextNaN is the index of vals' first NaN, len(vals) if none.
func nextNaN(vals []float64) int {
	for i, v := range vals {
		if v != v {
			return i
		}
	}
	return len(vals)
}

// movingPathPreview is the moving functions' FuncMeta.Preview: when the
// series are a path expression and the window an interval string, the
// series are fetched once, from 'from' minus the window, instead of over
// the request's time frame and then again from there (graphite-web's
// two evaluations). The first evaluation only tells whether there are
// series at all, and a path's series are the same over any time frame
// (a store answers a series outside its data with no values, not with
// none). A window of points needs the first evaluation's steps: not
// for it.
func movingPathPreview(call *target.Node) (int64, bool) {
	if len(call.Args) < 2 || call.Args[0].Kind != target.KindPath || call.Args[1].Kind != target.KindString {
		return 0, false
	}
	for _, kw := range call.Kwargs {
		if kw.Name == "seriesList" || kw.Name == "windowSize" {
			return 0, false // bind reports the duplicate
		}
	}
	sec, err := intervalSeconds(call.Args[1].Str)
	if err != nil {
		return 0, false
	}
	return max(sec, -sec), true
}

// movingPreview is how many seconds before 'from' movingWindow evaluates
// its series again: the interval's length, or the window's point count
// times the largest step of the list.
func movingPreview(list []*Series, window Value) (int64, error) {
	var preview int64
	switch window.Kind {
	case ValString:
		sec, err := intervalSeconds(window.Str)
		if err != nil {
			return 0, err
		}
		preview = max(sec, -sec)
	case ValNumber:
		if math.IsInf(window.Num, 0) || math.Abs(window.Num) > 1e9 {
			return 0, inputErrorf("invalid windowSize %s", window.PyStr())
		}
		var maxStep int64
		for _, s := range list {
			maxStep = max(maxStep, s.Step)
		}
		preview = maxStep * int64(window.Num)
	default:
		return 0, inputErrorf("invalid windowSize %s", window.PyStr())
	}
	if preview < 0 {
		return 0, inputErrorf("invalid windowSize %s", window.PyStr())
	}
	return preview, nil
}

func fnNPercentile(e *Env, a *Args) ([]*Series, error) {
	n := a.Float(1, 0)
	if n == 0 {
		return nil, inputErrorf("The requested percent is required to be greater than 0")
	}
	ns := a.Value(1).PyStr()
	var out []*Series
	for _, s := range a.SeriesList(0) {
		p := percentile(s.Consolidated(), n, false)
		if math.IsNaN(p) {
			continue
		}
		s.Tags.Set("nPercentile", ns)
		var count int64
		if s.Step > 0 {
			count = min((s.End-s.Start)/s.Step, e.maxGenerated())
		}
		vals := make([]float64, count)
		for i := range vals {
			vals[i] = p
		}
		out = append(out, s.copyWith("nPercentile("+s.Name+", "+FormatG(n)+")", vals))
	}
	return out, nil
}

func fnStdev(e *Env, a *Args) ([]*Series, error) {
	points := a.Int(1, 0)
	if points <= 0 {
		return nil, inputErrorf("stdev points must be positive")
	}
	tol := a.Float(2, 0.1)
	list := a.SeriesList(0)
	out := make([]*Series, len(list))
	for k, s := range list {
		s.Tags.Set("stdev", strconv.Itoa(points))
		c := s.Consolidated()
		vals := make([]float64, 0, len(c))
		valid := 0
		sum, sumSq := 0.0, 0.0
		for i, v := range c {
			dropped := math.NaN()
			if i >= points {
				dropped = s.Values[i-points]
			}
			if !math.IsNaN(dropped) {
				valid--
				sum -= dropped
				sumSq -= dropped * dropped
			}
			if !math.IsNaN(v) {
				valid++
				sum += v
				sumSq += v * v
			}
			if valid > 0 && float64(valid)/float64(points) >= tol {
				d := float64(valid)*sumSq - sum*sum
				if d < 0 {
					vals = append(vals, math.NaN())
				} else {
					vals = append(vals, math.Sqrt(d)/float64(valid))
				}
			} else {
				vals = append(vals, math.NaN())
			}
		}
		out[k] = s.copyWith("stdev("+s.Name+","+strconv.Itoa(points)+")", vals)
	}
	return out, nil
}

func fnAggregateLine(e *Env, a *Args) ([]*Series, error) {
	fn := a.String(1, "average")
	agg, ok := GetAggFunc(fn)
	if !ok {
		return nil, inputErrorf("Unsupported aggregation function: %s", fn)
	}
	isInt := fn == "count"
	var out []*Series
	for _, s := range a.SeriesList(0) {
		v := agg(s.Consolidated())
		var name, str string
		if math.IsNaN(v) {
			name, str = "aggregateLine("+s.Name+", None)", "None"
		} else {
			name = "aggregateLine(" + s.Name + ", " + FormatG(v) + ")"
			if isInt {
				str = strconv.FormatInt(int64(v), 10)
			} else {
				str = FloatRepr(v)
			}
		}
		var r *Series
		if a.Bool(2, false) {
			vals := make([]float64, len(s.Values))
			for i := range vals {
				vals[i] = v
			}
			r = s.copyWith(name, vals)
		} else {
			r = constantLine(e, v, str)
			r.Name, r.PathExpression = name, name
		}
		r.IntValues = isInt
		out = append(out, r)
	}
	return out, nil
}

func fnEMA(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	if len(list) == 0 {
		return nil, nil
	}
	w := a.Value(1)
	var preview int64
	var constant float64
	switch w.Kind {
	case ValString:
		sec, err := intervalSeconds(w.Str)
		if err != nil {
			return nil, err
		}
		preview = max(sec, -sec)
		constant = 2.0 / float64(preview+1)
	case ValNumber:
		if math.IsInf(w.Num, 0) || math.Abs(w.Num) > 1e9 || int64(w.Num) < 0 {
			return nil, inputErrorf("invalid windowSize %s", w.PyStr())
		}
		var maxStep int64
		for _, s := range list {
			maxStep = max(maxStep, s.Step)
		}
		preview = maxStep * int64(w.Num)
		constant = 2.0 / float64(int64(w.Num)+1)
	default:
		return nil, inputErrorf("invalid windowSize %s", w.PyStr())
	}
	long, err := e.EvalRange(a.Value(0).Node, e.From-preview, e.Until)
	if err != nil {
		return nil, err
	}
	var out []*Series
	for _, s := range long {
		var name string
		var wp int
		if w.Kind == ValString {
			name = "exponentialMovingAverage(" + s.Name + ",\"" + w.Str + "\")"
			if s.Step > 0 {
				wp = int(preview / s.Step)
			}
		} else {
			name = "exponentialMovingAverage(" + s.Name + "," + w.PyStr() + ")"
			wp = int(w.Num)
		}
		s.Tags.Set("exponentialMovingAverage", w.PyStr())
		v := s.Values
		ema := safeAvg(v[:min(wp, len(v))])
		if math.IsNaN(ema) {
			ema = 0
		}
		vals := []float64{pyRound(ema, 6)}
		for i := wp; i < len(v); i++ {
			if math.IsNaN(v[i]) {
				vals = append(vals, math.NaN())
				continue
			}
			ema = constant*v[i] + (1-constant)*ema
			vals = append(vals, pyRound(ema, 6))
		}
		ns := s.copyWith(name, vals)
		ns.Start = s.Start + preview
		out = append(out, ns)
	}
	return out, nil
}
