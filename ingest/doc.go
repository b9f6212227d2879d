// Package ingest is Plumbago's network core: one gnet engine serving every
// ingest listener (carbon plaintext TCP/UDP, pickle, statsd UDP/TCP, statsd
// admin, carbonlink). On Linux the UDP listeners are served instead by
// readers of their own: Config.EventLoops SO_REUSEPORT sockets per
// listener, each read by a goroutine blocking in recvmmsg(2), which has a
// Loop of its own (udpreader_linux.go). Each event loop parses its own traffic in place and
// hands points to a Sink that routes them, by a hash of the metric name, to the
// storage shards (storage/cache).
//
// Protocol packages (ingest/line, ingest/statsd, ingest/pickle, ...) are
// libraries: they parse bytes and call a Sink; they never own sockets.
//
// # Writing a protocol
//
// A protocol implements Handler: NewLoop is called once per event loop (on
// that loop's first traffic) with the loop's Sink and returns a LoopHandler
// holding the protocol's per-loop state. Its Stream method gets a TCP
// connection's buffered bytes and returns how many it consumed (whole
// messages only; the rest is offered again with more data; bound what you
// leave unconsumed). Datagram gets one UDP datagram. Both run on the loop's
// goroutine (or, for a UDP reader's loop, under its lock), never
// concurrently, so per-loop state needs no locks. Per-connection state goes in
// Conn.State; replies go through Conn.Write. The server flushes the loop's
// Sink after every event.
//
// To run code on every loop's goroutine (e.g. statsd's flush handing over
// each loop's aggregation state), call Server.OnLoops and, inside it,
// Loop.LoopHandler(h) to get that loop's instance of your protocol.
//
// # Wiring into plumbago serve
//
// Add a file cmd/plumbago/<name>.go with a component (see
// cmd/plumbago/component.go): its listeners, start and stop hooks, /metrics
// counters and optional HTTP handlers (s.handleHTTPWith); then build it in
// buildComponents, which lists every component in start order. Every loop's
// points pass carbon's per-point chain (ingest/pipeline) before the write
// buffer; a new per-point stage goes there, not into cmd.
package ingest
