// Package aggregator is carbon-aggregator inside the ingest path: it parses
// aggregation-rules.conf, matches incoming names against the rules, keeps the
// per-interval buffers, and emits aggregates with carbon's semantics.
//
// Rule syntax (one per line, '#' comments):
//
//	output_template (frequency) = method input_pattern
//
// input_pattern is split on dots; a node containing <<field>> captures
// across dots (.+?), <field> captures one node ([^.]+?), a node that is just
// * matches one non-empty node, any other * matches within a node, and
// everything else is a regular expression fragment, as in carbon. The
// pattern is anchored at both ends. Methods: sum, avg, min, max, count, p50,
// p75, p80, p90, p95, p99, p999 (carbon's linear-interpolation percentile).
//
// State is kept per event loop (Loop, no locks) and handed over with Swap to
// a single Merger, which combines every loop's buffers and emits each
// completed interval once, timestamped with the interval's start
// (timestamp - timestamp % frequency), like carbon. Buffers are kept for
// MaxIntervals intervals so late points re-emit the interval's aggregate over
// all its values, which is what carbon writes last.
package aggregator
