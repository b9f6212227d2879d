package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/aggregator"
	"github.com/plumbago/plumbago/storage/tagged"
)

// Loops runs a function on every event loop's goroutine (ingest.Server).
type Loops interface {
	OnLoops(ctx context.Context, fn func(*ingest.Loop)) error
}

// Merger is carbon-aggregator's merge loop: once a second it has every
// event loop hand over its aggregation state (Chain's LoopSinks), merges
// it, and writes the intervals that completed through tag normalisation
// into the write buffer (aggregates skip the rewrite rules). It follows
// the chain's rule set: with no aggregation rules and nothing buffered, a
// tick does nothing.
type Merger struct {
	chain *Chain
	out   func() ingest.SinkFlusher
	loops Loops
	log   *slog.Logger

	mu     sync.Mutex // serialises merge cycles with the final flush
	merger *aggregator.Merger
	rules  *aggregator.Rules // the rules merger's MAX_AGGREGATION_INTERVALS is from
	seen   *aggregator.Rules // the chain's aggregation rules at the last cycle (Run's goroutine only)
	sent   atomic.Uint64
	bufs   atomic.Int64
	vals   atomic.Int64
}

// NewMerger returns the merge loop of c's aggregation rules, writing into
// sinks made by out (the write buffer's NewProducer).
func NewMerger(c *Chain, out func() ingest.SinkFlusher, loops Loops, log *slog.Logger) *Merger {
	m := &Merger{chain: c, out: out, loops: loops, log: log}
	m.rules = c.Rules().Aggregation
	m.seen = m.rules
	m.merger = aggregator.NewMerger(m.rulesOrEmpty())
	return m
}

func (m *Merger) rulesOrEmpty() *aggregator.Rules {
	if m.rules == nil {
		return &aggregator.Rules{}
	}
	return m.rules
}

// Aggregating reports whether aggregation rules are in force or aggregates
// are still buffered.
func (m *Merger) Aggregating() bool {
	n, _ := m.Buffers()
	return m.chain.Rules().Aggregation != nil || n > 0
}

// Sent returns the number of aggregate points written.
func (m *Merger) Sent() uint64 { return m.sent.Load() }

// Buffers returns the aggregation buffers and the values they hold, as of
// the last merge cycle.
func (m *Merger) Buffers() (buffers, values int64) { return m.bufs.Load(), m.vals.Load() }

// Run merges and emits once a second until ctx is done.
func (m *Merger) Run(ctx context.Context) {
	p := m.out()
	emit := m.emitter(p)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if !m.due() {
				continue
			}
			m.collect(ctx)
			m.mu.Lock()
			m.followRules()
			m.takeHanded()
			m.merger.Emit(now.Unix(), emit)
			n, pts := m.merger.Buffers()
			m.mu.Unlock()
			m.bufs.Store(int64(n))
			m.vals.Store(int64(pts))
			p.Flush()
		}
	}
}

// due reports whether a merge cycle has work: aggregation rules are in
// force, were just replaced (loops still hold state built under the old
// ones), or aggregates are still buffered or handed over.
func (m *Merger) due() bool {
	cur := m.chain.Rules().Aggregation
	if cur != nil || cur != m.seen || m.chain.pending() {
		m.seen = cur
		return true
	}
	n, _ := m.Buffers()
	return n > 0
}

// pending reports whether a loop handed state over that no merge took yet
// (after the aggregation rules were replaced).
func (c *Chain) pending() bool {
	c.handMu.Lock()
	defer c.handMu.Unlock()
	return len(c.handed) > 0
}

// followRules takes MAX_AGGREGATION_INTERVALS from the rules in force.
func (m *Merger) followRules() {
	if r := m.chain.Rules().Aggregation; r != nil && r != m.rules {
		m.rules = r
		m.merger.SetRules(r)
	}
}

// collect moves the epoch and runs every loop once, so each LoopSink.Flush
// hands its state over.
func (m *Merger) collect(ctx context.Context) {
	m.chain.epoch.Add(1)
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := m.loops.OnLoops(octx, func(*ingest.Loop) {})
	cancel()
	if err != nil && !errors.Is(err, context.Canceled) {
		m.log.Warn("aggregator: collecting loop state", "err", err)
	}
}

// FlushAll writes every buffered aggregate, complete or not. It runs after
// the ingest engine stopped: no loop touches its sink any more, so every
// loop's state is taken directly.
func (m *Merger) FlushAll() {
	c := m.chain
	m.mu.Lock()
	defer m.mu.Unlock()
	c.sinksMu.Lock()
	for _, w := range c.sinks {
		if w.loop != nil {
			w.handOver()
		}
	}
	c.sinksMu.Unlock()
	m.takeHanded()
	p := m.out()
	m.merger.Flush(m.emitter(p))
	p.Flush()
}

func (m *Merger) takeHanded() {
	c := m.chain
	c.handMu.Lock()
	states := c.handed
	c.handed = nil
	c.handMu.Unlock()
	for _, st := range states {
		m.merger.Merge(st)
	}
}

// emitter writes aggregates through tag normalisation into p. Aggregates
// skip the rewrite rules, as carbon-aggregator's generated metrics do (its
// pipeline for them is relay/write only).
func (m *Merger) emitter(p ingest.SinkFlusher) aggregator.Emitter {
	c := m.chain
	var nbuf []byte
	return func(name string, ts int64, v float64) {
		m.sent.Add(1)
		b := []byte(name)
		if tagged.IsTagged(b) {
			n, err := tagged.Normalize(nbuf[:0], b)
			if err != nil {
				c.badTags.Add(1)
				return
			}
			b = n
		}
		p.AddPoint(b, ts, v)
	}
}
