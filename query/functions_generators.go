package query

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/plumbago/plumbago/query/attime"
)

// generatorSteps returns the step timestamps from 'from' below 'until'
// (bounded).
func generatorSteps(e *Env, step int) ([]int64, error) {
	if step <= 0 {
		return nil, inputErrorf("step must be positive")
	}
	if e.Until <= e.From {
		return nil, nil
	}
	n := (e.Until - e.From + int64(step) - 1) / int64(step)
	if n > e.maxGenerated() {
		return nil, inputErrorf("the generator would make %d points, more than the limit of %d per series (render-max-generated-points)", n, e.maxGenerated())
	}
	if err := e.chargePoints(n); err != nil {
		return nil, err
	}
	ts := make([]int64, 0, n)
	for t := e.From; t < e.Until; t += int64(step) {
		if err := e.checkCancel(len(ts)); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func fnTimeFunction(e *Env, a *Args) ([]*Series, error) {
	step := a.Int(1, 60)
	ts, err := generatorSteps(e, step)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(ts))
	for i, t := range ts {
		vals[i] = float64(wallAsUTC(time.Unix(t, 0).In(e.Loc)))
	}
	name := a.String(0, "")
	from, until := wallAsUTC(time.Unix(e.From, 0).In(e.Loc)), wallAsUTC(time.Unix(e.Until, 0).In(e.Loc))
	return []*Series{NewSeries(name, from, until, int64(step), vals, e.XFilesFactor)}, nil
}

func fnSinFunction(e *Env, a *Args) ([]*Series, error) {
	amp := float64(a.Int(1, 1))
	step := a.Int(2, 60)
	ts, err := generatorSteps(e, step)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(ts))
	for i, t := range ts {
		vals[i] = math.Sin(float64(wallAsUTC(time.Unix(t, 0).In(e.Loc)))) * amp
	}
	return []*Series{NewSeries(a.String(0, ""), e.From, e.Until, int64(step), vals, e.XFilesFactor)}, nil
}

func fnRandomWalk(e *Env, a *Args) ([]*Series, error) {
	step := a.Int(1, 60)
	ts, err := generatorSteps(e, step)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(ts))
	cur := 0.0
	for i := range ts {
		vals[i] = cur
		cur += rand.Float64() - 0.5
	}
	return []*Series{NewSeries(a.String(0, ""), e.From, e.Until, int64(step), vals, e.XFilesFactor)}, nil
}

// parseDateArg parses a date parameter (attime forms; relative to the
// request's now, in its zone) and returns graphite-web's
// time.mktime(...timetuple()) of it.
func parseDateArg(e *Env, v Value) (int64, error) {
	s := v.PyStr()
	t, err := attime.Parse(s, time.Unix(e.Now, 0).In(e.Loc), e.Loc)
	if err != nil {
		return 0, inputErrorf("%v", err)
	}
	return wallAsUTC(t), nil
}

func fnTimeSlice(e *Env, a *Args) ([]*Series, error) {
	start, err := parseDateArg(e, a.Value(1))
	if err != nil {
		return nil, err
	}
	endV := a.Value(2)
	if !a.Has(2) {
		endV = Value{Kind: ValString, Str: "now"}
	}
	end, err := parseDateArg(e, endV)
	if err != nil {
		return nil, err
	}
	list := a.SeriesList(0)
	ss, es := strconv.FormatInt(start, 10), strconv.FormatInt(end, 10)
	for _, s := range list {
		s.Tags.Set("timeSliceStart", ss)
		s.Tags.Set("timeSliceEnd", es)
		s.Name = "timeSlice(" + s.Name + ", " + ss + ", " + es + ")"
		cur := wallAsUTC(time.Unix(e.From, 0).In(e.Loc))
		for i, v := range s.Values {
			if math.IsNaN(v) || cur < start || cur > end {
				s.Values[i] = math.NaN()
			}
			cur += s.Step
		}
	}
	return list, nil
}

func fnEvents(e *Env, a *Args) ([]*Series, error) {
	var tags []string
	for _, v := range a.Multi(0) {
		tags = append(tags, v.PyStr())
	}
	name := "events(\"" + strings.Join(tags, "\", \"") + "\")"
	n := e.Until - e.From
	if n > e.maxGenerated() {
		return nil, inputErrorf("events: range too long (%d points, more than the limit of %d per series, render-max-generated-points)", n, e.maxGenerated())
	}
	if err := e.chargePoints(max(n, 0)); err != nil {
		return nil, err
	}
	vals := make([]float64, max(n, 0))
	for i := range vals {
		vals[i] = math.NaN()
	}
	if e.ev.events != nil {
		var want []string // events('*') = every event
		if len(tags) != 1 || tags[0] != "*" {
			want = tags
		}
		for _, ts := range e.ev.events.EventTimes(e.From, e.Until, want) {
			// graphite-web raises IndexError for an event exactly at
			// until (its range includes until, its values do not).
			if i := ts - e.From; i >= 0 && i < n {
				if math.IsNaN(vals[i]) {
					vals[i] = 0
				}
				vals[i]++
			}
		}
	}
	s := NewSeries(name, e.From, e.Until, 1, vals, e.XFilesFactor)
	s.ConsolidationFunc = "sum"
	s.IntValues = true
	return []*Series{s}, nil
}

func fnVerticalLine(e *Env, a *Args) ([]*Series, error) {
	ts, err := parseDateArg(e, a.Value(0))
	if err != nil {
		return nil, err
	}
	start := wallAsUTC(time.Unix(e.From, 0).In(e.Loc))
	end := wallAsUTC(time.Unix(e.Until, 0).In(e.Loc))
	if ts < start {
		return nil, inputErrorf("verticalLine(): timestamp %d exists before start of range", ts)
	}
	if ts > end {
		return nil, inputErrorf("verticalLine(): timestamp %d exists after end of range", ts)
	}
	// graphite-web names the series None when no label is given (and its
	// json then shows "target": null); here the name is "None".
	label := a.String(1, "None")
	s := NewSeries(label, ts, ts, 1, []float64{1, 1}, e.XFilesFactor)
	s.Graph.DrawAsInfinite = true
	s.Color = a.String(2, "")
	return []*Series{s}, nil
}
