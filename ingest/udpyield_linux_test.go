package ingest

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/schedyield"
)

// On one P a goroutine just started waits in the run queue until the
// test's goroutine gives the P up: othersRunnable sees it, and the reader's
// yield is put off until udpYieldLate, then given.
func TestUDPYieldWaitsWhileOthersRunnable(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	y := newUDPYield()
	if y.after(udpYieldEvery - time.Microsecond) {
		t.Fatal("yielded before udpYieldEvery")
	}
	var ran atomic.Bool
	done := make(chan struct{})
	go func() { ran.Store(true); close(done) }()
	if !schedyield.OthersRunnable(y.runnable) {
		t.Fatal("othersRunnable = false with a started goroutine waiting for the only P")
	}
	if y.after(udpYieldEvery) || y.after(udpYieldLate-time.Microsecond) {
		t.Fatal("yielded while another goroutine waited, before udpYieldLate")
	}
	if ran.Load() {
		t.Fatal("the waiting goroutine ran although the reader kept its P")
	}
	if !y.after(udpYieldLate) {
		t.Fatal("did not yield at udpYieldLate")
	}
	if !ran.Load() {
		t.Fatal("the waiting goroutine did not run at the yield")
	}
	<-done
	if y.after(udpYieldLate + udpYieldEvery - time.Microsecond) {
		t.Fatal("yielded again before udpYieldEvery since the last yield")
	}
}

// With nothing waiting for a P the yield comes every udpYieldEvery (the
// runtime's own goroutines can be runnable at an instant: a few tries).
func TestUDPYieldEveryWhenIdle(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for try := 0; try < 100; try++ {
		y := newUDPYield()
		if y.after(udpYieldEvery) {
			if y.last != udpYieldEvery {
				t.Fatalf("last yield at %v, want %v", y.last, udpYieldEvery)
			}
			return
		}
		runtime.Gosched()
	}
	t.Fatal("no yield at udpYieldEvery in 100 tries with nothing else to run")
}
