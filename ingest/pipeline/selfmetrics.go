package pipeline

import (
	"context"
	"syscall"
	"time"

	"github.com/plumbago/plumbago/ingest/carbonlink"
	"github.com/plumbago/plumbago/ingest/selfmetrics"
	"github.com/plumbago/plumbago/storage/cache"
)

// SelfMetrics writes carbon's own metrics (carbon.agents.<host>.*, see
// ingest/selfmetrics) into the write buffer every Interval.
type SelfMetrics struct {
	Prefix      string        // "" = carbon.agents.<host>
	Interval    time.Duration // carbon's CARBON_METRIC_INTERVAL
	Cache       *cache.Cache  // counted, and written into
	Names       func() int    // metric names known (the name index's Len)
	Chain       *Chain
	Merger      *Merger             // aggregator gauges while it aggregates
	Link        *carbonlink.Handler // nil: no carbonlink listener
	Connections func() int64        // open ingest connections
	// DroppedCreates counts new series refused or deferred by the series
	// limits (carbon's droppedCreates); nil: not reported.
	DroppedCreates func() uint64
	// UDPDropped counts carbon UDP lines dropped while storage took no
	// writes (nil: not reported).
	UDPDropped func() uint64
}

// Run reports until ctx is done. Like carbon's LoopingCall(now=False), the
// first report is one interval after the start.
func (m *SelfMetrics) Run(ctx context.Context) {
	// creates counts names new since start, not those found on disk.
	baseNames := m.Names()
	select {
	case <-ctx.Done():
		return
	case <-time.After(m.Interval):
	}
	p := m.Cache.NewProducer()
	r := &selfmetrics.Reporter{Prefix: m.Prefix}
	cpu := cpuMeter{lastWall: time.Now()}
	r.Run(ctx, m.Interval, func() selfmetrics.Snapshot {
		snap := m.snapshot(baseNames)
		if pct, ok := cpu.percent(); ok {
			snap.Gauges[selfmetrics.CPUUsage] = pct
		}
		return snap
	}, p.AddPoint, p.Flush)
}

func (m *SelfMetrics) snapshot(baseNames int) selfmetrics.Snapshot {
	st := m.Cache.Stats()
	counts := m.Chain.Counts()
	snap := selfmetrics.Snapshot{
		Counters: map[string]uint64{
			selfmetrics.MetricsReceived:  st.Received,
			selfmetrics.CommittedPoints:  st.Committed,
			selfmetrics.UpdateOperations: st.WriteOps,
			selfmetrics.Errors:           st.WriteErrors,
			selfmetrics.Creates:          uint64(max(m.Names()-baseNames, 0)),
			selfmetrics.BlacklistMatches: counts.BlacklistMatches,
			selfmetrics.WhitelistRejects: counts.WhitelistRejects,
			selfmetrics.CacheOverflow:    st.BlockedWaits,
		},
		Gauges: map[string]float64{
			selfmetrics.CacheSize:         float64(st.Buffered),
			selfmetrics.CacheQueues:       float64(st.Series),
			selfmetrics.ActiveConnections: float64(m.Connections()),
		},
	}
	if m.DroppedCreates != nil {
		snap.Counters[selfmetrics.DroppedCreates] = m.DroppedCreates()
	}
	var sent uint64
	if m.Merger != nil {
		sent = m.Merger.Sent()
	}
	if m.Merger != nil && m.Merger.Aggregating() {
		bufs, vals := m.Merger.Buffers()
		snap.Gauges[selfmetrics.AllocatedBuffers] = float64(bufs)
		snap.Gauges[selfmetrics.BufferedDatapoints] = float64(vals)
	}
	snap.Counters[selfmetrics.AggregateDatapointsSent] = sent
	if m.UDPDropped != nil {
		snap.Counters[selfmetrics.DroppedUDP] = m.UDPDropped()
	}
	var q, bq, bm uint64
	if m.Link != nil {
		q, bq, bm = m.Link.Stats.Queries.Load(), m.Link.Stats.BulkQueries.Load(), m.Link.Stats.BulkMetrics.Load()
	}
	snap.Counters[selfmetrics.CacheQueries] = q
	snap.Counters[selfmetrics.CacheBulkQueries] = bq
	snap.Counters[selfmetrics.CacheBulkMetrics] = bm
	if rss, ok := selfmetrics.ResidentBytes(); ok {
		snap.Gauges[selfmetrics.MemUsage] = float64(rss)
	}
	return snap
}

// cpuMeter is carbon's cpuUsage: CPU seconds per wall second since the last
// reading, in percent.
type cpuMeter struct {
	lastCPU  time.Duration
	lastWall time.Time
}

func (c *cpuMeter) percent() (float64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	now := time.Now()
	wall := now.Sub(c.lastWall)
	pct := 100 * float64(cpu-c.lastCPU) / float64(wall)
	c.lastCPU, c.lastWall = cpu, now
	return pct, wall > 0
}
