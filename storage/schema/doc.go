// Package schema reads carbon 1.1's storage-schemas.conf and
// storage-aggregation.conf and decides, for a metric name, which retentions
// and which aggregation (method and xFilesFactor) a new series gets.
//
// Rules are tried in file order and the first section whose pattern matches
// (regexp search, unanchored, as carbon does) wins. Retention strings follow
// carbon and whisper ("10s:6h,1m:7d", "60:1440" = 60 s per point, 1440
// points) and are validated with whisper.create's rules. Patterns are Python
// regular expressions; they are translated to Go's RE2 syntax where a
// translation exists, and rejected with a clear error otherwise (lookaround,
// backreferences, conditionals).
//
// Method carries Python whisper's aggregation ids (1..8) and implements
// whisper's aggregate() exactly, so every backend consolidates the same way.
package schema
