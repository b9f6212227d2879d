package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/plumbago/plumbago/query/budget"
	"github.com/plumbago/plumbago/query/target"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/tagged"
)

// Archive is one archive of a series: its step and retention in seconds.
type Archive struct{ Step, Retention int64 }

// ArchivePoints returns how many values whisper's fetch returns for
// (from, until] at time now from a series with archives (finest first):
// from is clamped to the oldest retained time and until to now, the
// archive is the finest whose retention covers now-from, and both ends are
// rounded to its step. 0 when nothing would be read.
func ArchivePoints(archives []Archive, from, until, now int64) int64 {
	if len(archives) == 0 || from >= until || from > now {
		return 0
	}
	maxRet := int64(0)
	for _, a := range archives {
		maxRet = max(maxRet, a.Retention)
	}
	from = max(from, now-maxRet)
	until = min(until, now)
	if from >= until {
		return 0
	}
	step := archives[schema.ArchiveFor(len(archives), func(i int) int64 { return archives[i].Retention }, now-from)].Step
	if step <= 0 {
		return 0
	}
	fromI := from - floorMod(from, step) + step
	untilI := until - floorMod(until, step) + step
	if fromI == untilI {
		untilI += step
	}
	return (untilI - fromI) / step
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// generatorStep says where a generator function takes its step: the
// positional argument index (-1 = fixed) and the default step.
var generatorStep = map[string]struct {
	arg  int
	step int64
}{
	"identity": {-1, 60}, "events": {-1, 1},
	"timeFunction": {1, 60}, "time": {1, 60},
	"sinFunction": {2, 60}, "sin": {2, 60},
	"randomWalkFunction": {1, 60}, "randomWalk": {1, 60},
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// reserve estimates the points of the request's targets before anything
// is fetched, refuses the request past MaxPoints and reserves points ×
// BytesPerPoint of the query memory budget for it.
func (e *Env) reserve(nodes []*target.Node) error {
	var total int64
	for _, n := range nodes {
		p, err := e.estimate(n, e.From, e.Until)
		if err != nil {
			return err
		}
		total = satAdd(total, p)
	}
	return e.reserveTotal(total)
}

func (e *Env) reserveTotal(total int64) error {
	lim := e.ev.limits
	if total > int64(lim.MaxPoints) {
		return fmt.Errorf("the targets would read %d points, more than the limit of %d points per request (render-max-points); narrow the time range or the series: %w",
			total, lim.MaxPoints, ErrLimit)
	}
	bytes := total * BytesPerPoint
	if err := e.ev.budget.Reserve(e.Ctx, bytes); err != nil {
		switch {
		case errors.Is(err, budget.ErrTooLarge):
			return fmt.Errorf("the targets would read %d points (%d bytes), more than the query memory budget (query-memory-budget): %w", total, bytes, ErrLimit)
		case errors.Is(err, budget.ErrExhausted):
			return fmt.Errorf("query memory budget full: %v (query-memory-budget, query-queue-wait); retry later: %w", err, ErrBusy)
		}
		return fmt.Errorf("waiting for the query memory budget: %w", err)
	}
	e.st.mu.Lock()
	e.st.reserved += bytes
	e.st.mu.Unlock()
	return nil
}

// estimate returns the points evaluating n over (from, until] fetches or
// generates, as far as they can be known before evaluating: every path's
// series over their archives, every seriesByTag's series, every
// generator's steps. Functions that read other time frames or resolve
// series while evaluating are charged when they do (chargePoints).
func (e *Env) estimate(n *target.Node, from, until int64) (int64, error) {
	if err := e.Ctx.Err(); err != nil {
		return 0, fmt.Errorf("estimating: %w", err)
	}
	switch n.Kind {
	case target.KindPath:
		e.st.mu.Lock()
		u, _ := e.st.uses.get(n.Str)
		e.st.uses.set(n.Str, u+1)
		e.st.mu.Unlock()
		names, err := e.leaves(n.Str)
		if err != nil {
			return 0, err
		}
		return e.estimateNames(names, from, until), nil
	case target.KindCall:
	default:
		return 0, nil
	}
	switch n.Str {
	case "template":
		inner, err := expandTemplate(n, e.Template)
		if err != nil {
			return 0, nil // evaluating reports it
		}
		return e.estimate(inner, from, until)
	case "seriesByTag":
		exprs := make([]string, 0, len(n.Args))
		for _, a := range n.Args {
			if a.Kind != target.KindString {
				return 0, nil // evaluating reports it
			}
			exprs = append(exprs, a.Str)
		}
		if len(exprs) == 0 || e.ev.tags == nil {
			return 0, nil
		}
		names, err := e.findTagged(exprs)
		if err != nil {
			return 0, err
		}
		return e.estimateNames(names, from, until), nil
	}
	if g, ok := generatorStep[n.Str]; ok {
		step := g.step
		if g.arg >= 0 && g.arg < len(n.Args) && n.Args[g.arg].Kind == target.KindInt {
			step = n.Args[g.arg].Int
		}
		for _, kw := range n.Kwargs {
			if kw.Name == "step" && kw.Value.Kind == target.KindInt {
				step = kw.Value.Int
			}
		}
		if step <= 0 || until <= from {
			return 0, nil
		}
		return (until - from + step - 1) / step, nil
	}
	var total int64
	for _, a := range n.Args {
		p, err := e.estimate(a, from, until)
		if err != nil {
			return 0, err
		}
		total = satAdd(total, p)
	}
	for _, kw := range n.Kwargs {
		p, err := e.estimate(kw.Value, from, until)
		if err != nil {
			return 0, err
		}
		total = satAdd(total, p)
	}
	return total, nil
}

// estimateNames sums ArchivePoints over names (0 without SetArchives).
func (e *Env) estimateNames(names []string, from, until int64) int64 {
	if e.ev.archives == nil {
		return 0
	}
	var total int64
	for _, name := range names {
		total = satAdd(total, ArchivePoints(e.ev.archives(name), from, until, e.Now))
	}
	return total
}

// IsTaggedPattern reports whether a path expression names one tagged
// series (graphite-web's finders: a ';' outside the _tagged tree).
func IsTaggedPattern(p string) bool { return isTaggedPattern(p) }

func isTaggedPattern(p string) bool {
	return strings.IndexByte(p, ';') >= 0 && !strings.HasPrefix(p, "_tagged.")
}

// leaves returns the metric names a path expression resolves to, cached
// per request. A tagged path (name;tag=value;...) resolves to the stored
// series of carbon's normalised form (tags sorted), as graphite-web's
// finders do; globs in it are literal.
func (e *Env) leaves(pattern string) ([]string, error) {
	e.st.mu.Lock()
	names, ok := e.st.finds.get(pattern)
	e.st.mu.Unlock()
	if ok {
		return names, nil
	}
	if isTaggedPattern(pattern) {
		// Not looked up in the index: carbon may have stored it under its
		// hash-only file name, which only Fetch resolves.
		names = []string{}
		if norm, err := tagged.Normalize(nil, []byte(pattern)); err == nil {
			names = append(names, string(norm))
		}
	} else {
		// Bounded before it is spent: branches count too, so the walk
		// stops past render-max-series + find-max-results nodes.
		lim := e.ev.limits.MaxSeries + e.ev.limits.MaxFindResults
		nodes, err := FindAtMost(e.ev.src, pattern, lim)
		if errors.Is(err, storage.ErrTooManyResults) {
			return nil, fmt.Errorf("%q matches more than %d nodes, the limit of render-max-series + find-max-results: %w", pattern, lim, ErrLimit)
		}
		if err != nil {
			// The index fails only on hostile patterns (too long, too many
			// alternatives): the client's fault.
			return nil, inputErrorf("finding %q: %v", pattern, err)
		}
		names = make([]string, 0, len(nodes))
		seen := map[string]bool{}
		for _, n := range nodes {
			if n.Leaf && !seen[n.Path] {
				seen[n.Path] = true
				names = append(names, n.Path)
			}
		}
	}
	if len(names) > e.ev.limits.MaxSeries {
		return nil, fmt.Errorf("%q matches %d series, more than the limit of %d series per request (render-max-series): %w",
			pattern, len(names), e.ev.limits.MaxSeries, ErrLimit)
	}
	e.st.mu.Lock()
	e.st.finds.set(pattern, names)
	e.st.mu.Unlock()
	return names, nil
}

// findTagged resolves seriesByTag expressions, cached per request and
// bounded by MaxTagResults.
func (e *Env) findTagged(exprs []string) ([]string, error) {
	key := "\x00" + strings.Join(exprs, "\x00")
	e.st.mu.Lock()
	names, ok := e.st.finds.get(key)
	e.st.mu.Unlock()
	if ok {
		return names, nil
	}
	names, err := e.ev.tags.FindSeries(exprs)
	if err != nil {
		return nil, inputErrorf("seriesByTag: %v", err)
	}
	if lim := e.ev.limits.MaxTagResults; len(names) > lim {
		return nil, fmt.Errorf("seriesByTag matches %d series, more than the limit of %d (tags-max-results): %w", len(names), lim, ErrLimit)
	}
	e.st.mu.Lock()
	e.st.finds.set(key, names)
	e.st.mu.Unlock()
	return names, nil
}

// EstimatePoints returns the points fetching names over (from, until] at
// now reads, from their archives (0 without SetArchives).
func (ev *Evaluator) EstimatePoints(names []string, from, until, now int64) int64 {
	e := Env{ev: ev, Request: Request{Now: now}}
	return e.estimateNames(names, from, until)
}

// Reserve refuses points past MaxPoints (ErrLimit) and reserves points ×
// BytesPerPoint of the query memory budget, waiting up to QueueWait
// (ErrBusy). release is never nil.
func (ev *Evaluator) Reserve(ctx context.Context, points int64) (release func(), err error) {
	env, cancel := ev.NewEnv(ctx, Request{})
	release = func() {
		cancel()
		ev.budget.Release(env.st.reserved)
		env.st.reserved = 0
	}
	return release, env.reserveTotal(points)
}

// chargePoints accounts n more points of this request (fetched, copied or
// generated) before they are allocated: past MaxPoints the request fails
// (ErrLimit); past its reservation it takes more of the query memory
// budget if free now, else fails (ErrBusy). A negative n refunds.
func (e *Env) chargePoints(n int64) error {
	st := e.st
	st.mu.Lock()
	defer st.mu.Unlock()
	st.points += n
	if lim := int64(e.ev.limits.MaxPoints); st.points > lim {
		return fmt.Errorf("more than %d points in one request (render-max-points); narrow the time range or the series: %w", lim, ErrLimit)
	}
	if need := st.points*BytesPerPoint - st.reserved; need > 0 {
		if !e.ev.budget.Grow(need) {
			return fmt.Errorf("query memory budget full (query-memory-budget); retry later: %w", ErrBusy)
		}
		st.reserved += need
	}
	return nil
}

// spend adds n units of work to *work and, every 2^20 units, returns the
// evaluation's error (timeout): loops whose iterations cost more than one
// step (moving windows) stop within about a million operations.
func (e *Env) spend(work *int, n int) error {
	*work += n
	if *work < 1<<20 {
		return nil
	}
	*work = 0
	if err := e.Ctx.Err(); err != nil {
		return fmt.Errorf("evaluating: %w", err)
	}
	return nil
}

// checkCancel returns the evaluation's error (timeout) every 65,536th
// iteration i of a long loop.
func (e *Env) checkCancel(i int) error {
	if i&0xffff != 0 {
		return nil
	}
	if err := e.Ctx.Err(); err != nil {
		return fmt.Errorf("evaluating: %w", err)
	}
	return nil
}
