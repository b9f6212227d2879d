package pipeline

import (
	"sync"
	"sync/atomic"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/aggregator"
	"github.com/plumbago/plumbago/ingest/rewrite"
	"github.com/plumbago/plumbago/storage/tagged"
)

// Rules is the chain's rule set: what the white/blacklist, rewrite-rules and
// aggregation-rules files say. It is replaced whole (Chain.SetRules) when
// they are re-read; a Rules value is never changed once the chain has it.
type Rules struct {
	Filter      rewrite.Filter    // blacklist and whitelist
	Rewrite     *rewrite.Rules    // nil: no rewriting
	Aggregation *aggregator.Rules // nil: no aggregation
}

// Config is the carbon chain's configuration; the zero value passes every
// valid name through unchanged.
type Config struct {
	Rules         Rules
	MaxNameLength int // 0: storage/tagged's default
}

// Chain is carbon's per-point chain, shared by every event loop; each loop
// gets its own LoopSink from Wrap.
type Chain struct {
	maxName int
	rules   atomic.Pointer[Rules]

	unsafeNames atomic.Uint64
	badTags     atomic.Uint64
	blacklisted atomic.Uint64
	whitelistNo atomic.Uint64

	// Aggregation: a loop hands its state over on its own goroutine when
	// epoch moved (see LoopSink.Flush) or when the aggregation rules were
	// replaced (see LoopSink.AddPoint).
	epoch   atomic.Uint64
	handMu  sync.Mutex
	handed  []*aggregator.State
	sinksMu sync.Mutex
	sinks   []*LoopSink
}

// NewChain builds the chain.
func NewChain(cfg Config) *Chain {
	c := &Chain{maxName: cfg.MaxNameLength}
	r := cfg.Rules
	c.rules.Store(&r)
	return c
}

// Rules returns the rule set in force.
func (c *Chain) Rules() *Rules { return c.rules.Load() }

// SetRules replaces the rule set; every loop uses it from its next point on.
// Points a loop aggregated under the old aggregation rules are handed to the
// merger and emitted by the rules that buffered them.
func (c *Chain) SetRules(r *Rules) { c.rules.Store(r) }

// Counts are the points the chain dropped, by reason.
type Counts struct {
	UnsafeNames      uint64 // rewritten to nothing, or unsafe/too long
	BadTags          uint64 // tagged names that do not parse
	BlacklistMatches uint64
	WhitelistRejects uint64
}

// Counts returns the chain's drop counters.
func (c *Chain) Counts() Counts {
	return Counts{
		UnsafeNames:      c.unsafeNames.Load(),
		BadTags:          c.badTags.Load(),
		BlacklistMatches: c.blacklisted.Load(),
		WhitelistRejects: c.whitelistNo.Load(),
	}
}

// Wrap returns one event loop's chain in front of next (ingest.Config's
// NewSink builds one per loop).
func (c *Chain) Wrap(next ingest.SinkFlusher) ingest.SinkFlusher {
	w := &LoopSink{c: c, next: next, epoch: c.epoch.Load()}
	w.useAggregation(c.rules.Load().Aggregation)
	c.sinksMu.Lock()
	c.sinks = append(c.sinks, w)
	c.sinksMu.Unlock()
	return w
}

// LoopSink is one event loop's chain. Only its loop calls it.
type LoopSink struct {
	c     *Chain
	next  ingest.SinkFlusher
	agg   *aggregator.Rules // the rules loop was built for
	loop  *aggregator.Loop  // nil: no aggregation rules
	epoch uint64
	rbuf  []byte // [pre] rewrite output, reused
	pbuf  []byte // [post] rewrite output, reused
	nbuf  []byte // normalised tagged name, reused
}

// AddPoint takes one point through the chain.
func (w *LoopSink) AddPoint(name []byte, ts int64, v float64) {
	c := w.c
	rs := c.rules.Load()
	if !c.admit(&rs.Filter, name) {
		return
	}
	name, ok := w.rewrite(rs.Rewrite, name)
	if !ok {
		return
	}
	if err := tagged.ValidatePath(name, c.maxName); err != nil {
		c.unsafeNames.Add(1)
		return
	}
	if name, ok = w.normalize(name); !ok {
		return
	}
	if rs.Aggregation != w.agg {
		w.useAggregation(rs.Aggregation)
	}
	if w.loop != nil {
		matched := w.loop.Add(name, ts, v)
		if !w.loop.Forward(name, matched) {
			return
		}
	}
	if name, ok = w.postRewrite(rs.Rewrite, name); !ok {
		return
	}
	w.next.AddPoint(name, ts, v)
}

// useAggregation switches the loop to new aggregation rules (nil: none),
// handing what it buffered under the old ones to the merger.
func (w *LoopSink) useAggregation(rules *aggregator.Rules) {
	if w.loop != nil {
		w.handOver()
	}
	w.agg, w.loop = rules, nil
	if rules != nil {
		w.loop = aggregator.NewLoop(rules)
	}
}

// handOver gives the loop's aggregation state to the merger.
func (w *LoopSink) handOver() {
	if st := w.loop.Swap(); st.Points() > 0 {
		w.c.handMu.Lock()
		w.c.handed = append(w.c.handed, st)
		w.c.handMu.Unlock()
	}
}

// admit applies the blacklist and the whitelist.
func (c *Chain) admit(f *rewrite.Filter, name []byte) bool {
	switch f.Check(name) {
	case rewrite.BlacklistMatch:
		c.blacklisted.Add(1)
		return false
	case rewrite.WhitelistReject:
		c.whitelistNo.Add(1)
		return false
	}
	return true
}

// rewrite applies the [pre] rewrite rules; a name rewritten to nothing is
// dropped.
func (w *LoopSink) rewrite(rw *rewrite.Rules, name []byte) ([]byte, bool) {
	if rw == nil || len(rw.Pre) == 0 {
		return name, true
	}
	out := rw.Pre.Apply(name, w.rbuf)
	if len(out) == 0 {
		w.c.unsafeNames.Add(1)
		return nil, false
	}
	if &out[0] != &name[0] {
		w.rbuf = out[:0] // keep the grown buffer
	}
	return out, true
}

// postRewrite applies the [post] rewrite rules to a point the aggregation
// step passes on: carbon-aggregator 1.1.7's pipeline is rewrite:pre,
// aggregate, rewrite:post, write (the aggregates it generates skip both
// rewrite steps). A renamed point is validated and normalised again.
func (w *LoopSink) postRewrite(rw *rewrite.Rules, name []byte) ([]byte, bool) {
	c := w.c
	if rw == nil || len(rw.Post) == 0 {
		return name, true
	}
	out := rw.Post.Apply(name, w.pbuf)
	if len(out) == 0 {
		c.unsafeNames.Add(1) // rewritten to nothing
		return nil, false
	}
	if &out[0] == &name[0] {
		return name, true // no rule matched
	}
	w.pbuf = out[:0]
	if err := tagged.ValidatePath(out, c.maxName); err != nil {
		c.unsafeNames.Add(1)
		return nil, false
	}
	return w.normalize(out)
}

// normalize puts tagged names in carbon's canonical form. The write buffer
// indexes them (storage/index's tag index) when it first buffers the name.
func (w *LoopSink) normalize(name []byte) ([]byte, bool) {
	if !tagged.IsTagged(name) {
		return name, true
	}
	n, err := tagged.Normalize(w.nbuf[:0], name)
	if err != nil {
		w.c.badTags.Add(1)
		return nil, false
	}
	if &n[0] != &name[0] {
		w.nbuf = n[:0]
	}
	return n, true
}

// Flush hands the loop's aggregation state over when the merger asked for
// it (it runs on the loop's goroutine, after every traffic event and from
// ingest.Server.OnLoops), then flushes the next sink.
func (w *LoopSink) Flush() {
	if e := w.c.epoch.Load(); e != w.epoch {
		w.epoch = e
		if agg := w.c.rules.Load().Aggregation; agg != w.agg {
			w.useAggregation(agg)
		} else if w.loop != nil {
			w.handOver()
		}
	}
	w.next.Flush()
}
