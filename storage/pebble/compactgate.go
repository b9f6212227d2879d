package pebble

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Compactions held back at start-up. pebble.Open registers the DB with its
// compaction scheduler early, and pebble's scheduler grants a compaction
// within 100 ms; Open then waits for every running compaction before it
// scans for obsolete files. A store whose level 0 holds files (every clean
// stop leaves the last memtable's flush there, and L0CompactionThreshold 2
// makes a single sublevel worth compacting) therefore compacted level 0
// into Lbase inside Open: the first start after mkstore wrote 2 M series
// spent that compaction on the path to /healthz (docs/pebble.md,
// "Start-up"). compactionGate is the DB's compaction scheduler: it grants
// nothing until release, which the store calls once the names are indexed
// (finds and reads answer), and then grants what pebble allows, as pebble's
// ConcurrencyLimitScheduler does (pebble exports that one only without its
// periodic granting). Flushes do not pass through it: the flush of a
// replayed WAL still runs inside Open, as pebble's durability needs.
type compactionGate struct {
	db      pebble.DBForCompaction // set by Register, before any other call
	open    atomic.Bool
	poke    chan struct{} // wakes the granter (buffered, 1)
	stop    chan struct{} // closed by Unregister
	stopped chan struct{} // closed when the granter has returned
	ticks   atomic.Int64  // timer wake-ups of the granter (read by tests)
	mu      struct {
		sync.Mutex
		running      int  // compactions granted and not Done
		last         int  // what the DB allowed when last asked
		granting     bool // a grant loop runs (granter or Done)
		unregistered bool
		// waiting is set when TrySchedule refuses (the DB then holds its
		// compaction as waiting and asks no more) and cleared when the DB
		// reports nothing waiting; refusals counts the refusals, so that a
		// refusal made while the DB was being asked is not cleared.
		waiting  bool
		refusals uint64
		armed    bool       // the granter waits with its timer running
		cond     *sync.Cond // signalled when granting turns false
	}
}

// grantEvery is how often the granter looks for a compaction to start
// while one waits (a refused TrySchedule) and the gate is released:
// pebble's scheduler does not see flushes, which can raise what the DB
// allows, other than through UpdateGetAllowedWithoutPermission. With
// nothing waiting the granter sleeps until woken (release, a refusal, a
// rise in what the DB allows): an idle server's pebble costs no wake-ups.
const grantEvery = 100 * time.Millisecond

var _ pebble.CompactionScheduler = (*compactionGate)(nil)

// holdCompactions makes po's compactions wait for the returned gate's release.
func holdCompactions(po *pebble.Options) *compactionGate {
	g := &compactionGate{poke: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	g.mu.cond = sync.NewCond(&g.mu.Mutex)
	po.Experimental.CompactionScheduler = g
	return g
}

// release lets compactions run from now on and wakes the granter. Calls
// after the first, and on a nil gate, do nothing.
func (g *compactionGate) release() {
	if g == nil || g.open.Swap(true) {
		return
	}
	g.wake()
}

func (g *compactionGate) wake() {
	select {
	case g.poke <- struct{}{}:
	default:
	}
}

// allowed is how many compactions may run: none until release.
func (g *compactionGate) allowed() int {
	if !g.open.Load() {
		return 0
	}
	return g.db.GetAllowedWithoutPermission()
}

// Register implements pebble.CompactionScheduler.
func (g *compactionGate) Register(_ int, db pebble.DBForCompaction) {
	g.db = db
	go g.granter()
}

// Unregister implements pebble.CompactionScheduler: once it returns, no
// call into the DB is running or will be made.
func (g *compactionGate) Unregister() {
	close(g.stop)
	<-g.stopped
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mu.unregistered = true
	for g.mu.granting {
		g.mu.cond.Wait()
	}
}

// TrySchedule implements pebble.CompactionScheduler.
func (g *compactionGate) TrySchedule() (bool, pebble.CompactionGrantHandle) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.unregistered {
		return false, nil
	}
	g.mu.last = g.allowed()
	if g.mu.last > g.mu.running {
		g.mu.running++
		return true, g
	}
	g.mu.refusals++
	if !g.mu.waiting {
		g.mu.waiting = true
		g.wake() // the granter arms its timer
	}
	return false, nil
}

// UpdateGetAllowedWithoutPermission implements pebble.CompactionScheduler.
func (g *compactionGate) UpdateGetAllowedWithoutPermission() {
	g.mu.Lock()
	a := g.allowed()
	more := a > g.mu.last
	g.mu.last = a
	g.mu.Unlock()
	if more {
		g.wake()
	}
}

// Started, MeasureCPU, CumulativeStats and Done implement
// pebble.CompactionGrantHandle (the gate is every grant's handle).
func (g *compactionGate) Started()                                          {}
func (g *compactionGate) MeasureCPU(pebble.CompactionGoroutineKind)         {}
func (g *compactionGate) CumulativeStats(pebble.CompactionGrantHandleStats) {}

func (g *compactionGate) Done() {
	g.mu.Lock()
	g.mu.running--
	g.grantAndUnlock()
}

// grantAndUnlock grants the DB's waiting compactions up to what it allows.
// Called with mu held; returns with it released.
func (g *compactionGate) grantAndUnlock() {
	defer g.mu.Unlock()
	for g.mu.granting && !g.mu.unregistered {
		g.mu.cond.Wait()
	}
	if g.mu.unregistered {
		return
	}
	g.mu.last = g.allowed()
	n := g.mu.last - g.mu.running
	if n <= 0 {
		return
	}
	g.mu.granting = true
	refusals := g.mu.refusals
	g.mu.Unlock()
	// The DB is asked for its waiting compaction only when one can be
	// granted (it picks one then), and without mu: Schedule starts it.
	none := false
	for ; n > 0; n-- {
		waiting, _ := g.db.GetWaitingCompaction()
		if !waiting {
			none = true
			break
		}
		if !g.db.Schedule(g) {
			break
		}
		g.mu.Lock()
		g.mu.running++
		g.mu.Unlock()
	}
	g.mu.Lock()
	if none && g.mu.refusals == refusals {
		g.mu.waiting = false
	}
	g.mu.granting = false
	g.mu.cond.Broadcast()
}

// granter grants when woken and, while a compaction waits after release,
// every grantEvery, until Unregister. With nothing waiting it arms no timer.
func (g *compactionGate) granter() {
	defer close(g.stopped)
	t := time.NewTimer(grantEvery)
	t.Stop()
	defer t.Stop()
	for {
		g.mu.Lock()
		tick := g.mu.waiting && g.open.Load()
		g.mu.armed = tick
		g.mu.Unlock()
		var tc <-chan time.Time
		if tick {
			t.Reset(grantEvery)
			tc = t.C
		}
		select {
		case <-g.stop:
			return
		case <-tc:
			g.ticks.Add(1)
		case <-g.poke:
			t.Stop()
		}
		g.mu.Lock()
		g.grantAndUnlock()
	}
}
