// Package statsd implements the statsd protocol (etsy statsd 0.10 semantics)
// as a library for Plumbago's gnet network core.
//
// The pieces, in data-flow order:
//
//   - Loop: per-event-loop aggregation state. The core calls HandlePacket with
//     each UDP datagram, or with each run of complete lines read from a TCP
//     connection (everything up to the last '\n'). Parsing is in place and the
//     hot path takes no locks and makes no allocation per metric (a name is
//     copied only the first time it is seen).
//   - Swap: at flush time the core runs Loop.Swap on each loop's own goroutine
//     (gnet's EventLoop.Execute) and collects the returned Snapshots.
//   - Flusher: one per server, owned by the flush goroutine. Flush merges the
//     snapshots with statsd's semantics (counters summed, timer samples
//     combined, gauges applied in arrival order, sets unioned), keeps the state
//     that persists across flushes, and emits every output point, named and
//     valued like etsy statsd's graphite backend, to an ingest.Sink.
//   - Admin: the management console (etsy's port 8126 commands).
//
// Deliberate differences from etsy statsd are listed in docs/statsd.md.
package statsd
