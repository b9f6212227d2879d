package schedyield

import (
	"runtime"
	"runtime/metrics"
	"time"
)

// Every is the least time a Yielder runs between two yields: short
// beside the 1.3 ms of 200 k datagrams/s a default UDP receive buffer
// holds, long beside a pass through the scheduler (well under a µs).
const Every = 500 * time.Microsecond

// runnableMetric counts the goroutines ready to run that wait for a P.
const runnableMetric = "/sched/goroutines/runnable:goroutines"

// Sample is one caller's sample slice for OthersRunnable (runtime/metrics
// writes into it: one per goroutine).
type Sample []metrics.Sample

// NewSample returns a sample slice for OthersRunnable.
func NewSample() Sample {
	return Sample{{Name: runnableMetric}}
}

// OthersRunnable says whether any goroutine is ready to run but has no P:
// the runtime's approximate count over every run queue, taken under the
// scheduler's lock (about 75 ns, no allocation).
func OthersRunnable(s Sample) bool {
	metrics.Read(s)
	return s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() > 0
}

// Yielder is one goroutine's yield state. The zero value is ready (its
// first Maybe may yield at once; call Start first to wait Every). Not safe
// for concurrent use.
type Yielder struct {
	last time.Time
	s    Sample
}

// New returns a Yielder whose first yield can come Every from now.
func New() *Yielder {
	return &Yielder{last: time.Now(), s: NewSample()}
}

// Start restarts the clock: the next yield comes Every from now at the
// earliest. Call it when the loop begins after a pause (a goroutine that
// blocked gave its P up already).
func (y *Yielder) Start() {
	y.last = time.Now()
}

// Maybe yields when Every passed since the last yield (or Start) and
// another goroutine waits for a P. It reports whether it yielded.
func (y *Yielder) Maybe() bool {
	now := time.Now()
	if now.Sub(y.last) < Every {
		return false
	}
	if y.s == nil {
		y.s = NewSample()
	}
	if !OthersRunnable(y.s) {
		return false
	}
	runtime.Gosched()
	y.last = time.Now()
	return true
}
