package query

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/plumbago/plumbago/storage"
)

// fetch expands pattern and fetches every leaf, returning private copies
// sorted by name (graphite-web's fetchData). Results are cached per
// request, so a pattern used twice is read once; every use is charged
// (chargePoints) before its copies are made. A pattern the request's
// estimate saw once (the common case) is not copied: its first use gets
// the fetched series themselves (lent), and a use the estimate did not
// foresee reads the store again.
func (e *Env) fetch(pattern string, from, until int64) ([]*Series, error) {
	key := fetchKey{pattern, from, until, e.Now}
	e.st.mu.Lock()
	cached, ok := e.st.cache.get(key)
	lent, _ := e.st.lent.get(key)
	uses, _ := e.st.uses.get(pattern)
	once := uses <= 1
	e.st.mu.Unlock()
	if ok && !lent {
		return e.copies(cached)
	}
	names, err := e.leaves(pattern)
	if err != nil {
		return nil, err
	}
	cached, err = e.fetchNames(names, pattern, from, until)
	if err != nil {
		return nil, err
	}
	if isTaggedPattern(pattern) {
		// graphite-web names a series found by its tagged name by the
		// name as written in the target; its tags are the stored
		// (normalised) series' tags.
		for _, s := range cached {
			s.Name, s.PathExpression = pattern, pattern
		}
	}
	if lent || once {
		e.st.mu.Lock()
		e.st.lent.set(key, true)
		e.st.cache.set(key, nil)
		e.st.mu.Unlock()
		return cached, nil
	}
	e.st.mu.Lock()
	e.st.cache.set(key, cached)
	e.st.mu.Unlock()
	return cloneAll(cached), nil
}

// copies charges and returns private copies of cached series.
func (e *Env) copies(cached []*Series) ([]*Series, error) {
	var n int64
	for _, s := range cached {
		n += int64(len(s.Values))
	}
	if err := e.chargePoints(n); err != nil {
		return nil, err
	}
	return cloneAll(cached), nil
}

func cloneAll(list []*Series) []*Series {
	out := make([]*Series, len(list))
	for i, s := range list {
		out[i] = s.Copy()
	}
	return out
}

// fetchNamesCached fetches the given metric names (sorted here) with
// pathExpression as their path expression, cached per request under key.
func (e *Env) fetchNamesCached(key string, names []string, pathExpression string) ([]*Series, error) {
	k := fetchKey{"\x00" + key, e.From, e.Until, e.Now}
	e.st.mu.Lock()
	cached, ok := e.st.cache.get(k)
	e.st.mu.Unlock()
	if ok {
		return e.copies(cached)
	}
	cached, err := e.fetchNames(names, pathExpression, e.From, e.Until)
	if err != nil {
		return nil, err
	}
	e.st.mu.Lock()
	e.st.cache.set(k, cached)
	e.st.mu.Unlock()
	return cloneAll(cached), nil
}

// fetchCharge tracks the points of one fetchNames: prepaid from the
// archives' estimate before fetching, topped up (or refunded) by what the
// series really hold.
type fetchCharge struct {
	mu      sync.Mutex
	prepaid int64
	used    int64
}

func (e *Env) chargeFetched(fc *fetchCharge, n int64) error {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.used += n
	if fc.used <= fc.prepaid {
		return nil
	}
	extra := fc.used - fc.prepaid
	fc.prepaid = fc.used
	return e.chargePoints(extra)
}

// fetchNames fetches names in parallel (bounded) and returns the found
// series sorted by name. The points the names' archives hold over the
// time frame are charged before anything is fetched.
func (e *Env) fetchNames(names []string, pattern string, from, until int64) ([]*Series, error) {
	if len(names) > 1 {
		names = append([]string(nil), names...) // names may be cached
		sort.Strings(names)
	}
	lim := e.ev.limits
	e.st.mu.Lock()
	e.st.series += len(names)
	total := e.st.series
	e.st.mu.Unlock()
	if total > lim.MaxSeries {
		return nil, fmt.Errorf("%q: more than %d series in one request (render-max-series): %w", pattern, lim.MaxSeries, ErrLimit)
	}
	fc := &fetchCharge{prepaid: e.estimateNames(names, from, until)}
	if err := e.chargePoints(fc.prepaid); err != nil {
		return nil, err
	}
	mf, _ := e.ev.src.(ManyFetcher)
	batch := 1
	if mf != nil && mf.FetchBatch() > 0 {
		batch = mf.FetchBatch()
	} else {
		mf = nil
	}
	// One job per name, or per batch of names through mf; a job's error
	// is at its first index.
	results := make([]*Series, len(names))
	errs := make([]error, len(names))
	job := func(i int) {
		switch {
		case e.Ctx.Err() != nil:
			errs[i] = e.Ctx.Err()
		case mf != nil:
			j := min(i+batch, len(names))
			errs[i] = e.fetchBatch(mf, names[i:j], results[i:j], pattern, from, until, fc)
		default:
			results[i], errs[i] = e.fetchOne(names[i], pattern, from, until, fc)
		}
	}
	if workers := min(lim.FetchParallel, (len(names)+batch-1)/batch); workers <= 1 {
		// One job (a single name, the commonest render): done here,
		// without a goroutine and a channel to hand it over.
		for i := 0; i < len(names); i += batch {
			job(i)
		}
	} else {
		work := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					job(i)
				}
			}()
		}
		for i := 0; i < len(names); i += batch {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	if refund := fc.prepaid - fc.used; refund > 0 {
		_ = e.chargePoints(-refund) // a refund never fails
	}
	out := results[:0]
	for i, s := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

func (e *Env) fetchOne(name, pattern string, from, until int64, fc *fetchCharge) (*Series, error) {
	ss, err := e.ev.src.Fetch(name, from, until, e.Now)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && ss == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	return e.adopt(name, pattern, ss, fc)
}

// fetchBatch fetches names with one FetchMany into into (nil for names
// not found).
func (e *Env) fetchBatch(mf ManyFetcher, names []string, into []*Series, pattern string, from, until int64, fc *fetchCharge) error {
	sers, err := mf.FetchMany(names, from, until, e.Now)
	if err == nil && len(sers) != len(names) {
		err = fmt.Errorf("%d series answered for %d names", len(sers), len(names))
	}
	if err != nil {
		return fmt.Errorf("fetching %d series (%q, …): %w", len(names), names[0], err)
	}
	for i, ss := range sers {
		if ss == nil {
			continue
		}
		if into[i], err = e.adopt(names[i], pattern, ss, fc); err != nil {
			return err
		}
	}
	return nil
}

// adopt charges the points of ss, fetched for name, and makes it a Series
// of the request.
func (e *Env) adopt(name, pattern string, ss *storage.Series, fc *fetchCharge) (*Series, error) {
	if ss.Pooled && e.RecycleValues {
		e.st.mu.Lock()
		e.st.pooled = append(e.st.pooled, ss.Values)
		e.st.mu.Unlock()
	}
	if err := e.chargeFetched(fc, int64(len(ss.Values))); err != nil {
		return nil, err
	}
	// The Source hands over its values (Source.Fetch): no copy.
	s := NewSeries(name, ss.Start, ss.End(), ss.Step, ss.Values, e.XFilesFactor)
	s.PathExpression = pattern
	return s, nil
}
