package memrelease

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultEvery  = 5 * time.Second
	DefaultMinGap = 30 * time.Second
	DefaultFloor  = 32 << 20
)

// Config tunes a Releaser; zero fields take the defaults.
type Config struct {
	// Every is how often the heap is looked at (a read of runtime/metrics).
	Every time.Duration
	// MinGap is the least time between two forced releases.
	MinGap time.Duration
	// Floor is the least surplus, in bytes, worth a forced release: the
	// heap must hold more than the last cycle's live bytes plus
	// max(Floor, live/2). Below it the runtime's own pacing is left alone.
	Floor uint64
	// Activity, when set, returns a count of requests answered so far. A
	// release asked for with Nudge waits for a check that finds it
	// unchanged since the previous check (no request answered for one
	// interval), so its collection does not land in a burst of requests.
	Activity func() uint64
	Logger   *slog.Logger
}

// Heap is what a check reads from runtime/metrics, in bytes.
type Heap struct {
	Cycles   uint64 // completed GC cycles
	Live     uint64 // heap the last cycle marked live (/gc/heap/live)
	Retained uint64 // heap memory not returned to the OS: objects, unused and free spans
	Free     uint64 // of which free spans (no object) the scavenger has not returned yet
	// Baseline is the least Live of the last baselineChecks checks: the
	// heap the server needed before the spike (the last cycle, run during
	// the spike, saw the spike's data live).
	Baseline uint64
	// QuietChecks is how many checks in a row, this one included, saw no
	// cycle complete; ForcedLive is what the last forced release found
	// live (0 before the first).
	QuietChecks int
	ForcedLive  uint64
}

// baselineChecks is how many checks Baseline looks back: 2 minutes at the
// default interval, so a lasting growth (new series) becomes the baseline
// within 2 minutes, and forced releases stop.
const baselineChecks = 24

// staleChecks is how many checks in a row without a cycle (15 s at the
// default interval) make the heap be compared with what the last forced
// release found live instead of Baseline: a spike that began before the
// first checks (a server busy from its first seconds) leaves no Live below
// it to compare with.
const staleChecks = 3

// Releaser runs the checks; Released counts the forced releases.
type Releaser struct {
	cfg        Config
	samples    []metrics.Sample
	lastCycles uint64
	lastForced time.Time
	quietRun   int                    // checks in a row without a cycle
	forcedLive uint64                 // Live after the last forced release
	lives      [baselineChecks]uint64 // Live at the last checks, a ring
	next       int
	activity   uint64 // Activity at the previous check
	nudged     atomic.Bool
	released   atomic.Uint64
}

// New returns a Releaser with cfg's zero fields defaulted.
func New(cfg Config) *Releaser {
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = DefaultMinGap
	}
	if cfg.Floor == 0 {
		cfg.Floor = DefaultFloor
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Releaser{cfg: cfg, samples: []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}}
}

// Released returns how many forced releases ran.
func (r *Releaser) Released() uint64 { return r.released.Load() }

// Nudge asks for one forced release, whatever Due says (after a write
// burst, when the memory it freed is garbage): it runs at the first check
// at least MinGap after the previous release that finds no request
// answered since the check before (Config.Activity).
func (r *Releaser) Nudge() { r.nudged.Store(true) }

// Run checks every cfg.Every until ctx ends.
func (r *Releaser) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Every)
	defer t.Stop()
	r.lastCycles = r.read().Cycles
	r.activity = r.requests()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.check(now)
		}
	}
}

func (r *Releaser) read() Heap {
	metrics.Read(r.samples)
	u := func(i int) uint64 {
		if r.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return r.samples[i].Value.Uint64()
	}
	return Heap{Cycles: u(0), Live: u(1), Retained: u(2) + u(3) + u(4), Free: u(4)}
}

// check looks at the heap once and releases when Due says so.
func (r *Releaser) check(now time.Time) {
	h := r.read()
	h.Baseline = r.baseline(h.Live)
	quiet := h.Cycles == r.lastCycles
	r.lastCycles = h.Cycles
	if quiet {
		r.quietRun++
	} else {
		r.quietRun = 0
	}
	h.QuietChecks, h.ForcedLive = r.quietRun, r.forcedLive
	requests := r.requests()
	idle := requests == r.activity
	r.activity = requests
	since := now.Sub(r.lastForced)
	nudged := r.nudged.Load() && idle && since >= r.cfg.MinGap
	if !nudged && !Due(h, quiet, since, r.cfg) {
		return
	}
	r.nudged.Store(false)
	debug.FreeOSMemory()
	after := r.read()
	r.lastCycles, r.lastForced = after.Cycles, now
	r.quietRun, r.forcedLive = 0, after.Live
	r.lives[(r.next+baselineChecks-1)%baselineChecks] = after.Live
	r.released.Add(1)
	reason := "spike"
	if nudged {
		reason = "nudged" // Nudge: after pebble's idle flush, no request answered for a check
	}
	r.cfg.Logger.Info("returned memory to the OS", "reason", reason, "heap_retained_before", h.Retained,
		"live_at_last_gc_before", h.Live, "heap_retained_after", after.Retained, "live_after", after.Live)
}

// requests is Config.Activity's count, 0 without it.
func (r *Releaser) requests() uint64 {
	if r.cfg.Activity == nil {
		return 0
	}
	return r.cfg.Activity()
}

// baseline records live and returns the least of the recorded ones (the
// zeros of checks not yet made do not count).
func (r *Releaser) baseline(live uint64) uint64 {
	r.lives[r.next] = live
	r.next = (r.next + 1) % baselineChecks
	least := live
	for _, l := range r.lives {
		if l != 0 {
			least = min(least, l)
		}
	}
	return least
}

// Due reports whether a forced release is worth it: the last one is at
// least MinGap ago and either the free spans the scavenger has yet to
// return exceed max(Floor, Live/2) (a cycle ran after the spike, but the
// background scavenger returns its pages only slowly), or no GC cycle
// completed since the previous check (quiet: the runtime will not collect
// soon by itself) while the heap retains more than Baseline +
// max(Floor, Baseline/2) (the garbage of the spike, uncollected: the
// runtime waits for the heap to double what the last cycle, run during the
// spike, found live), or no cycle completed for staleChecks checks while
// the heap retains more than ForcedLive + max(Floor, ForcedLive/2) (the
// spike began before the checks that make up Baseline; once a forced
// release measured the live heap it is the reference, so an idle server
// whose heap is all live pays one extra collection, not one per MinGap).
func Due(h Heap, quiet bool, sinceForced time.Duration, cfg Config) bool {
	if sinceForced < cfg.MinGap {
		return false
	}
	if h.Free > max(cfg.Floor, h.Live/2) {
		return true
	}
	if !quiet {
		return false
	}
	if h.Retained > h.Baseline+max(cfg.Floor, h.Baseline/2) {
		return true
	}
	return h.QuietChecks >= staleChecks && h.Retained > h.ForcedLive+max(cfg.Floor, h.ForcedLive/2)
}
