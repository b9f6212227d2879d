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
// request, so a pattern used twice is read once.
func (e *Env) fetch(pattern string, from, until int64) ([]*Series, error) {
	key := fetchKey{pattern, from, until, e.Now}
	e.st.mu.Lock()
	cached, ok := e.st.cache[key]
	e.st.mu.Unlock()
	if !ok {
		var err error
		cached, err = e.fetchUncached(pattern, from, until)
		if err != nil {
			return nil, err
		}
		e.st.mu.Lock()
		e.st.cache[key] = cached
		e.st.mu.Unlock()
	}
	out := make([]*Series, len(cached))
	for i, s := range cached {
		out[i] = s.Copy()
	}
	return out, nil
}

func (e *Env) fetchUncached(pattern string, from, until int64) ([]*Series, error) {
	nodes, err := e.ev.src.Find(pattern)
	if err != nil {
		// The index fails only on hostile patterns (too long, too many
		// alternatives): the client's fault.
		return nil, inputErrorf("finding %q: %v", pattern, err)
	}
	var names []string
	seen := map[string]bool{}
	for _, n := range nodes {
		if n.Leaf && !seen[n.Path] {
			seen[n.Path] = true
			names = append(names, n.Path)
		}
	}
	return e.fetchNames(names, pattern, from, until)
}

// fetchNamesCached fetches the given metric names (sorted here) with
// pathExpression as their path expression, cached per request under key.
func (e *Env) fetchNamesCached(key string, names []string, pathExpression string) ([]*Series, error) {
	k := fetchKey{"\x00" + key, e.From, e.Until, e.Now}
	e.st.mu.Lock()
	cached, ok := e.st.cache[k]
	e.st.mu.Unlock()
	if !ok {
		var err error
		cached, err = e.fetchNames(names, pathExpression, e.From, e.Until)
		if err != nil {
			return nil, err
		}
		e.st.mu.Lock()
		e.st.cache[k] = cached
		e.st.mu.Unlock()
	}
	out := make([]*Series, len(cached))
	for i, s := range cached {
		out[i] = s.Copy()
	}
	return out, nil
}

// fetchNames fetches names in parallel (bounded) and returns the found
// series sorted by name.
func (e *Env) fetchNames(names []string, pattern string, from, until int64) ([]*Series, error) {
	names = append([]string(nil), names...)
	sort.Strings(names)
	lim := e.ev.limits
	e.st.mu.Lock()
	e.st.series += len(names)
	total := e.st.series
	e.st.mu.Unlock()
	if total > lim.MaxSeries {
		return nil, fmt.Errorf("%q: more than %d series in one request: %w", pattern, lim.MaxSeries, ErrLimit)
	}
	results := make([]*Series, len(names))
	errs := make([]error, len(names))
	work := make(chan int)
	var wg sync.WaitGroup
	workers := min(lim.FetchParallel, len(names))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if e.Ctx.Err() != nil {
					errs[i] = e.Ctx.Err()
					continue
				}
				results[i], errs[i] = e.fetchOne(names[i], pattern, from, until)
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
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

func (e *Env) fetchOne(name, pattern string, from, until int64) (*Series, error) {
	ss, err := e.ev.src.Fetch(name, from, until, e.Now)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && ss == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	e.st.mu.Lock()
	e.st.points += len(ss.Values)
	points := e.st.points
	e.st.mu.Unlock()
	if points > e.ev.limits.MaxPoints {
		return nil, fmt.Errorf("more than %d points in one request: %w", e.ev.limits.MaxPoints, ErrLimit)
	}
	vals := append([]float64(nil), ss.Values...)
	s := NewSeries(name, ss.Start, ss.End(), ss.Step, vals, e.XFilesFactor)
	s.PathExpression = pattern
	return s, nil
}
