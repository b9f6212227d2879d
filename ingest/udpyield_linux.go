package ingest

import (
	"runtime"
	"time"

	"github.com/plumbago/plumbago/internal/schedyield"
)

// udpYieldEvery is how often a reader passes through the Go scheduler
// (runtime.Gosched). A reader that only ever leaves Go code for system
// calls never reaches the scheduler, so its P's scheduling tick stands
// still, and after 10 ms the runtime's sysmon takes it for a goroutine
// that will not yield: from then on, at each of its ticks, it asks for
// a preemption (a SIGURG to the thread, which also ends a paced
// nanosleep early) and retakes the P from the system call, and each
// retake resets sysmon to polling every 20 µs (runtime.retake, Go 1.26). At 100 k single-metric datagrams/s that was a
// quarter of the server's CPU samples (sysmon's usleep, the P hand-offs;
// docs/bench-rounds.md, statsd, ninth round). A yield every 5 ms keeps
// the tick moving for the price of one pass through the scheduler. The
// reader is not locked to its OS thread either: a locked goroutine whose P
// was retaken can only resume through a hand-off between two threads.
const udpYieldEvery = 5 * time.Millisecond

// udpYieldLate bounds how long a yield is put off while other goroutines
// wait for a P (udpYield). Gosched puts the reader at the tail of the
// global run queue and gives its P to whatever waits: a statsd flush's
// merge, a storage shard decoding points, a GC mark worker, which keep it
// until they block or sysmon preempts them (10 ms and more), while the
// socket's default buffer holds 1.3–2.6 ms of datagrams at 100–200 k/s.
// Go traces of the server at 100–200 k datagrams/s showed such waits of
// 1–35 ms after a yield (docs/bench-rounds.md, statsd, session 13). Past 10 ms
// on one tick sysmon preempts the reader anyway, so the bound stays below.
const udpYieldLate = 9 * time.Millisecond

// udpYield is one reader's yield state: when it last yielded and the
// runtime metric it reads to see whether anything waits for a P.
type udpYield struct {
	last     time.Duration // the reader's clock at the last yield
	runnable schedyield.Sample
}

func newUDPYield() *udpYield {
	return &udpYield{runnable: schedyield.NewSample()}
}

// after is called after each batch at now (the reader's monotonic clock):
// every udpYieldEvery it yields, unless other goroutines wait for a P, in
// which case it keeps its P for up to udpYieldLate since the last yield.
// It reports whether it yielded.
func (y *udpYield) after(now time.Duration) bool {
	since := now - y.last
	if since < udpYieldEvery || (since < udpYieldLate && schedyield.OthersRunnable(y.runnable)) {
		return false
	}
	runtime.Gosched()
	y.last = now
	return true
}
