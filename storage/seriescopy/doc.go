// Package seriescopy copies series from one store to another (whisper,
// pebble, ClickHouse: anything with Fetch on one side and Write on the
// other) in bounded memory, with a resumable state log.
//
// Every archive of a source series is read, finest first, each over the
// part of its retention the finer archives do not cover, and the points are
// written to the destination as one series of a batch: the destination's
// own schema then decides where each point lands (its finest archive that
// covers the point's age) and computes its coarser archives as whisper's
// propagation does. Series are read and written in batches bounded by a
// point count, the next batch read while one is written; a State records, fsynced after each batch, the names whose
// points the destination has acknowledged, so a copy killed at any moment
// is resumed by running it again.
package seriescopy
