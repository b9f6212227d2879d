package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/plumbago/plumbago/query/budget"
	"github.com/plumbago/plumbago/query/target"
	"github.com/plumbago/plumbago/storage"
)

// Source is what the evaluator reads: storage.Store's Find and Fetch.
type Source interface {
	// Find expands a glob (storage.Store.Find semantics).
	Find(pattern string) ([]storage.Node, error)
	// Fetch returns name's values over (from, until] at time now with
	// whisper's semantics; storage.ErrNotFound (or a nil series) for
	// unknown or out-of-retention metrics. The caller owns the returned
	// series and its Values (the evaluator computes in them).
	Fetch(name string, from, until, now int64) (*storage.Series, error)
}

// ManyFetcher is a Source that reads many series in one request
// (storage/cache.Cache over storage/clickhouse): the evaluator fetches a
// pattern's names with it, FetchBatch names at a time, when the Source has
// it and FetchBatch is above 0.
type ManyFetcher interface {
	// FetchBatch is how many names one FetchMany should carry; 0 when the
	// Source reads series one by one (the evaluator then fetches them in
	// parallel with Fetch).
	FetchBatch() int
	// FetchMany is Fetch for each of names at time now: the series in
	// names' order, nil for a name Fetch answers storage.ErrNotFound. The
	// caller owns the series.
	FetchMany(names []string, from, until, now int64) ([]*storage.Series, error)
}

// LimitedFinder is a Source whose find stops walking once it has matched
// more than limit nodes (storage/cache.Cache), so a find's memory is
// bounded before it is spent. FindAtMost uses it when the Source has it.
type LimitedFinder interface {
	// FindLimit is Find keeping at most limit nodes (limit > 0); past it
	// the error wraps storage.ErrTooManyResults.
	FindLimit(pattern string, limit int) ([]storage.Node, error)
}

// FindAtMost finds pattern in src keeping at most limit nodes (0: none);
// more fails with an error wrapping storage.ErrTooManyResults. Through a
// LimitedFinder the walk stops there; another Source finds everything
// first.
func FindAtMost(src Source, pattern string, limit int) ([]storage.Node, error) {
	var nodes []storage.Node
	var err error
	if lf, ok := src.(LimitedFinder); ok {
		nodes, err = lf.FindLimit(pattern, max(limit, 1))
	} else {
		nodes, err = src.Find(pattern)
	}
	if err == nil && len(nodes) > limit {
		err = fmt.Errorf("more than %d: %w", limit, storage.ErrTooManyResults)
	}
	if err != nil {
		return nil, err
	}
	return nodes, nil
}

// Limits bound one request, and the query memory budget every request
// shares.
type Limits struct {
	MaxSeries      int           // series fetched per request (0 = 100,000)
	MaxPoints      int           // points per request, fetched and generated (0 = 20,000,000 or MemoryBudget/BytesPerPoint if less)
	FetchParallel  int           // concurrent fetches (0 = 8)
	Timeout        time.Duration // whole evaluation (0 = 30 s)
	MaxTargets     int           // targets per request (0 = 100)
	MaxCallsPerReq int           // function calls evaluated per request (0 = 10,000)
	// MemoryBudget is the per-process query memory budget in bytes: a
	// render reserves its estimated points × BytesPerPoint before it
	// fetches (0 = 2 GiB).
	MemoryBudget int64
	// QueueWait is how long a render waits for the budget before it is
	// refused with ErrBusy (0 = 10 s).
	QueueWait time.Duration
	// MaxFindResults bounds the nodes of one find, expand or index answer
	// (0 = 100,000).
	MaxFindResults int
	// MaxTagResults bounds the answers of the tag endpoints and the
	// series of one seriesByTag (0 = 100,000).
	MaxTagResults int
	// MaxEvents bounds the events of one /events answer (0 = 10,000).
	MaxEvents int
	// MaxIndexResults bounds the names of /metrics/index.json
	// (0 = 5,000,000).
	MaxIndexResults int
	// MaxTargetLen bounds the bytes of one target (0 = 64 KiB).
	MaxTargetLen int
	// MaxCallDepth bounds the nesting of calls in one target (0 = 64).
	MaxCallDepth int
	// MaxFindQueryLen bounds the bytes of one find, expand or carbonapi
	// glob pattern (0 = 4096).
	MaxFindQueryLen int
	// MaxTagParams bounds the expressions or paths of one tags request
	// (0 = 10,000).
	MaxTagParams int
	// MaxGeneratedPoints bounds the points one function may create for
	// one series (generators, summarize, hitcount, smartSummarize,
	// nPercentile, events) (0 = 5,000,000).
	MaxGeneratedPoints int
}

// TargetBounds are the parse bounds of a target under these limits.
func (l Limits) TargetBounds() target.Bounds {
	return target.Bounds{MaxLen: l.MaxTargetLen, MaxDepth: l.MaxCallDepth}
}

// BytesPerPoint is what one point of a request is charged against the
// query memory budget: its fetched value and copies (8 bytes each) and
// its share of the encoded response (about 22 bytes in json), rounded up.
const BytesPerPoint = 64

func (l Limits) withDefaults() Limits {
	if l.MaxSeries <= 0 {
		l.MaxSeries = 100_000
	}
	if l.MemoryBudget <= 0 {
		l.MemoryBudget = 2 << 30
	}
	if l.QueueWait <= 0 {
		l.QueueWait = 10 * time.Second
	}
	if l.MaxPoints <= 0 {
		l.MaxPoints = int(min(20_000_000, l.MemoryBudget/BytesPerPoint))
	}
	if l.FetchParallel <= 0 {
		l.FetchParallel = 8
	}
	if l.Timeout <= 0 {
		l.Timeout = 30 * time.Second
	}
	if l.MaxTargets <= 0 {
		l.MaxTargets = 100
	}
	if l.MaxCallsPerReq <= 0 {
		l.MaxCallsPerReq = 10000
	}
	if l.MaxFindResults <= 0 {
		l.MaxFindResults = 100_000
	}
	if l.MaxTagResults <= 0 {
		l.MaxTagResults = 100_000
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = 10_000
	}
	if l.MaxIndexResults <= 0 {
		l.MaxIndexResults = 5_000_000
	}
	if l.MaxTargetLen <= 0 {
		l.MaxTargetLen = target.MaxLen
	}
	if l.MaxCallDepth <= 0 {
		l.MaxCallDepth = target.MaxDepth
	}
	if l.MaxFindQueryLen <= 0 {
		l.MaxFindQueryLen = 4096
	}
	if l.MaxTagParams <= 0 {
		l.MaxTagParams = 10_000
	}
	if l.MaxGeneratedPoints <= 0 {
		l.MaxGeneratedPoints = 5_000_000
	}
	return l
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

// Evaluator evaluates targets against a Source.
type Evaluator struct {
	src      Source
	limits   Limits
	tags     TagFinder
	events   EventFinder
	archives func(name string) []Archive
	budget   *budget.Budget
}

// EventFinder serves the events() function (e.g. events.Store).
type EventFinder interface {
	// EventTimes returns the times (unix seconds) of the events in
	// [from, until] carrying all of tags (nil = every event).
	EventTimes(from, until int64, tags []string) []int64
}

// SetEventFinder makes events() count the events of f (default: none).
func (ev *Evaluator) SetEventFinder(f EventFinder) { ev.events = f }

// NewEvaluator returns an evaluator reading src.
func NewEvaluator(src Source, limits Limits) *Evaluator {
	l := limits.withDefaults()
	return &Evaluator{src: src, limits: l, budget: budget.New(l.MemoryBudget, l.QueueWait)}
}

// SetArchives gives the evaluator the archives (finest first) a fetch of
// a name would read, so a render's points are estimated and refused
// before anything is fetched. Without it fetched points are counted as
// they arrive.
func (ev *Evaluator) SetArchives(f func(name string) []Archive) { ev.archives = f }

// BudgetStats returns the query memory budget's counters.
func (ev *Evaluator) BudgetStats() budget.Stats { return ev.budget.Stats() }

// Limits returns the effective limits.
func (ev *Evaluator) Limits() Limits { return ev.limits }

// Request is the time frame and options of one render request.
type Request struct {
	From, Until, Now int64 // epoch seconds
	XFilesFactor     float64
	Loc              *time.Location
	// Template holds the request's template[name]=value parameters, which
	// override template() arguments.
	Template [][2]string
	// RecycleValues says the caller of EvalReserved uses none of the
	// series after calling release (it has encoded its answer): the
	// fetched series' pooled buffers (storage.GetValues) are handed back
	// then, for later fetches to reuse.
	RecycleValues bool
}

// ErrLimit is wrapped by errors from exceeded limits (HTTP 400/413).
var ErrLimit = errors.New("query limit exceeded")

// ErrBusy is wrapped by errors of renders refused because the query
// memory budget stayed full for the whole queue wait (HTTP 503).
var ErrBusy = errors.New("server busy")

// Env is the evaluation state of one request, passed to functions.
type Env struct {
	Ctx context.Context
	Request
	ev *Evaluator
	st *reqState
}

// reqState is shared by every Env of one request.
type reqState struct {
	mu     sync.Mutex
	cache  smallMap[fetchKey, []*Series]
	lent   smallMap[fetchKey, bool]   // fetched series handed out without a copy (fetch)
	uses   smallMap[string, int]      // path expressions' uses seen by the estimate
	finds  smallMap[string, []string] // leaves per pattern (estimate, then fetch)
	series int
	points int64 // charged: fetched, copied and generated
	// reserved is the bytes held in the evaluator's budget.
	reserved int64
	calls    int
	stacks   map[string][]float64 // stacked()'s running totals per stack name
	// xff is the request's xFilesFactor as changed by setXFilesFactor
	// (graphite-web changes it in the request context for everything
	// evaluated afterwards); hasXFF says whether it was set.
	xff    float64
	hasXFF bool
	// pooled holds the fetched values from storage.GetValues, handed
	// back at release when the request says RecycleValues.
	pooled [][]float64
}

type fetchKey struct {
	pattern          string
	from, until, now int64
}

// NewEnv starts the evaluation of one request; call cancel when done.
func (ev *Evaluator) NewEnv(ctx context.Context, req Request) (*Env, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, ev.limits.Timeout)
	if req.Loc == nil {
		req.Loc = time.UTC
	}
	// The Env and its state in one allocation.
	es := &struct {
		env Env
		st  reqState
	}{env: Env{Ctx: ctx, Request: req, ev: ev}}
	es.env.st = &es.st
	return &es.env, cancel
}

// Eval evaluates targets in order and concatenates their series, as
// graphite-web's evaluateTarget does. Blank targets are skipped.
func (ev *Evaluator) Eval(ctx context.Context, req Request, targets []string) ([]*Series, error) {
	list, release, err := ev.EvalReserved(ctx, req, targets)
	release()
	return list, err
}

// EvalReserved is Eval that keeps the request's share of the query memory
// budget until release is called (after the response is encoded). Before
// anything is fetched it estimates the points of every target (the
// resolved series over their archives, generators over their steps) and
// refuses the request (ErrLimit) past MaxPoints, then waits for that many
// points × BytesPerPoint of the budget (ErrBusy after QueueWait). release
// is never nil.
func (ev *Evaluator) EvalReserved(ctx context.Context, req Request, targets []string) (list []*Series, release func(), err error) {
	if len(targets) > ev.limits.MaxTargets {
		return nil, func() {}, fmt.Errorf("%d targets, at most %d allowed (render-max-targets): %w", len(targets), ev.limits.MaxTargets, ErrLimit)
	}
	env, cancel := ev.NewEnv(ctx, req)
	release = func() {
		cancel()
		env.st.mu.Lock()
		r := env.st.reserved
		env.st.reserved = 0
		pooled := env.st.pooled
		env.st.pooled = nil
		env.st.mu.Unlock()
		ev.budget.Release(r)
		for _, v := range pooled {
			storage.PutValues(v)
		}
	}
	nodes := make([]*target.Node, 0, len(targets))
	for _, t := range targets {
		if isBlank(t) {
			continue
		}
		n, err := target.ParseBounded(t, ev.limits.TargetBounds())
		if err != nil {
			return nil, release, &InputError{Msg: err.Error()}
		}
		nodes = append(nodes, n)
	}
	if err := env.reserve(nodes); err != nil {
		return nil, release, err
	}
	var out []*Series
	for _, n := range nodes {
		s, err := env.Eval(n)
		if err != nil {
			return nil, release, err
		}
		out = append(out, s...)
	}
	return out, release, nil
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			return false
		}
	}
	return true
}

// Eval evaluates a node in the request's time frame.
func (e *Env) Eval(n *target.Node) ([]*Series, error) {
	return e.EvalRange(n, e.From, e.Until)
}

// EvalRange evaluates a node over another time frame (timeShift,
// moving* windows); now stays the request's.
func (e *Env) EvalRange(n *target.Node, from, until int64) ([]*Series, error) {
	v, err := e.evalValue(n, from, until)
	if err != nil {
		return nil, err
	}
	if v.Kind != ValSeries {
		return nil, inputErrorf("target %q is not a series expression", n.String())
	}
	return v.Series, nil
}

func (e *Env) evalValue(n *target.Node, from, until int64) (Value, error) {
	if err := e.Ctx.Err(); err != nil {
		return Value{}, fmt.Errorf("evaluating: %w", err)
	}
	switch n.Kind {
	case target.KindPath:
		e.st.mu.Lock()
		if e.st.hasXFF {
			e.XFilesFactor = e.st.xff
		}
		e.st.mu.Unlock()
		s, err := e.fetch(n.Str, from, until)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: ValSeries, Series: s, Node: n}, nil
	case target.KindCall:
		s, err := e.call(n, from, until)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: ValSeries, Series: s, Node: n}, nil
	case target.KindString:
		return Value{Kind: ValString, Str: n.Str, Node: n}, nil
	case target.KindInt:
		return Value{Kind: ValNumber, Num: float64(n.Int), IsInt: true, Node: n}, nil
	case target.KindFloat:
		return Value{Kind: ValNumber, Num: n.Float, Node: n}, nil
	case target.KindBool:
		return Value{Kind: ValBool, Bool: n.Bool, Node: n}, nil
	case target.KindNone:
		return Value{Kind: ValNone, Node: n}, nil
	case target.KindInf:
		return Value{Kind: ValNumber, Num: math.Inf(1), Node: n}, nil
	}
	return Value{}, inputErrorf("unknown token in target evaluator")
}

func (e *Env) call(n *target.Node, from, until int64) ([]*Series, error) {
	e.st.mu.Lock()
	e.st.calls++
	calls := e.st.calls
	e.st.mu.Unlock()
	if calls > e.ev.limits.MaxCallsPerReq {
		return nil, fmt.Errorf("more than %d function calls: %w", e.ev.limits.MaxCallsPerReq, ErrLimit)
	}
	if n.Str == "template" {
		inner, err := expandTemplate(n, e.Template)
		if err != nil {
			return nil, err
		}
		return e.EvalRange(inner, from, until)
	}
	f, ok := Lookup(n.Str)
	if !ok {
		return nil, inputErrorf("Received request for unknown function: %s", n.Str)
	}
	preview := int64(-1)
	if f.Meta.Preview != nil && from < until {
		if p, ok := f.Meta.Preview(n); ok {
			preview = p
		}
	}
	pos := make([]Value, len(n.Args))
	for i, a := range n.Args {
		lo := from
		if i == 0 && preview >= 0 {
			lo = from - preview
		}
		v, err := e.evalValue(a, lo, until)
		if err != nil {
			return nil, err
		}
		pos[i] = v
	}
	var kw map[string]Value
	var order []string
	if len(n.Kwargs) > 0 {
		kw = make(map[string]Value, len(n.Kwargs))
		for _, k := range n.Kwargs {
			v, err := e.evalValue(k.Value, from, until)
			if err != nil {
				return nil, err
			}
			if _, dup := kw[k.Name]; !dup {
				order = append(order, k.Name)
			}
			kw[k.Name] = v
		}
	}
	args, err := bind(f, n, pos, kw, order)
	if err != nil {
		return nil, err
	}
	args.preview = preview
	e.st.mu.Lock()
	if e.st.hasXFF {
		e.XFilesFactor = e.st.xff
	}
	e.st.mu.Unlock()
	if from != e.From || until != e.Until {
		r := e.Request
		e.st.mu.Lock()
		if e.st.hasXFF {
			r.XFilesFactor = e.st.xff
		}
		e.st.mu.Unlock()
		r.From, r.Until = from, until
		return f.Fn(&Env{Ctx: e.Ctx, Request: r, ev: e.ev, st: e.st}, args)
	}
	return f.Fn(e, args)
}
