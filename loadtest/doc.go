// Package loadtest is Plumbago's bundled load generator (`plumbago
// loadtest`). It drives carbon plaintext (TCP, UDP), pickle and statsd (UDP,
// TCP) traffic at any Graphite-compatible target and measures what matters
// end to end: points sent, points the server reports committed (Plumbago's
// /metrics, carbon's self-metrics through /render, or a built-in graphite
// sink for etsy statsd), loss, visibility latency (send until /render returns
// a sampled point) and render latency under a concurrent query load.
//
// Payloads are built before the clock starts, as whole writes (stream chunks
// of complete lines or pickle frames, or datagrams); sending is a loop of
// Write calls over prebuilt byte slices, so the loader costs little CPU.
// Realtime mode patches fixed-width timestamps in place once per round.
//
// Named scenarios (Scenarios) reproduce the workloads of design.md; Run
// returns a Report that prints a summary table and can be written as JSON and
// as an SVG plot of throughput and latency over time.
package loadtest
