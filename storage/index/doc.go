// Package index is Plumbago's in-memory metric name tree. It answers
// /metrics/find and expands the path expressions of render targets into
// metric names, with graphite-web 1.1's glob semantics (fnmatch per
// dot-separated segment, {a,b} alternatives, "**" globstar).
//
// Names are stored as a trie of interned segments; small child sets are
// sorted slices, large ones also get a compact hash table of positions in
// their child list (bignode.go), so literal segments of a pattern
// are direct lookups and only glob segments scan children. Tagged series
// (names containing ';') are not indexed here: Add ignores them and the tag
// index handles them.
package index
