// Package pipeline is what happens to a point between its protocol's parser
// and the write buffer, built explicitly from configuration by cmd/plumbago.
//
// Carbon's per-point chain (Chain, one LoopSink per event loop), in carbon's
// order:
//
//  1. filter: blacklist, then whitelist (ingest/rewrite.Filter);
//  2. rewrite: the [pre] rewrite rules (ingest/rewrite);
//  3. validate: names unsafe on a file tree or too long (storage/tagged.ValidatePath);
//  4. tag normalisation: tagged names in carbon's canonical form
//     (storage/tagged.Normalize);
//  5. aggregation rules: carbon-aggregator's rules (ingest/aggregator.Loop),
//     whose matches are kept back unless FORWARD_ALL;
//  6. [post] rewrites of the points passed on (the aggregates the merger
//     generates skip both rewrite steps, as in carbon-aggregator 1.1.7);
//  7. route: the next sink, the write buffer's producer (storage/cache),
//     which indexes new names (storage/index, tagged ones in its tag index).
//
// The rule set (Rules: lists, rewrite rules, aggregation rules) is one
// value swapped atomically (Chain.SetRules) when its files are re-read;
// each point reads it once. A loop that sees new aggregation rules hands
// what it buffered under the old ones to the merger, which emits it by the
// rules that buffered it.
//
// Every sink runs on its event loop's goroutine and touches only that loop's
// state and atomic counters: no lock shared by the loops on the per-point path.
//
// Merger collects every loop's aggregation state once a second and writes
// the completed intervals through tag normalisation into the write buffer.
// SelfMetrics writes carbon's carbon.agents.* metrics. StatsdFlush turns
// statsd's per-loop state into points every flush interval and hands them
// to a sink built like an event loop's (so statsd's points take the carbon
// chain too).
package pipeline
