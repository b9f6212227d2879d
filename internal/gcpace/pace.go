package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Defaults of Config.
const (
	DefaultFraction    = 0.25
	DefaultFloor       = 64 << 20
	DefaultGrowthFloor = 128 << 20
)

// Config tunes a Pacer; zero fields take the defaults.
type Config struct {
	// Fraction is the headroom over the live heap, as a share of it.
	Fraction float64
	// Floor is the least headroom in bytes.
	Floor uint64
	// GrowthFloor is the least headroom in bytes after a cycle that
	// found the heap growing (Growing: a burst of new series) while the
	// live heap is from Floor to 3 × GrowthFloor. With the defaults, half
	// as many cycles while the heap grows through that range, each as
	// costly; the heap's goal there stays at most 4 × GrowthFloor
	// (512 MiB), what a quarter gives from about 410 MiB live, so a
	// process growing past that peaks no higher. A heap that settles or
	// shrinks is paced by Floor again: what an idle process keeps is
	// unchanged.
	GrowthFloor uint64
	// Cap is the highest limit the Pacer sets: the memory limit the
	// operator configured. 0 takes the limit in force at Start.
	Cap int64
}

// Heap is what the Pacer reads from runtime/metrics after a cycle, in bytes.
type Heap struct {
	Live     uint64 // what the cycle marked live (/gc/heap/live)
	Total    uint64 // all memory the runtime mapped (/memory/classes/total)
	Released uint64 // heap memory returned to the OS
	Objects  uint64 // heap memory in objects, live or not yet swept
	Unused   uint64 // heap memory reserved for objects, not in use
	Free     uint64 // free heap memory not returned to the OS
}

// NonHeap is the runtime's memory outside the heap's spans: goroutine
// stacks, GC and allocator metadata, profiling buckets, other.
func (h Heap) NonHeap() uint64 {
	in := h.Released + h.Objects + h.Unused + h.Free
	if h.Total < in {
		return 0
	}
	return h.Total - in
}

// Growing reports whether a cycle that found live bytes live after one
// that found prev shows the heap growing: by at least a sixteenth of
// Floor (4 MiB by default), more than the noise of a settled heap.
func (c Config) Growing(prev, live uint64) bool {
	return live >= prev+c.Floor/16
}

// Limit is the memory limit for h: the live heap, its headroom (at least
// GrowthFloor while growing and below 3 × GrowthFloor), and the memory
// outside the heap, at most c.Cap (when above 0).
func (c Config) Limit(h Heap, growing bool) int64 {
	room := uint64(float64(h.Live) * c.Fraction)
	if room < c.Floor {
		room = c.Floor
	}
	if growing && h.Live >= c.Floor && h.Live < 3*c.GrowthFloor && room < c.GrowthFloor {
		room = c.GrowthFloor
	}
	l := h.Live + room + h.NonHeap()
	if l > math.MaxInt64 {
		l = math.MaxInt64
	}
	if c.Cap > 0 && int64(l) > c.Cap {
		return c.Cap
	}
	return int64(l)
}

var sampleNames = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
}

// Pacer resets the memory limit after every GC cycle until Stop.
type Pacer struct {
	cfg     Config
	mu      sync.Mutex // the samples, and the limit set from them
	samples []metrics.Sample
	stopped atomic.Bool
	cycles  atomic.Uint64
	limit   atomic.Int64
	last    Heap // read after the last cycle, under mu
}

// Start begins pacing: the first limit is set after the next cycle.
func Start(cfg Config) *Pacer {
	if cfg.Fraction <= 0 {
		cfg.Fraction = DefaultFraction
	}
	if cfg.Floor == 0 {
		cfg.Floor = DefaultFloor
	}
	if cfg.GrowthFloor == 0 {
		cfg.GrowthFloor = DefaultGrowthFloor
	}
	if cfg.Cap <= 0 {
		cfg.Cap = debug.SetMemoryLimit(-1)
	}
	p := &Pacer{cfg: cfg, samples: make([]metrics.Sample, len(sampleNames))}
	for i, n := range sampleNames {
		p.samples[i].Name = n
	}
	p.limit.Store(cfg.Cap)
	p.arm()
	return p
}

// sentinel is garbage as soon as it is armed; its finalizer runs after the
// cycle that found it unreachable. It holds a pointer so that it is not a
// tiny allocation (those share a block, and their finalizers may never run).
type sentinel struct{ p *Pacer }

func (p *Pacer) arm() {
	runtime.SetFinalizer(&sentinel{p: p}, func(s *sentinel) {
		if s.p.stopped.Load() {
			return
		}
		s.p.afterCycle()
		s.p.arm()
	})
}

func (p *Pacer) afterCycle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.Load() {
		return
	}
	metrics.Read(p.samples)
	h := Heap{
		Live:     p.samples[0].Value.Uint64(),
		Total:    p.samples[1].Value.Uint64(),
		Released: p.samples[2].Value.Uint64(),
		Objects:  p.samples[3].Value.Uint64(),
		Unused:   p.samples[4].Value.Uint64(),
		Free:     p.samples[5].Value.Uint64(),
	}
	l := p.cfg.Limit(h, p.cycles.Load() > 0 && p.cfg.Growing(p.last.Live, h.Live))
	debug.SetMemoryLimit(l)
	p.last = h
	p.limit.Store(l)
	p.cycles.Add(1)
}

// Limit is the memory limit set after the last cycle (Cap before the first).
func (p *Pacer) Limit() int64 { return p.limit.Load() }

// Cycles counts the cycles after which the limit was set.
func (p *Pacer) Cycles() uint64 { return p.cycles.Load() }

// Stop ends pacing and puts the memory limit back to Cap.
func (p *Pacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.Swap(true) {
		return
	}
	debug.SetMemoryLimit(p.cfg.Cap)
	p.limit.Store(p.cfg.Cap)
}
