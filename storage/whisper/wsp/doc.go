// Package wsp reads the whisper file format's header: the one parser the
// whisper backend (storage/whisper), the importer into pebble
// (storage/pebble's import-whisper) and the load generator's verifier
// (loadtest) share, so they accept and reject the same files.
//
// Format (big-endian, no padding):
//
//	metadata    aggregationType u32 | maxRetention u32 | xFilesFactor f32 | archiveCount u32
//	archiveInfo offset u32 | secondsPerPoint u32 | points u32     (archiveCount times)
//	archives    point = interval u32 | value f64, points slots each, finest first
//
// Validation follows Python whisper (aggregation type 1..8, 0 <= xff <= 1)
// and additionally requires every archive to lie inside the file and the
// header's maxRetention not to exceed the archives' span.
package wsp
