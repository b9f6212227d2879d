// Package ingest is Plumbago's network core: one gnet engine serving every
// ingest listener (carbon plaintext TCP/UDP, pickle, statsd UDP/TCP, statsd
// admin, carbonlink). Each event loop parses its own traffic in place and
// hands points to a Sink that routes them, by a hash of the metric name, to the
// storage shards (storage/cache).
//
// Protocol packages (ingest/line, ingest/statsd, ingest/pickle, ...) are
// libraries: they parse bytes and call a Sink; they never own sockets.
package ingest
