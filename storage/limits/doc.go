// Package limits decides whether a series the server has never seen may be
// created, and whether a point of a namespace with a throughput quota may
// be taken. The write buffer (storage/cache) asks it once per new name, so
// the limits hold for every source (carbon, pickle, protobuf, statsd,
// aggregator output) and both backends.
//
// Limits, in the order they are checked for a new series:
//
//   - a total series cap (MaxSeries);
//   - per-namespace quotas read from a quota file in go-carbon's syntax
//     (quota.go): per glob prefix, the last matching section at each depth
//     applies; metrics, data-points, logical-size and physical-size reject
//     new series of a namespace over quota while its existing series keep
//     flowing; throughput bounds the points a namespace takes per window;
//   - a creation rate (carbon's MAX_CREATES_PER_MINUTE): a token bucket of
//     MaxCreates per CreateWindow. A series over the rate is deferred, not
//     rejected: the write buffer keeps its points and asks again.
//
// Every rejection is counted by reason and namespace (Rejections) and
// logged at most once per LogEvery per reason.
package limits
