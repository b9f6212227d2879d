package query

import (
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/plumbago/plumbago/query/attime"
)

// linearRegressionAnalysis is graphite-web's _linearRegressionAnalysis
// (index sums in exact integers, as Python's ints).
func linearRegressionAnalysis(s *Series) (factor, offset float64, ok bool) {
	var n, sumI, sumII int64
	var sumV, sumIV float64
	for i, v := range s.Consolidated() {
		if math.IsNaN(v) {
			continue
		}
		n++
		sumI += int64(i)
		sumII += int64(i) * int64(i)
		sumV += v
		sumIV += float64(i) * v
	}
	d := new(big.Int).Mul(big.NewInt(n), big.NewInt(sumII))
	d.Sub(d, new(big.Int).Mul(big.NewInt(sumI), big.NewInt(sumI)))
	den, _ := new(big.Float).SetInt(d).Float64()
	if den == 0 {
		return 0, 0, false
	}
	factor = (float64(n)*sumIV - float64(sumI)*sumV) / den / float64(s.Step)
	offset = (float64(sumII)*sumV-sumIV*float64(sumI))/den - factor*float64(s.Start)
	return factor, offset, true
}

// wallAsUTC is Python's int(time.mktime(dt.timetuple())) on a server whose
// local zone is UTC: the wall-clock time in loc read as UTC.
func wallAsUTC(t time.Time) int64 {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC).Unix()
}

func fnLinearRegression(e *Env, a *Args) ([]*Series, error) {
	from, until := e.From, e.Until
	now := time.Unix(e.Now, 0).In(e.Loc)
	for i, p := range []*int64{&from, &until} {
		if !a.Has(1 + i) {
			continue
		}
		t, err := attime.Parse(a.String(1+i, ""), now, e.Loc)
		if err != nil {
			return nil, inputErrorf("linearRegression: %v", err)
		}
		*p = t.Unix()
	}
	source, err := e.EvalRange(a.Value(0).Node, from, until)
	if err != nil {
		return nil, err
	}
	tag := strconv.FormatInt(wallAsUTC(time.Unix(from, 0).In(e.Loc)), 10) + ", " + strconv.FormatInt(wallAsUTC(time.Unix(until, 0).In(e.Loc)), 10)
	list := a.SeriesList(0)
	var out []*Series
	for i := 0; i < len(list) && i < len(source); i++ {
		s := list[i]
		s.Tags.Set("linearRegressions", tag)
		name := "linearRegression(" + s.Name + ", " + tag + ")"
		factor, offset, ok := linearRegressionAnalysis(source[i])
		if !ok {
			continue
		}
		vals := make([]float64, len(s.Values))
		for k := range vals {
			vals[k] = offset + float64(s.Start+int64(k)*s.Step)*factor
		}
		ns := NewSeries(name, s.Start, s.End, s.Step, vals, s.XFilesFactor)
		ns.Tags = s.Tags
		out = append(out, ns)
	}
	return out, nil
}
