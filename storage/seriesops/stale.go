package seriesops

import (
	"errors"
	"fmt"

	"github.com/plumbago/plumbago/storage"
)

// StaleSeries is a series with no point since the asked time.
type StaleSeries struct {
	Name string `json:"name"`
	// LastPoint is the newest point's unix time, 0 when the series holds
	// none.
	LastPoint int64 `json:"last_point"`
}

// StaleResult lists stale series and, for a prune, what it freed.
type StaleResult struct {
	Since      int64         `json:"since"`
	Series     []StaleSeries `json:"series"`
	Pruned     bool          `json:"pruned"`
	FreedBytes int64         `json:"freed_bytes"`
	DryRun     bool          `json:"dry_run"`
}

// all returns every indexed name, plain and tagged.
func (o *Ops) all() ([]string, error) {
	var out []string
	limit := o.maxSeries()
	o.Index.Walk(func(n string) bool {
		out = append(out, n)
		return len(out) <= limit
	})
	tagged, err := o.Index.FindTagged([]string{"name=~."})
	if err != nil {
		return nil, err
	}
	out = append(out, tagged...)
	if len(out) > limit {
		return nil, fmt.Errorf("%w (%d); narrow it with globs or tag expressions", ErrTooMany, limit)
	}
	return out, nil
}

// lastPoint returns the newest point of name, stored or buffered.
func (o *Ops) lastPoint(name string, now int64) (int64, error) {
	var last int64
	if o.Buffer != nil {
		for _, p := range o.Buffer.Buffered(name, nil) {
			if p.Timestamp <= now {
				last = max(last, p.Timestamp)
			}
		}
	}
	ts, ok, err := o.Store.LastPoint(name, now)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return 0, fmt.Errorf("reading the newest point of %q: %w", name, err)
	}
	if ok {
		last = max(last, ts)
	}
	return last, nil
}

// Stale lists the series sel picks (every series when sel is empty) whose
// newest point, stored or still buffered, is older than since: the cron job
// carbon operators write with find -mtime, on the data instead of the file
// time. A series holding no point within its retention is stale too.
func (o *Ops) Stale(sel Selector, since int64) (StaleResult, error) {
	res := StaleResult{Since: since, Series: []StaleSeries{}}
	var names []string
	var err error
	if sel.Empty() {
		names, err = o.all()
	} else {
		names, err = o.Select(sel)
	}
	if err != nil {
		return res, err
	}
	now := o.now()
	for _, n := range names {
		last, err := o.lastPoint(n, now)
		if err != nil {
			return res, err
		}
		if last < since {
			res.Series = append(res.Series, StaleSeries{Name: n, LastPoint: last})
		}
	}
	return res, nil
}

// Prune deletes the series Stale lists (dry: lists them). Each is checked
// again while writes are paused, so one that received a point meanwhile is
// kept.
func (o *Ops) Prune(sel Selector, since int64, dry bool) (StaleResult, error) {
	res, err := o.Stale(sel, since)
	res.Pruned, res.DryRun = !dry, dry
	if err != nil || dry || len(res.Series) == 0 {
		return res, err
	}
	now := o.now()
	var gone []StaleSeries
	err = o.pause(func() error {
		var names []string
		for _, s := range res.Series {
			last, err := o.lastPoint(s.Name, now)
			if err != nil {
				return err
			}
			if last < since {
				names = append(names, s.Name)
				gone = append(gone, s)
				o.take(s.Name)
			}
		}
		held := o.indexed(names)
		_, freed, err := o.Store.DeleteSeries(names)
		res.FreedBytes = freed
		for _, n := range names {
			o.Index.Delete(n)
		}
		o.forget(held)
		return err
	})
	o.changed()
	res.Series = gone
	if res.Series == nil {
		res.Series = []StaleSeries{}
	}
	if err != nil {
		return res, fmt.Errorf("pruning: %w", err)
	}
	if c, ok := o.Store.(Compactor); ok {
		freed, err := c.CompactDeleted()
		res.FreedBytes += freed
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
