// Package whisper is Plumbago's whisper backend: one whisper file per metric
// (a.b.c is <Dir>/a/b/c.wsp), byte-compatible with Python whisper 1.1 in both
// directions, so an existing carbon data volume is served as is and files
// written here are read by whisper-fetch, graphite-web and carbon.
//
// The file format code (header, update_many, propagation, fetch) is written
// against the format in this package rather than through go-whisper, whose
// UpdateMany diverges from Python (aggregation ids 6..8, a package-level
// clock, float32 xFilesFactor arithmetic, an off-by-one when points span two
// archives) and allocates per point; see docs/whisper.md.
//
// Writes take a striped lock per metric name, so one file has one writer;
// each series of a batch is an open, one update_many, close. Open starts a
// parallel scan of Dir that adds every existing metric to the name index.
package whisper
