package query

import (
	"time"

	"github.com/plumbago/plumbago/query/attime"
)

func fnSmartSummarize(e *Env, a *Args) ([]*Series, error) {
	ivs, interval, fn, agg, err := summarizeArgs(a)
	if err != nil {
		return nil, err
	}
	list := a.SeriesList(0)
	if v := a.Value(3); v.Kind == ValString {
		unit, _ := attime.Unit(v.Str)
		t := time.Unix(e.From, 0).In(e.Loc)
		y, mo, d := t.Date()
		h, mi, s := t.Clock()
		var from time.Time
		switch unit {
		case 365 * 24 * time.Hour:
			from = time.Date(y, 1, 1, 0, 0, 0, 0, e.Loc)
		case 30 * 24 * time.Hour:
			from = time.Date(y, mo, 1, 0, 0, 0, 0, e.Loc)
		case 7 * 24 * time.Hour:
			iso := int(t.Weekday())
			if iso == 0 {
				iso = 7
			}
			sub := iso - 1
			if sub < 0 {
				sub += 7
			}
			from = time.Date(y, mo, d, 0, 0, 0, 0, e.Loc).Add(-time.Duration(sub) * 24 * time.Hour)
		case 24 * time.Hour:
			from = time.Date(y, mo, d, 0, 0, 0, 0, e.Loc)
		case time.Hour:
			from = time.Date(y, mo, d, h, 0, 0, 0, e.Loc)
		case time.Minute:
			from = time.Date(y, mo, d, h, mi, 0, 0, e.Loc)
		default:
			from = time.Date(y, mo, d, h, mi, s, 0, e.Loc)
		}
		list, err = e.EvalRange(a.Value(0).Node, from.Unix(), e.Until)
		if err != nil {
			return nil, err
		}
	}
	var out []*Series
	for _, s := range list {
		if (s.End-s.Start)/interval > e.maxGenerated() {
			return nil, inputErrorf("smartSummarize produces more than %d points per series (render-max-generated-points)", e.maxGenerated())
		}
		vals, alignedEnd := summarizeValues(s, agg, interval, s.Start, s.End)
		s.Tags.Set("smartSummarize", ivs)
		s.Tags.Set("smartSummarizeFunction", fn)
		ns := s.copyWith("smartSummarize("+s.Name+", \""+ivs+"\", \""+fn+"\")", vals)
		ns.End, ns.Step = alignedEnd, interval
		out = append(out, ns)
	}
	return out, nil
}
