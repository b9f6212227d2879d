package limits

import (
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Verdict is the answer for a new series.
type Verdict uint8

const (
	// Admit: create the series (its usage is charged).
	Admit Verdict = iota
	// Defer: over the creation rate only; keep its points and ask again.
	Defer
	// Reject: over the series cap or a quota; drop its points.
	Reject
)

// Reason says which limit a series or point hit.
type Reason uint8

// The reasons, as /metrics labels them (Reason.String).
const (
	None Reason = iota
	MaxSeries
	CreateRate
	QuotaMetrics
	QuotaDataPoints
	QuotaLogicalSize
	QuotaPhysicalSize
	QuotaThroughput
	DeferredFull
	numReasons
)

var reasonNames = [numReasons]string{"", "max_series", "create_rate", "quota_metrics", "quota_data_points",
	"quota_logical_size", "quota_physical_size", "quota_throughput", "deferred_full"}

// String is the reason's /metrics label.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", r)
}

// Reasons lists every reason but None.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := None + 1; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}

// Size is what one series costs against the size quotas.
type Size struct {
	DataPoints, Logical, Physical int64
}

// Config sets the limits. Zero values are no limit.
type Config struct {
	// MaxSeries caps the series in all (those found at start included).
	MaxSeries int64
	// MaxCreates new series per CreateWindow (carbon's
	// MAX_CREATES_PER_MINUTE with the default window of a minute); a
	// token bucket holding at most MaxCreates.
	MaxCreates   int64
	CreateWindow time.Duration
	// ThroughputWindow is the window of the quotas' throughput (points per
	// window; go-carbon's quota-usage-report-frequency). Default 1 minute.
	ThroughputWindow time.Duration
	// Rules are the namespace quotas (ParseQuotas).
	Rules []Rule
	// SizeOf gives a series' cost against the size quotas (from its
	// schema). Required when a rule has a size or data-points quota.
	SizeOf func(name string) Size
	// Walk visits every existing series name; usage is counted from it at
	// New and at every SetRules.
	Walk func(fn func(name string) bool)
	// Logger receives rejections, at most one line per reason per LogEvery
	// (default 10 s).
	Logger   *slog.Logger
	LogEvery time.Duration
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// usage is one namespace's consumption against its rule.
type usage struct {
	rule                     *Rule
	ns                       string
	series, points, logical  atomic.Int64
	physical                 atomic.Int64
	window, taken, throttled atomic.Int64
}

// ruleSet is one generation of quota rules with their usage.
type ruleSet struct {
	gen   uint32
	rules []Rule
	// per rule, its namespaces' usage (guarded by Limits.mu for inserts;
	// read under it too: lookups are on the new-series path only).
	usage      []map[string]*usage
	sized      bool // a rule has a size or data-points quota
	throughput bool // a rule has a throughput quota
}

// Binding is a series' handle on the throughput quotas of its namespaces
// (nil when none applies). Take is per point.
type Binding []*usage

// Take reports whether one more point fits the throughput of every
// namespace in b during window (Limits.Window). It does not allocate.
func (b Binding) Take(window int64) bool {
	ok := true
	for _, u := range b {
		if w := u.window.Load(); w != window && u.window.CompareAndSwap(w, window) {
			u.taken.Store(0)
		}
		if u.taken.Add(1) > u.rule.Throughput && u.rule.Throughput != 0 {
			u.throttled.Add(1)
			if !u.rule.Observe {
				ok = false
			}
		}
	}
	return ok
}

// Namespace returns the namespace whose throughput a refused point hit.
func (b Binding) Namespace() string {
	for _, u := range b {
		if u.taken.Load() > u.rule.Throughput {
			return u.ns
		}
	}
	return ""
}

type rejectKey struct {
	reason Reason
	ns     string
}

// Limits is safe for concurrent use.
type Limits struct {
	cfg Config
	set atomic.Pointer[ruleSet]
	gen atomic.Uint32
	// counting: the stored series are not all known yet (whisper's
	// startup scan); new names are counted, not refused (SetCounting).
	counting atomic.Bool

	mu     sync.Mutex // guards the fields below and the rule sets' usage maps
	series int64
	tokens float64
	refill time.Time

	rejected [numReasons]atomic.Uint64 // series (or points, for throughput and deferred_full)
	points   [numReasons]atomic.Uint64 // points dropped
	byNS     sync.Map                  // rejectKey → *atomic.Uint64
	nsCount  atomic.Int64

	logMu   sync.Mutex
	logNext [numReasons]time.Time
	logSkip [numReasons]uint64
}

// maxRejectNamespaces bounds the distinct namespaces counted in
// Rejections; past it rejections count under "other".
const maxRejectNamespaces = 10_000

// New builds the limits and counts the existing series (cfg.Walk).
func New(cfg Config) *Limits {
	if cfg.CreateWindow <= 0 {
		cfg.CreateWindow = time.Minute
	}
	if cfg.ThroughputWindow <= 0 {
		cfg.ThroughputWindow = time.Minute
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limits{cfg: cfg, tokens: float64(cfg.MaxCreates), refill: cfg.Now()}
	l.SetRules(cfg.Rules)
	return l
}

// Enabled reports whether any limit is set.
func (l *Limits) Enabled() bool {
	return l != nil && (l.cfg.MaxSeries > 0 || l.cfg.MaxCreates > 0 || len(l.set.Load().rules) > 0)
}

// SetRules replaces the quota rules (a reload) and recounts every
// namespace's usage from cfg.Walk. Throughput windows start afresh.
func (l *Limits) SetRules(rules []Rule) {
	rs := &ruleSet{gen: l.gen.Add(1), rules: make([]Rule, len(rules))}
	copy(rs.rules, rules)
	rs.usage = make([]map[string]*usage, len(rules))
	for i := range rs.rules {
		r := &rs.rules[i]
		if r.segs == nil && r.Pattern != "/" {
			if c, err := compileRule(r.Pattern); err == nil {
				r.depth, r.segs = c.depth, c.segs
			}
		}
		rs.usage[i] = map[string]*usage{}
		if r.DataPoints != 0 || r.LogicalSize != 0 || r.PhysicalSize != 0 {
			rs.sized = true
		}
		if r.Throughput != 0 {
			rs.throughput = true
		}
	}
	var total int64
	if l.cfg.Walk != nil {
		var buf [maxPatternSegments + 1]*usage
		l.cfg.Walk(func(name string) bool {
			total++
			us := l.matchInto(rs, metricPart(name), buf[:0], true)
			l.charge(rs, us, name)
			return true
		})
	}
	l.mu.Lock()
	if l.cfg.Walk != nil {
		l.series = total
	}
	l.set.Store(rs)
	l.mu.Unlock()
}

// SetCounting says whether the stored series are still being found (a
// backend's startup scan): meanwhile a stored series would look new, so
// AdmitNew admits every name (counting it) instead of refusing or
// deferring. SetRules after the scan counts usage afresh.
func (l *Limits) SetCounting(on bool) { l.counting.Store(on) }

// Gen is the rules' generation: a series bound under another generation
// binds again (Bind).
func (l *Limits) Gen() uint32 { return l.set.Load().gen }

// Window is the throughput window t falls in.
func (l *Limits) Window(t time.Time) int64 {
	return t.UnixNano() / int64(l.cfg.ThroughputWindow)
}

// metricPart is the name without its tags (carbon's tagged "a.b;k=v").
func metricPart(name string) string {
	if i := strings.IndexByte(name, ';'); i >= 0 {
		return name[:i]
	}
	return name
}

// matchInto appends the usage of every namespace governing name: at each
// depth, the last rule matching. create makes missing usage entries;
// otherwise a namespace without one is skipped. Caller holds l.mu unless
// rs is not yet published.
func (l *Limits) matchInto(rs *ruleSet, name string, dst []*usage, create bool) []*usage {
	var depths uint64
	for i := len(rs.rules) - 1; i >= 0; i-- {
		r := &rs.rules[i]
		if depths&(1<<r.depth) != 0 {
			continue
		}
		ns, ok := r.namespaceOf(name)
		if !ok {
			continue
		}
		depths |= 1 << r.depth
		u := rs.usage[i][ns]
		if u == nil {
			if !create {
				dst = append(dst, &usage{rule: r, ns: ns}) // a namespace with nothing yet
				continue
			}
			u = &usage{rule: r, ns: strings.Clone(ns)}
			rs.usage[i][u.ns] = u
		}
		dst = append(dst, u)
	}
	return dst
}

func (l *Limits) charge(rs *ruleSet, us []*usage, name string) {
	var sz Size
	if rs.sized && l.cfg.SizeOf != nil && len(us) > 0 {
		sz = l.cfg.SizeOf(name)
	}
	addUsage(us, sz, 1)
}

// addUsage adds (sign 1) or takes back (-1) one series of size sz.
func addUsage(us []*usage, sz Size, sign int64) {
	for _, u := range us {
		u.series.Add(sign)
		u.points.Add(sign * sz.DataPoints)
		u.logical.Add(sign * sz.Logical)
		u.physical.Add(sign * sz.Physical)
	}
}

// over reports the first quota adding a series of size sz would pass.
func over(u *usage, sz Size) Reason {
	r := u.rule
	switch {
	case r.Metrics != 0 && u.series.Load()+1 > r.Metrics:
		return QuotaMetrics
	case r.DataPoints != 0 && u.points.Load()+sz.DataPoints > r.DataPoints:
		return QuotaDataPoints
	case r.LogicalSize != 0 && u.logical.Load()+sz.Logical > r.LogicalSize:
		return QuotaLogicalSize
	case r.PhysicalSize != 0 && u.physical.Load()+sz.Physical > r.PhysicalSize:
		return QuotaPhysicalSize
	}
	return None
}

// AdmitNew decides for a name that is neither buffered nor stored. Admit
// charges its usage; Reject counts the rejection (reason and namespace) and
// logs it with a rate limit; Defer (over the creation rate) counts it under
// CreateRate. ignoreRate admits past the creation rate (shutdown: what was
// accepted is written). name is not retained unless admitted.
func (l *Limits) AdmitNew(name string, ignoreRate bool) (Verdict, Reason) {
	rs := l.set.Load()
	var buf [8]*usage
	l.mu.Lock()
	if l.counting.Load() {
		l.series++
		l.charge(rs, l.matchInto(rs, metricPart(name), buf[:0], true), name)
		l.mu.Unlock()
		return Admit, None
	}
	if l.cfg.MaxSeries > 0 && l.series >= l.cfg.MaxSeries {
		l.mu.Unlock()
		l.reject(MaxSeries, "/", name)
		return Reject, MaxSeries
	}
	us := l.matchInto(rs, metricPart(name), buf[:0], false)
	var sz Size
	if rs.sized && l.cfg.SizeOf != nil && len(us) > 0 {
		sz = l.cfg.SizeOf(name)
	}
	for _, u := range us {
		if why := over(u, sz); why != None {
			if u.rule.Observe {
				u.throttled.Add(1)
				continue
			}
			l.mu.Unlock()
			l.reject(why, u.ns, name)
			return Reject, why
		}
	}
	if l.cfg.MaxCreates > 0 && !ignoreRate {
		now := l.cfg.Now()
		rate := float64(l.cfg.MaxCreates) / l.cfg.CreateWindow.Seconds()
		l.tokens = math.Min(float64(l.cfg.MaxCreates), l.tokens+now.Sub(l.refill).Seconds()*rate)
		l.refill = now
		if l.tokens < 1 {
			l.mu.Unlock()
			return Defer, CreateRate
		}
		l.tokens--
	}
	l.series++
	// Charge: the namespaces without usage yet get theirs now.
	addUsage(l.matchInto(rs, metricPart(name), us[:0], true), sz, 1)
	l.mu.Unlock()
	return Admit, None
}

// Forget gives back the usage of a series that no longer exists (deleted).
func (l *Limits) Forget(name string) {
	rs := l.set.Load()
	var sz Size
	if rs.sized && l.cfg.SizeOf != nil {
		sz = l.cfg.SizeOf(name)
	}
	var buf [8]*usage
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.series > 0 {
		l.series--
	}
	var live []*usage
	for _, u := range l.matchInto(rs, metricPart(name), buf[:0], false) {
		if u.series.Load() > 0 {
			live = append(live, u)
		}
	}
	addUsage(live, sz, -1)
}

// Count counts a series that exists without being admitted (the new name
// of a renamed series: an operator's act, never refused) against the cap
// and its namespaces' quotas.
func (l *Limits) Count(name string) {
	rs := l.set.Load()
	var buf [8]*usage
	l.mu.Lock()
	l.series++
	l.charge(rs, l.matchInto(rs, metricPart(name), buf[:0], true), name)
	l.mu.Unlock()
}

// Bind returns the throughput binding of an admitted or existing series,
// nil when no throughput quota governs it. It allocates only when one does.
func (l *Limits) Bind(name string) Binding {
	rs := l.set.Load()
	if !rs.throughput {
		return nil
	}
	var buf [8]*usage
	l.mu.Lock()
	us := l.matchInto(rs, metricPart(name), buf[:0], true)
	var b Binding
	for _, u := range us {
		if u.rule.Throughput != 0 {
			b = append(b, u)
		}
	}
	l.mu.Unlock()
	return b
}

// CountDeferred counts a new series deferred by the creation rate (once
// per series, however often it is asked again).
func (l *Limits) CountDeferred() { l.rejected[CreateRate].Add(1) }

// PointsDropped counts n points dropped for reason.
func (l *Limits) PointsDropped(reason Reason, n uint64) { l.points[reason].Add(n) }

// Throttled counts a point refused by a throughput quota in namespace ns
// and logs it with a rate limit.
func (l *Limits) Throttled(ns, name string) {
	l.points[QuotaThroughput].Add(1)
	l.reject(QuotaThroughput, ns, name)
}

// DeferredFull counts a point of a deferred series dropped because the
// deferred points are at their bound.
func (l *Limits) DeferredFull(name string) {
	l.points[DeferredFull].Add(1)
	l.reject(DeferredFull, "/", name)
}

func (l *Limits) reject(why Reason, ns, name string) {
	l.rejected[why].Add(1)
	key := rejectKey{why, ns}
	c, ok := l.byNS.Load(key)
	if !ok {
		if l.nsCount.Load() >= maxRejectNamespaces {
			key.ns = "other"
		} else {
			key.ns = strings.Clone(ns)
			l.nsCount.Add(1)
		}
		c, _ = l.byNS.LoadOrStore(key, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
	now := l.cfg.Now()
	l.logMu.Lock()
	if now.Before(l.logNext[why]) {
		l.logSkip[why]++
		l.logMu.Unlock()
		return
	}
	skipped := l.logSkip[why]
	l.logSkip[why] = 0
	l.logNext[why] = now.Add(l.cfg.LogEvery)
	l.logMu.Unlock()
	l.cfg.Logger.Warn("series limit: rejected", "reason", why.String(), "namespace", ns, "name", name,
		"more_since_last_log", skipped, "log_every", l.cfg.LogEvery)
}

// Rejection is a count of rejections for one reason and namespace: series
// for the series quotas and the cap, points for throughput and
// deferred_full.
type Rejection struct {
	Reason    Reason
	Namespace string
	Count     uint64
}

// Rejections returns the counts by reason and namespace, sorted.
func (l *Limits) Rejections() []Rejection {
	var out []Rejection
	l.byNS.Range(func(k, v any) bool {
		key := k.(rejectKey)
		out = append(out, Rejection{key.reason, key.ns, v.(*atomic.Uint64).Load()})
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Reason != out[j].Reason {
			return out[i].Reason < out[j].Reason
		}
		return out[i].Namespace < out[j].Namespace
	})
	return out
}

// Rejected is the count for reason over every namespace (for CreateRate:
// the times a new series was deferred).
func (l *Limits) Rejected(r Reason) uint64 { return l.rejected[r].Load() }

// RefusedCreates is the new series refused (the cap and the series and size
// quotas) or deferred by the creation rate: carbon's droppedCreates.
func (l *Limits) RefusedCreates() uint64 {
	var n uint64
	for _, r := range []Reason{MaxSeries, CreateRate, QuotaMetrics, QuotaDataPoints, QuotaLogicalSize, QuotaPhysicalSize} {
		n += l.rejected[r].Load()
	}
	return n
}

// DroppedPoints is the points dropped for reason.
func (l *Limits) DroppedPoints(r Reason) uint64 { return l.points[r].Load() }

// Series is the series counted against MaxSeries.
func (l *Limits) Series() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.series
}

// Usage is one namespace's consumption and its rule.
type Usage struct {
	Pattern, Namespace                    string
	Series, DataPoints, Logical, Physical int64
	Taken, Throttled                      int64 // points in the current throughput window; refused (or observed over quota)
	Rule                                  Rule
}

// Usages lists every namespace with usage, sorted by pattern then namespace.
func (l *Limits) Usages() []Usage {
	rs := l.set.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Usage
	for i, m := range rs.usage {
		for _, u := range m {
			out = append(out, Usage{Pattern: rs.rules[i].Pattern, Namespace: u.ns, Series: u.series.Load(),
				DataPoints: u.points.Load(), Logical: u.logical.Load(), Physical: u.physical.Load(),
				Taken: u.taken.Load(), Throttled: u.throttled.Load(), Rule: rs.rules[i]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Namespace < out[j].Namespace
	})
	return out
}
