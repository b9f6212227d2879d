// Package cache is the write buffer between ingest and a storage backend.
//
// Points arrive from producers (one per event loop or internal source)
// through bounded single-producer/single-consumer lanes, one lane per
// (producer, shard) pair; a metric's shard is chosen by a hash of its name, so
// all points of a series meet in one shard. Each shard has a consumer that
// files points per series and a writer that hands whole batches to the
// backend. Fetch reads the backend and overlays whatever is still buffered, so
// a point is visible to queries as soon as it is accepted. A series'
// buffered points are packed in one byte slice (points.go: a timestamp
// delta and the value's XOR with the previous one, 3-10 bytes a point)
// and decoded for a write, a query or Take.
//
// Backpressure: lanes hold a bounded number of chunks and each shard a bounded
// number of buffered points. When they are full, AddPoint blocks, which stops
// the event loop from reading its sockets (TCP backpressure); nothing is
// dropped silently.
//
// Write failures (write.go): a backend reports the series it could not
// write in a *storage.WriteError; the others are committed and counted.
// Failed series keep their points, ahead of newer ones, and are retried
// with doubling back-off; after MaxWriteRetries they are dropped and
// counted (Stats.WriteErrors). Points refused because the store takes no
// writes for now (storage.Unavailable: no space, read-only) are kept
// without a limit, which back-pressures ingest once the buffer is full, and
// Health reports why. The write-ahead log is trimmed only up to the oldest
// point still unwritten, and only after a backend that implements Syncer
// (whisper) has made what was written durable.
//
// Idle series (evict.go): a series is kept while it is in use; once it has
// nothing buffered and took no point for Options.IdleSeriesAfter (2
// minutes) its shard forgets it, as carbon-cache drops a metric once its
// points are written, and its next point files it again.
package cache
