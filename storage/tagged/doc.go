// Package tagged implements carbon's tagged series names and a tag index.
//
// A tagged name is name;tag1=value1;tag2=value2 (or the OpenMetrics-like
// name{tag1="value1",tag2="value2"} that carbon also parses). Normalize
// validates it with carbon's rules (TaggedSeries.validateTagAndValue) and
// returns carbon's canonical form: the name followed by the ";tag=value"
// segments in sorted order, duplicates resolved last-wins, so both the
// hashing and the storage layers see one spelling per series. StoragePath
// gives carbon's on-disk location for tagged series (_tagged/xxx/yyy/...), so
// the whisper backend stores them where carbon and graphite-web look.
//
// ValidatePath rejects plain names that are unsafe to map onto a directory
// tree (path separators, control bytes, empty nodes, over-long names).
//
// TagIndex maps tag -> value -> series and answers graphite-web's tag
// queries (seriesByTag's tag=value, tag!=value, tag=~regex, tag!=~regex)
// and the /tags, /tags/<tag> and /tags/autoComplete listings with
// graphite-web's semantics.
package tagged
