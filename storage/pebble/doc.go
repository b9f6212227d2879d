// Package pebble is the default storage backend: Graphite series in a
// cockroachdb/pebble LSM, with whisper's semantics and a compact encoding.
//
// Every series keeps the archives (retentions), aggregation method and
// xFilesFactor it was created with, exactly as a whisper file does, and a
// Write behaves like whisper's update_many: each point goes to the finest
// archive whose retention covers its age, the last point of a slot wins,
// and every touched interval of the coarser archives is recomputed from the
// finer one (a coarse point exists only when known/total >= xFilesFactor).
// Fetch picks the archive and aligns the range as whisper's fetch does. The
// shared suite in storage/storetest checks both against Python whisper.
//
// On disk, each archive of each series is cut into blocks of 1024 slots,
// stored under ('D', archive shape, block start, series id) and appended to
// with pebble merge operands, so writes never read back what they append
// to; a per-series tail of the interval being filled gives propagation its
// input without reads either. Blocks encode slot presence as a bitmap and
// values as delta-of-delta / frame-of-reference integers, decimals (and
// averages of decimals) scaled to integers with Huffman-coded deltas, or
// Gorilla XOR floats: about half a byte per point on regular integer data,
// a few tenths of a bit above the deltas' entropy on noisy decimal gauges;
// Reencode rewrites blocks of older formats. Names,
// schemas and archive shapes are persisted beside the data and loaded into
// the name index at Open, or after it with Options.LoadNamesInBackground
// (load.go). Key layout and block format: docs/pebble.md and
// keys.go / block.go.
//
// Durability: writes are committed to pebble's WAL without fsync and the
// WAL is synced every Options.SyncInterval, so kill -9 loses at most that
// much; Close flushes everything. Checkpoint takes a consistent online
// backup; EnforceRetention (run every Options.RetentionInterval) drops
// expired blocks with one range deletion per archive shape; ImportWhisper
// migrates a carbon whisper tree.
package pebble
