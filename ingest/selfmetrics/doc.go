// Package selfmetrics emits carbon-cache's self-instrumentation series,
// carbon.agents.<host>.<name>, every interval (carbon's
// CARBON_METRIC_INTERVAL, 60 s), with carbon's names and semantics: counters
// are reported as the count during the interval (carbon clears its stats at
// each report), gauges as their current value, and pointsPerUpdate and
// cache.bulk_queries_average_size are derived from the interval's counts.
// Existing carbon dashboards therefore keep working.
package selfmetrics
