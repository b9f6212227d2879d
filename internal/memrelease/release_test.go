package memrelease

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	cfg := Config{MinGap: 30 * time.Second, Floor: 32 << 20}
	const mib = 1 << 20
	for _, c := range []struct {
		name  string
		h     Heap
		quiet bool
		since time.Duration
		want  bool
	}{
		{"after a spike", Heap{Live: 33 * mib, Baseline: 33 * mib, Retained: 84 * mib}, true, time.Hour, true},
		{"a cycle just ran", Heap{Live: 33 * mib, Baseline: 33 * mib, Retained: 84 * mib}, false, time.Hour, false},
		{"released 10 s ago", Heap{Live: 33 * mib, Baseline: 33 * mib, Retained: 84 * mib}, true, 10 * time.Second, false},
		{"small heap under the floor", Heap{Live: 15 * mib, Baseline: 15 * mib, Retained: 46 * mib}, true, time.Hour, false},
		{"just over the floor", Heap{Live: 15 * mib, Baseline: 15 * mib, Retained: 47*mib + 1}, true, time.Hour, true},
		{"large heap within half its live size", Heap{Live: 4096 * mib, Baseline: 4096 * mib, Retained: 6144 * mib}, true, time.Hour, false},
		{"large heap past half its live size", Heap{Live: 4096 * mib, Baseline: 4096 * mib, Retained: 6144*mib + 1}, true, time.Hour, true},
		{"quiet after a spike whose last cycle saw its data live", Heap{Live: 45 * mib, Baseline: 8 * mib, Retained: 74 * mib}, true, time.Hour, true},
		{"the same, a cycle just ran", Heap{Live: 45 * mib, Baseline: 8 * mib, Retained: 74 * mib}, false, time.Hour, false},
		{"a cycle ran, free spans not returned", Heap{Live: 10 * mib, Baseline: 10 * mib, Retained: 80 * mib, Free: 40 * mib}, false, time.Hour, true},
		{"a cycle ran, free spans under the floor", Heap{Live: 10 * mib, Baseline: 10 * mib, Retained: 80 * mib, Free: 30 * mib}, false, time.Hour, false},
		{"free spans, released 10 s ago", Heap{Live: 10 * mib, Baseline: 10 * mib, Retained: 80 * mib, Free: 40 * mib}, true, 10 * time.Second, false},
		{"large heap, free spans within half its live size", Heap{Live: 4096 * mib, Baseline: 4096 * mib, Retained: 8192 * mib, Free: 2048 * mib}, false, time.Hour, false},
		{"spike before the first checks, quiet 10 s", Heap{Live: 137 * mib, Baseline: 100 * mib, Retained: 146 * mib, QuietChecks: 2}, true, time.Hour, false},
		{"spike before the first checks, quiet 15 s", Heap{Live: 137 * mib, Baseline: 100 * mib, Retained: 146 * mib, QuietChecks: 3}, true, time.Hour, true},
		{"quiet 15 s, all of it live at the last forced release", Heap{Live: 137 * mib, Baseline: 100 * mib, Retained: 146 * mib, QuietChecks: 3, ForcedLive: 137 * mib}, true, time.Hour, false},
		{"quiet 15 s, grown past the last forced release's live heap", Heap{Live: 20 * mib, Baseline: 20 * mib, Retained: 60 * mib, QuietChecks: 5, ForcedLive: 20 * mib}, true, 40 * time.Second, true},
	} {
		if got := Due(c.h, c.quiet, c.since, cfg); got != c.want {
			t.Errorf("%s: Due(%+v, quiet %v, %v) = %v; want %v", c.name, c.h, c.quiet, c.since, got, c.want)
		}
	}
}

var sink [][]byte

// TestReleaserGivesBackASpike allocates 64 MiB, drops it without a
// collection (the collector is off meanwhile, as after a spike when light
// traffic does not reach the heap goal), and sees the Releaser collect it
// and return it to the OS.
func TestReleaserGivesBackASpike(t *testing.T) {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	r := New(Config{Every: time.Hour, MinGap: time.Nanosecond, Floor: 16 << 20, Logger: slog.New(slog.DiscardHandler)})
	r.lastCycles = r.read().Cycles
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	for i := range sink {
		sink[i][0] = 1
	}
	sink = nil
	before := released()
	r.check(time.Now())
	if r.Released() != 1 {
		t.Fatalf("Released() = %d after dropping 64 MiB; want 1 (heap %+v)", r.Released(), r.read())
	}
	if got := released() - before; got < 48<<20 {
		t.Errorf("the OS got %d MiB back; want at least 48 of the 64 MiB", got>>20)
	}
	// Nothing new to give back: no second release.
	r.check(time.Now())
	if r.Released() != 1 {
		t.Errorf("Released() = %d after a check with nothing to give back; want 1", r.Released())
	}
}

// released is the heap memory returned to the OS.
func released() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestBaselineIsTheLeastRecentLive(t *testing.T) {
	r := New(Config{})
	if got := r.baseline(50); got != 50 {
		t.Fatalf("first baseline = %d; want 50", got)
	}
	r.baseline(10)
	if got := r.baseline(80); got != 10 {
		t.Fatalf("baseline after 50, 10, 80 = %d; want 10", got)
	}
	for range baselineChecks - 1 {
		r.baseline(80)
	}
	if got := r.baseline(80); got != 80 {
		t.Fatalf("baseline %d checks after the 10 = %d; want 80", baselineChecks, got)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { New(Config{Every: time.Millisecond}).Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestNudgeWaitsForNoRequests: a nudged release (the pebble idle flush's)
// runs at the first check that saw no request answered since the check
// before and at least MinGap after the last release, and only once per
// nudge. Floor is out of reach, so Due never releases here.
func TestNudgeWaitsForNoRequests(t *testing.T) {
	var requests uint64
	r := New(Config{Every: time.Hour, MinGap: 30 * time.Second, Floor: 1 << 62, Logger: slog.New(slog.DiscardHandler),
		Activity: func() uint64 { return requests }})
	t0 := time.Now()
	r.check(t0)
	if r.Released() != 0 {
		t.Fatalf("Released() = %d before any nudge; want 0", r.Released())
	}
	r.Nudge()
	steps := []struct {
		requests uint64
		at       time.Duration
		want     uint64
	}{
		{3, 5 * time.Second, 0},   // requests answered since the last check: wait
		{7, 10 * time.Second, 0},  // still busy
		{7, 15 * time.Second, 1},  // one interval without a request: released
		{7, 20 * time.Second, 1},  // once per nudge
		{7, 25 * time.Second, 1},  // nudged again below, 10 s after the release
		{7, 45 * time.Second, 2},  // MinGap after the release, still idle
		{9, 80 * time.Second, 2},  // nudged, requests answered
		{9, 85 * time.Second, 3},  // idle again
		{9, 200 * time.Second, 3}, // no nudge, nothing due
	}
	for i, s := range steps {
		requests = s.requests
		if i == 4 || i == 6 {
			r.Nudge()
		}
		r.check(t0.Add(s.at))
		if r.Released() != s.want {
			t.Fatalf("step %d (%d requests at +%v): Released() = %d; want %d", i, s.requests, s.at, r.Released(), s.want)
		}
	}
}
