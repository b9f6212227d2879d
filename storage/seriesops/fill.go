package seriesops

import (
	"cmp"
	"math"
	"slices"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// fill copies src's points into dst where dst has none, as python
// whisper's whisper-fill (fill_archives and fill) does, quirks included:
//
//   - dst's archives are walked by retention, finest first; each is fetched
//     from now-retention up to where the previous one started;
//   - a gap is a run of slots that are None or 0.0 (Python's "not v");
//     a gap of a single slot in the middle is left alone, a gap that runs
//     to the end of the fetched range is filled however short;
//   - a gap is filled over (gapstart-step, start] from src's archives,
//     finest first, walking back in time, each fetched point written to dst
//     with update_many (so dst's coarser archives are propagated again).
func (o *Ops) fill(src, dst string) error {
	now := o.now()
	dstRets, err := o.Store.SeriesRetentions(dst)
	if err != nil {
		return err
	}
	srcRets, err := o.Store.SeriesRetentions(src)
	if err != nil {
		return err
	}
	byRetention(dstRets)
	byRetention(srcRets)
	startFrom := now
	for _, a := range dstRets {
		fromTime := now - a.MaxRetention()
		if fromTime >= startFrom {
			continue
		}
		ser, err := o.Store.Fetch(dst, fromTime, startFrom, now)
		if err != nil {
			return err
		}
		start, step := ser.Start, ser.Step
		end := ser.End()
		var gapstart int64 // 0: none (Python's falsy None or 0)
		for _, v := range ser.Values {
			empty := math.IsNaN(v) || v == 0
			switch {
			case empty && gapstart == 0:
				gapstart = start
			case !empty && gapstart != 0:
				if start-gapstart > a.SecondsPerPoint {
					if err := o.fillRange(src, dst, srcRets, gapstart-step, start, now); err != nil {
						return err
					}
				}
				gapstart = 0
			case gapstart != 0 && start == end-step:
				if err := o.fillRange(src, dst, srcRets, gapstart-step, start, now); err != nil {
					return err
				}
			}
			start += step
		}
		startFrom = fromTime
	}
	return nil
}

func byRetention(rs []schema.Retention) {
	slices.SortStableFunc(rs, func(a, b schema.Retention) int { return cmp.Compare(a.MaxRetention(), b.MaxRetention()) })
}

// fillRange is whisper-fill's fill(src, dst, tstart, tstop).
func (o *Ops) fillRange(src, dst string, srcRets []schema.Retention, tstart, tstop, now int64) error {
	var maxRet int64
	for _, a := range srcRets {
		maxRet = max(maxRet, a.MaxRetention())
	}
	srcTime := now - maxRet
	if tstart < srcTime && tstop < srcTime {
		return nil
	}
	for _, a := range srcRets {
		rtime := now - a.MaxRetention()
		if tstop <= rtime {
			continue
		}
		untilTime := tstop
		fromTime := tstart
		if rtime > tstart {
			fromTime = rtime
		}
		ser, err := o.Store.Fetch(src, fromTime, untilTime, now)
		if err != nil {
			return err
		}
		var pts []storage.Point
		for i, v := range ser.Values {
			if !math.IsNaN(v) {
				pts = append(pts, storage.Point{Timestamp: ser.Start + int64(i)*ser.Step, Value: v})
			}
		}
		if len(pts) > 0 {
			b := storage.Batch{Series: []storage.SeriesPoints{{Name: dst, Points: pts}}}
			if err := o.Store.Write(&b); err != nil {
				return err
			}
		}
		tstop = fromTime
		if tstart == tstop {
			return nil
		}
	}
	return nil
}
