package query

import (
	"math"
	"strings"
)

// hwAnalysis is graphite-web's holtWintersAnalysis: predictions and
// deviations (NaN = None) with alpha = gamma = 0.1, beta = 0.0035.
func hwAnalysis(vals []float64, seasonLen int64) (pred, dev []float64) {
	const alpha, gamma, beta = 0.1, 0.1, 0.0035
	n := len(vals)
	intercepts := make([]float64, 0, n)
	slopes := make([]float64, 0, n)
	seasonals := make([]float64, 0, n)
	pred = make([]float64, 0, n)
	dev = make([]float64, 0, n)
	last := func(list []float64, i int) float64 {
		j := int64(i) - seasonLen
		if j >= 0 && j < int64(len(list)) {
			return list[j]
		}
		return 0
	}
	nextPred := math.NaN()
	for i, actual := range vals {
		if math.IsNaN(actual) {
			intercepts = append(intercepts, math.NaN())
			slopes = append(slopes, 0)
			seasonals = append(seasonals, 0)
			pred = append(pred, nextPred)
			dev = append(dev, 0)
			nextPred = math.NaN()
			continue
		}
		var lastIntercept, lastSlope, prediction float64
		if i == 0 {
			lastIntercept, lastSlope, prediction = actual, 0, actual
		} else {
			lastIntercept, lastSlope = intercepts[len(intercepts)-1], slopes[len(slopes)-1]
			if math.IsNaN(lastIntercept) {
				lastIntercept = actual
			}
			prediction = nextPred
		}
		lastSeasonal := last(seasonals, i)
		nextLastSeasonal := last(seasonals, i+1)
		lastSeasonalDev := last(dev, i)
		intercept := alpha*(actual-lastSeasonal) + (1-alpha)*(lastIntercept+lastSlope)
		slope := beta*(intercept-lastIntercept) + (1-beta)*lastSlope
		seasonal := gamma*(actual-intercept) + (1-gamma)*lastSeasonal
		nextPred = intercept + slope + nextLastSeasonal
		p := prediction
		if math.IsNaN(p) {
			p = 0
		}
		deviation := gamma*math.Abs(actual-p) + (1-gamma)*lastSeasonalDev
		intercepts = append(intercepts, intercept)
		slopes = append(slopes, slope)
		seasonals = append(seasonals, seasonal)
		pred = append(pred, prediction)
		dev = append(dev, deviation)
	}
	return pred, dev
}

// hwPreview evaluates the first argument with bootstrapInterval of extra
// history and analyses each series.
type hwResult struct {
	s                *Series // the longer series (tags get the analysis tags)
	pred, dev        []float64
	preview, wPoints int64
}

func hwRun(e *Env, a *Args, bootIdx, seasonIdx int) ([]hwResult, error) {
	bs := a.String(bootIdx, "7d")
	preview, err := intervalSeconds(bs)
	if err != nil {
		return nil, err
	}
	season, err := intervalSeconds(a.String(seasonIdx, "1d"))
	if err != nil {
		return nil, err
	}
	long, err := e.EvalRange(a.Value(0).Node, e.From-preview, e.Until)
	if err != nil {
		return nil, err
	}
	out := make([]hwResult, 0, len(long))
	for _, s := range long {
		if s.Step <= 0 {
			continue
		}
		pred, dev := hwAnalysis(s.Consolidated(), pyFloorDiv(season, s.Step))
		s.Tags.Set("holtWintersForecast", "1")
		s.Tags.Set("holtWintersDeviation", "1")
		out = append(out, hwResult{s: s, pred: pred, dev: dev, preview: preview, wPoints: pyFloorDiv(preview, s.Step)})
	}
	return out, nil
}

// tail is Python's list[k:] for k >= 0.
func tail(v []float64, k int64) []float64 {
	if k < 0 {
		k += int64(len(v))
		if k < 0 {
			k = 0
		}
	}
	if k >= int64(len(v)) {
		return nil
	}
	return append([]float64(nil), v[k:]...)
}

func fnHWForecast(e *Env, a *Args) ([]*Series, error) {
	rs, err := hwRun(e, a, 1, 2)
	if err != nil {
		return nil, err
	}
	out := make([]*Series, 0, len(rs))
	for _, r := range rs {
		name := "holtWintersForecast(" + r.s.Name + ")"
		ns := NewSeries(name, r.s.Start+r.preview, r.s.End, r.s.Step, tail(r.pred, r.wPoints), r.s.XFilesFactor)
		ns.Tags = r.s.Tags
		out = append(out, ns)
	}
	return out, nil
}

// hwBands returns lower and upper band series per input series.
func hwBands(e *Env, a *Args) ([]*Series, error) {
	d := float64(a.Int(1, 3))
	rs, err := hwRun(e, a, 2, 3)
	if err != nil {
		return nil, err
	}
	var out []*Series
	for _, r := range rs {
		f := tail(r.pred, r.wPoints)
		dv := tail(r.dev, r.wPoints)
		upper := make([]float64, len(f))
		lower := make([]float64, len(f))
		for i := range f {
			if math.IsNaN(f[i]) || i >= len(dv) || math.IsNaN(dv[i]) {
				upper[i], lower[i] = math.NaN(), math.NaN()
				continue
			}
			upper[i] = f[i] + d*dv[i]
			lower[i] = f[i] - d*dv[i]
		}
		r.s.Tags.Set("holtWintersConfidenceUpper", "1")
		r.s.Tags.Set("holtWintersConfidenceLower", "1")
		start := r.s.Start + r.preview
		lo := NewSeries("holtWintersConfidenceLower("+r.s.Name+")", start, r.s.End, r.s.Step, lower, r.s.XFilesFactor)
		up := NewSeries("holtWintersConfidenceUpper("+r.s.Name+")", start, r.s.End, r.s.Step, upper, r.s.XFilesFactor)
		lo.Tags, up.Tags = r.s.Tags, r.s.Tags
		lo.PathExpression, up.PathExpression = r.s.PathExpression, r.s.PathExpression
		out = append(out, lo, up)
	}
	return out, nil
}

func fnHWBands(e *Env, a *Args) ([]*Series, error) { return hwBands(e, a) }

func fnHWAberration(e *Env, a *Args) ([]*Series, error) {
	bands, err := hwBands(e, a)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Series{}
	for _, b := range bands {
		byName[b.Name] = b
	}
	var out []*Series
	for _, s := range a.SeriesList(0) {
		lo, ok1 := byName["holtWintersConfidenceLower("+s.Name+")"]
		up, ok2 := byName["holtWintersConfidenceUpper("+s.Name+")"]
		if !ok1 || !ok2 {
			return nil, inputErrorf("holtWintersAberration: no confidence bands for %s", s.Name)
		}
		vals := s.Consolidated()
		ab := make([]float64, len(vals))
		for i, v := range vals {
			switch {
			case math.IsNaN(v):
			case i < len(up.Values) && !math.IsNaN(up.Values[i]) && v > up.Values[i]:
				ab[i] = v - up.Values[i]
			case i < len(lo.Values) && !math.IsNaN(lo.Values[i]) && v < lo.Values[i]:
				ab[i] = v - lo.Values[i]
			}
		}
		s.Tags.Set("holtWintersAberration", "1")
		ns := NewSeries("holtWintersAberration("+s.Name+")", s.Start, s.End, s.Step, ab, s.XFilesFactor)
		ns.Tags = s.Tags
		out = append(out, ns)
	}
	return out, nil
}

func fnHWArea(e *Env, a *Args) ([]*Series, error) {
	bands, err := hwBands(e, a)
	if err != nil {
		return nil, err
	}
	if len(bands) != 2 {
		return nil, inputErrorf("areaBetween series argument must reference *exactly* 2 series")
	}
	upper := bands[1]
	tags := upper.Tags.Clone()
	tags.Delete("areaBetween")
	tags.Set("holtWintersConfidenceArea", "1")
	name := strings.Replace("areaBetween("+upper.PathExpression+")", "areaBetween", "holtWintersConfidenceArea", -1)
	for _, s := range bands {
		s.Tags = tags
		s.Name, s.PathExpression = name, name
	}
	return bands, nil
}
