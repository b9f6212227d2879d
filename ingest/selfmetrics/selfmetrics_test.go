package selfmetrics

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHost(t *testing.T) {
	if got := Host("web01.example.com", ""); got != "web01_example_com" {
		t.Errorf("got %q", got)
	}
	if got := Host("h.x", "a"); got != "h_x-a" {
		t.Errorf("got %q", got)
	}
	if p := DefaultPrefix(); !strings.HasPrefix(p, "carbon.agents.") || strings.Count(p, ".") != 2 {
		t.Errorf("DefaultPrefix %q", p)
	}
}

func TestReportDeltasAndDerived(t *testing.T) {
	r := &Reporter{Prefix: "carbon.agents.h"}
	var got []string
	emit := func(name []byte, ts int64, v float64) { got = append(got, fmt.Sprintf("%s %g %d", name, v, ts)) }
	r.Report(60, Snapshot{
		Counters: map[string]uint64{MetricsReceived: 100, CommittedPoints: 90, UpdateOperations: 30, CacheBulkQueries: 2, CacheBulkMetrics: 7},
		Gauges:   map[string]float64{CacheSize: 10},
	}, emit)
	want := []string{
		"carbon.agents.h.cache.bulk_queries 2 60",
		"carbon.agents.h.cache.bulk_queries_average_size 3.5 60",
		"carbon.agents.h.cache.size 10 60",
		"carbon.agents.h.committedPoints 90 60",
		"carbon.agents.h.metricsReceived 100 60",
		"carbon.agents.h.pointsPerUpdate 3 60",
		"carbon.agents.h.updateOperations 30 60",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("first:\n%v\nwant\n%v", got, want)
	}
	got = nil
	r.Report(120, Snapshot{
		Counters: map[string]uint64{MetricsReceived: 150, CommittedPoints: 90, UpdateOperations: 30, CacheBulkQueries: 2, CacheBulkMetrics: 7},
		Gauges:   map[string]float64{CacheSize: 0},
	}, emit)
	want = []string{
		"carbon.agents.h.cache.bulk_queries 0 120",
		"carbon.agents.h.cache.size 0 120",
		"carbon.agents.h.committedPoints 0 120",
		"carbon.agents.h.metricsReceived 50 120",
		"carbon.agents.h.updateOperations 0 120",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("second:\n%v\nwant\n%v", got, want)
	}
}

func TestRunAlignsToInterval(t *testing.T) {
	r := &Reporter{Prefix: "p"}
	var mu sync.Mutex
	var ts []int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() {
		r.Run(ctx, 200*time.Millisecond, func() Snapshot {
			return Snapshot{Gauges: map[string]float64{"g": 1}}
		}, func(_ []byte, t int64, _ float64) {
			mu.Lock()
			ts = append(ts, t)
			mu.Unlock()
		}, nil)
		close(done)
	}()
	// Three reports, however late a loaded machine runs the loop; the k-th
	// comes at least (k-1) × 200 ms after the start, so there are no more
	// than 1 + elapsed/200ms of them (a 100 ms interval gives 3 by 300 ms).
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(ts)
	}
	for count() < 3 && time.Since(start) < 10*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	elapsed := time.Since(start)
	if n, most := count(), 1+int(elapsed/(200*time.Millisecond)); n < 3 || n > most {
		t.Errorf("%d reports in %v at 200ms; want 3 to %d", n, elapsed, most)
	}
}
