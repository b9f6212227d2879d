// Package seriesops is what an operator does to stored series on a running
// server or a stopped store: delete series by glob, tag expression or list;
// rename one series or many by a glob rewrite with back-references,
// optionally merging into an existing series with whisper-fill's semantics;
// list and prune stale series (no point since a time). Every operation has
// a dry run that lists what it would do.
//
// It drives any backend that implements Store (storage/whisper and
// storage/pebble both do), the name index, and on a running server the
// write buffer (Buffer), so find, render, tags, carbonlink and the buffer
// forget a deleted series at once.
package seriesops
