package selfmetrics

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Carbon's names for the counters and gauges a Snapshot may carry.
const (
	MetricsReceived  = "metricsReceived"
	CommittedPoints  = "committedPoints"
	UpdateOperations = "updateOperations"
	Creates          = "creates"
	DroppedCreates   = "droppedCreates"
	// DroppedUDP is Plumbago's, not carbon's: carbon plaintext UDP lines
	// dropped while storage took no writes and the write buffer was full.
	DroppedUDP        = "droppedUDP"
	Errors            = "errors"
	BlacklistMatches  = "blacklistMatches"
	WhitelistRejects  = "whitelistRejects"
	CacheQueries      = "cache.queries"
	CacheBulkQueries  = "cache.bulk_queries"
	CacheBulkMetrics  = "cache.bulk_queries_metrics" // input only: sum of bulk sizes
	CacheOverflow     = "cache.overflow"
	CacheSize         = "cache.size"   // gauge: buffered points
	CacheQueues       = "cache.queues" // gauge: buffered series
	ActiveConnections = "activeConnections"
	CPUUsage          = "cpuUsage"
	MemUsage          = "memUsage"
	AvgUpdateTime     = "avgUpdateTime"
	PointsPerUpdate   = "pointsPerUpdate"
	BulkAverageSize   = "cache.bulk_queries_average_size"
	// Aggregator (carbon.aggregator.<host>.* in carbon; reported under the
	// same prefix here since one process does both).
	AggregateDatapointsSent = "aggregateDatapointsSent"
	AllocatedBuffers        = "allocatedBuffers"
	BufferedDatapoints      = "bufferedDatapoints"
)

// Snapshot is the process's state at one instant.
type Snapshot struct {
	// Counters are cumulative since start; the reporter emits their
	// increase over the interval.
	Counters map[string]uint64
	// Gauges are emitted as they are.
	Gauges map[string]float64
}

// Host returns carbon's host node: the hostname with dots replaced by
// underscores, with "-<instance>" appended when instance is not empty.
func Host(hostname, instance string) string {
	h := strings.ReplaceAll(hostname, ".", "_")
	if instance != "" {
		h += "-" + instance
	}
	return h
}

// DefaultPrefix returns "carbon.agents.<host>" for this machine.
func DefaultPrefix() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return "carbon.agents." + Host(h, "")
}

// Reporter turns snapshots into carbon self-metric points.
type Reporter struct {
	// Prefix, e.g. "carbon.agents.myhost" (DefaultPrefix when empty).
	Prefix string
	prev   map[string]uint64
	buf    []byte
}

// Emit receives one self-metric point.
type Emit func(name []byte, timestamp int64, value float64)

// Report emits one interval's points, timestamped now, in name order. The
// first report's counters count from zero.
func (r *Reporter) Report(now int64, s Snapshot, emit Emit) {
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix()
	}
	if r.prev == nil {
		r.prev = map[string]uint64{}
	}
	delta := map[string]float64{}
	for k, v := range s.Counters {
		d := v - r.prev[k]
		if v < r.prev[k] { // counter reset
			d = v
		}
		r.prev[k] = v
		delta[k] = float64(d)
	}
	out := map[string]float64{}
	for k, v := range delta {
		if k != CacheBulkMetrics {
			out[k] = v
		}
	}
	for k, v := range s.Gauges {
		out[k] = v
	}
	if _, ok := s.Counters[CommittedPoints]; ok {
		// carbon: pointsPerUpdate only when points were committed.
		if c, u := delta[CommittedPoints], delta[UpdateOperations]; c > 0 && u > 0 {
			out[PointsPerUpdate] = c / u
		}
	}
	if b := delta[CacheBulkQueries]; b > 0 {
		out[BulkAverageSize] = delta[CacheBulkMetrics] / b
	}
	names := make([]string, 0, len(out))
	for k := range out {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		r.buf = append(append(append(r.buf[:0], r.Prefix...), '.'), k...)
		emit(r.buf, now, out[k])
	}
}

// Run reports every interval, on multiples of it, until ctx ends. source is
// called on Run's goroutine; emit and done (which may flush, e.g. a write
// buffer producer; nil for none) too.
func (r *Reporter) Run(ctx context.Context, interval time.Duration, source func() Snapshot, emit Emit, done func()) {
	if interval <= 0 {
		return
	}
	for {
		now := time.Now()
		next := now.Truncate(interval).Add(interval)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case tick := <-t.C:
			r.Report(tick.Truncate(interval).Unix(), source(), emit)
			if done != nil {
				done()
			}
		}
	}
}

// ResidentBytes returns the process's resident set size (Linux /proc).
func ResidentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	var size, rss int64
	if _, err := fmt.Sscan(string(b), &size, &rss); err != nil {
		return 0, false
	}
	return rss * int64(os.Getpagesize()), true
}
