package query

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestGeneratorRefusedBeforeAllocating: identity("x") over 1970..2286
// (the RSS-to-19-GB request, within the time parser's range) is refused by
// the estimate, naming the limit, before its values are allocated.
func TestGeneratorRefusedBeforeAllocating(t *testing.T) {
	ev := NewEvaluator(newMemSource(), Limits{})
	req := Request{From: 0, Until: 10_000_000_000, Now: 10_000_000_000}
	for target, want := range map[string]string{
		`identity("x")`:                    "the targets would read 166666667 points, more than the limit of 20000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded",
		`sinFunction("x", 1, 1)`:           "the targets would read 10000000000 points, more than the limit of 20000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded",
		`scale(randomWalk("x", step=5),2)`: "the targets would read 2000000000 points, more than the limit of 20000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded",
	} {
		var err error
		n := allocated(func() { _, err = ev.Eval(context.Background(), req, []string{target}) })
		if err == nil || err.Error() != want || !errors.Is(err, ErrLimit) {
			t.Errorf("%s: %v, want %s", target, err, want)
		}
		if n > 1<<20 {
			t.Errorf("%s: refusing allocated %d bytes", target, n)
		}
	}
	// Several targets add up: 3 × 8,000,000 minutes are over 20 M.
	req = Request{From: 0, Until: 480_000_000, Now: 480_000_000}
	_, err := ev.Eval(context.Background(), req, []string{`identity("a")`, `identity("b")`, `identity("c")`})
	if err == nil || !strings.HasPrefix(err.Error(), "the targets would read 24000000 points,") {
		t.Errorf("three targets: %v", err)
	}
}

// TestRuntimeChargeStopsMultipliers: functions that evaluate their
// argument over other time frames are charged as they do, so the limit
// fires before the points exist.
func TestRuntimeChargeStopsMultipliers(t *testing.T) {
	ev := NewEvaluator(newMemSource(), Limits{MaxPoints: 100_000})
	req := Request{From: 0, Until: 86400, Now: 86400} // 1,440 minutes
	_, err := ev.Eval(context.Background(), req, []string{`timeStack(identity("x"), "1d", 0, 1000)`})
	want := "more than 100000 points in one request (render-max-points); narrow the time range or the series: query limit exceeded"
	if err == nil || err.Error() != want {
		t.Fatalf("timeStack x1000: %v, want %s", err, want)
	}
	// The same within the limit works.
	list, err := ev.Eval(context.Background(), req, []string{`timeStack(identity("x"), "1d", 0, 3)`})
	if err != nil || len(list) != 3 || len(list[2].Values) != 1440 {
		t.Fatalf("timeStack x3: %d series, %v", len(list), err)
	}
}

type countingSource struct {
	*memSource
	fetches atomic.Int64
}

func (c *countingSource) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	c.fetches.Add(1)
	return c.memSource.Fetch(name, from, until, now)
}

// TestFetchEstimateRefused: from=-100y over a 1 s schema with 100 years of
// retention is refused from the archives before any series is fetched;
// within retention rules (whisper's clamping) the estimate is exact.
func TestFetchEstimateRefused(t *testing.T) {
	src := &countingSource{memSource: newMemSource()}
	src.add("big.a", 1, func(ts int64) float64 { return 1 })
	src.add("big.b", 1, func(ts int64) float64 { return 2 })
	ev := NewEvaluator(src, Limits{})
	const year = 365 * 86400
	ev.SetArchives(func(string) []Archive { return []Archive{{1, 100 * year}} })
	now := int64(4_000_000_000)
	_, err := ev.Eval(context.Background(), Request{From: now - 100*year, Until: now, Now: now}, []string{"sumSeries(big.*)"})
	want := "the targets would read 6307200000 points, more than the limit of 20000000 points per request (render-max-points); narrow the time range or the series: query limit exceeded"
	if err == nil || err.Error() != want {
		t.Fatalf("from=-100y: %v, want %s", err, want)
	}
	if n := src.fetches.Load(); n != 0 {
		t.Fatalf("%d fetches before refusing", n)
	}
	// With a 1 d retention whisper reads one day whatever from is.
	ev.SetArchives(func(string) []Archive { return []Archive{{1, 86400}, {60, 100 * year}} })
	if got := ArchivePoints([]Archive{{1, 86400}, {60, 100 * year}}, now-3600, now, now); got != 3600 {
		t.Fatalf("ArchivePoints 1h = %d, want 3600", got)
	}
	if got := ArchivePoints([]Archive{{1, 86400}}, now-100*year, now, now); got != 86400 {
		t.Fatalf("ArchivePoints -100y on 1d retention = %d, want 86400", got)
	}
	if got := ArchivePoints([]Archive{{1, 86400}, {60, 100 * year}}, now-2*86400, now, now); got != 2880 {
		t.Fatalf("ArchivePoints 2d = %d, want 2880 (the 60 s archive)", got)
	}
	list, err := ev.Eval(context.Background(), Request{From: now - 3600, Until: now, Now: now}, []string{"big.*"})
	if err != nil || len(list) != 2 {
		t.Fatalf("1h: %d series, %v", len(list), err)
	}
}

// TestBudgetBusy: with the query memory budget held by another query, a
// render waits QueueWait and is refused with ErrBusy; a request larger
// than the whole budget is refused with ErrLimit at once; once released,
// the render runs and gives its reservation back.
func TestBudgetBusy(t *testing.T) {
	ev := NewEvaluator(newMemSource(), Limits{MemoryBudget: 1000 * BytesPerPoint, QueueWait: 20 * time.Millisecond})
	if got := ev.Limits().MaxPoints; got != 1000 {
		t.Fatalf("MaxPoints derived from the budget = %d, want 1000", got)
	}
	hold, err := ev.Reserve(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{From: 0, Until: 3600, Now: 3600} // 60 points
	_, err = ev.Eval(context.Background(), req, []string{`identity("x")`})
	want := "query memory budget full: waited 20ms for 3840 bytes: query memory budget exhausted (64000 bytes) (query-memory-budget, query-queue-wait); retry later: server busy"
	if err == nil || err.Error() != want || !errors.Is(err, ErrBusy) {
		t.Fatalf("with the budget held: %v, want %s", err, want)
	}
	hold()
	list, err := ev.Eval(context.Background(), req, []string{`identity("x")`})
	if err != nil || len(list) != 1 || len(list[0].Values) != 60 {
		t.Fatalf("after release: %v", err)
	}
	if s := ev.BudgetStats(); s.Used != 0 || s.Refused != 1 || s.Capacity != 64000 {
		t.Fatalf("budget after the renders: %+v", s)
	}
}

// TestEvalCancelled: a cancelled evaluation stops inside a generator.
func TestEvalCancelled(t *testing.T) {
	ev := NewEvaluator(newMemSource(), Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ev.Eval(ctx, Request{From: 0, Until: 3600, Now: 3600}, []string{`identity("x")`})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	env, done := ev.NewEnv(ctx, Request{From: 0, Until: 3600, Now: 3600})
	defer done()
	if _, err := generatorSteps(env, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("generatorSteps cancelled: %v", err)
	}
	// Work-weighted loops (moving windows) notice within 2^20 units.
	work, stopped := 0, -1
	for i := 0; i < 100; i++ {
		if err := env.spend(&work, 100_000); err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			stopped = i
			break
		}
	}
	if stopped != 10 {
		t.Fatalf("spend stopped at iteration %d, want 10 (the 1,100,000th unit)", stopped)
	}
}
