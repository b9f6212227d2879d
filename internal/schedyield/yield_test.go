package schedyield

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// waiter starts a goroutine that records it ran; on one P it waits in the
// run queue until the caller gives the P up.
func waiter() (ran *atomic.Bool, done <-chan struct{}) {
	ran = new(atomic.Bool)
	c := make(chan struct{})
	go func() { ran.Store(true); close(c) }()
	return ran, c
}

// On one P a goroutine just started waits in the run queue: before Every
// Maybe keeps the P, from Every on it gives it to the waiting goroutine.
func TestMaybeYieldsToAWaitingGoroutineAfterEvery(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	y := New()
	ran, done := waiter()
	if !OthersRunnable(y.s) {
		t.Fatal("OthersRunnable = false with a started goroutine waiting for the only P")
	}
	y.last = time.Now().Add(time.Hour) // Every cannot have passed
	if y.Maybe() {
		t.Fatal("yielded before Every")
	}
	if ran.Load() {
		t.Fatal("the waiting goroutine ran although Maybe kept the P")
	}
	y.last = time.Now().Add(-Every)
	if !y.Maybe() {
		t.Fatal("did not yield after Every with a goroutine waiting")
	}
	if !ran.Load() {
		t.Fatal("the waiting goroutine did not run at the yield")
	}
	<-done
	if time.Since(y.last) >= Every {
		t.Fatalf("last yield %v ago, want the clock restarted at the yield", time.Since(y.last))
	}
}

// With nothing waiting for a P Maybe does not yield (the runtime's own
// goroutines can be runnable at an instant: a few tries).
func TestMaybeKeepsThePWhenNothingWaits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for try := 0; try < 100; try++ {
		y := New()
		y.last = time.Now().Add(-Every)
		if !y.Maybe() {
			return
		}
	}
	t.Fatal("yielded in 100 tries with nothing else to run")
}

func TestMaybeDoesNotAllocate(t *testing.T) {
	y := New()
	y.last = time.Now().Add(-Every)
	if a := testing.AllocsPerRun(100, func() { y.Maybe() }); a != 0 {
		t.Fatalf("Maybe allocates %v times a call, want 0", a)
	}
}

func BenchmarkMaybe(b *testing.B) {
	y := New()
	for b.Loop() {
		y.Maybe()
	}
}
