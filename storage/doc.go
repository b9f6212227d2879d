// Package storage defines the contract between ingest, the write buffer and
// the storage backends: the Store interface that storage/whisper and
// storage/pebble implement, and the point, batch and series types that flow
// through it.
//
// Sub-packages:
//   - schema: storage-schemas.conf and storage-aggregation.conf (carbon syntax).
//   - index:  the in-memory metric name tree used by find and glob expansion.
//   - cache:  the sharded write buffer between ingest and a backend; queries
//     read through it so a point is visible as soon as it is accepted.
//   - whisper, pebble: the backends.
package storage
