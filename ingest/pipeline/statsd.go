package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/statsd"
)

// StatsdFlush is statsd's flush → points path. Each event loop aggregates
// its own statsd traffic (statsd.Handler); every interval, at startup +
// k·interval like etsy, the flush goroutine swaps the loops' state, has the
// statsd.Flusher turn it into points and writes them into the sink (a chain
// built like an event loop's, ending at the write buffer).
type StatsdFlush struct {
	handler  *statsd.Handler
	flusher  *statsd.Flusher
	interval time.Duration
	srv      *ingest.Server
	sink     ingest.SinkFlusher
	log      *slog.Logger

	mu   sync.Mutex // serialises a tick's flush with the final one
	stop chan struct{}
	done chan struct{}
}

// NewStatsdFlush returns the flush path of h's loops on srv into sink.
func NewStatsdFlush(h *statsd.Handler, f *statsd.Flusher, interval time.Duration, srv *ingest.Server, sink ingest.SinkFlusher, log *slog.Logger) *StatsdFlush {
	return &StatsdFlush{handler: h, flusher: f, interval: interval, srv: srv, sink: sink, log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Start starts the flush goroutine.
func (s *StatsdFlush) Start() { go s.run() }

func (s *StatsdFlush) run() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.interval)
			snaps, err := s.handler.Collect(ctx, s.srv)
			cancel()
			if err != nil {
				s.log.Warn("statsd flush: collecting loop state", "err", err)
			}
			s.flush(snaps, now)
		}
	}
}

func (s *StatsdFlush) flush(snaps []*statsd.Snapshot, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flusher.Flush(snaps, now, s.sink)
	s.sink.Flush()
	logSampleDrops(s.log, s.flusher.Totals())
}

// logSampleDrops logs, once per flush, that timers went over their sample
// bounds in the interval just flushed: their percentiles, median and
// histograms are estimates from a uniform sample (count, sum, mean, upper
// and lower stay exact). Nothing is logged for an interval within bounds.
func logSampleDrops(log *slog.Logger, t statsd.Totals) {
	if t.LastTimerSamplesDropped <= 0 {
		return
	}
	log.Info("statsd timer samples over timerSampleCap or timerSampleBudget: percentiles estimated from a uniform sample",
		"samples_not_kept", int64(t.LastTimerSamplesDropped), "samples_kept", t.TimerSamplesRetained)
}

// Stop ends the flush goroutine and flushes what the loops still hold
// (etsy flushes on exit too). Call it after the ingest engine stopped.
func (s *StatsdFlush) Stop() {
	close(s.stop)
	<-s.done
	s.flush(s.handler.CollectStopped(), time.Now())
}
