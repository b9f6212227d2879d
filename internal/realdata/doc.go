// Package realdata generates realistic Graphite data for storage and load
// measurements, and estimates the data's own entropy so every bytes-per-point
// figure can be printed beside the limit it is measured against.
//
// A Dataset is a fixed set of named series; Next(i) returns the next value of
// series i (one step later), or ok=false for a gap. Every series has its own
// random generator seeded from the dataset seed and its index, so the values
// do not depend on the order in which series are advanced, and the same seed
// always gives the same points. Next allocates nothing.
//
// Series kinds, as collectd, Diamond or telegraf report them:
//
//   - Gauge: a random walk plus noise, rounded to a fixed number of decimals
//     (the value is the float64 nearest to m/10^k, as strconv parses "12.34"),
//     optionally clamped (a CPU percentage stays in [0, 100]);
//   - Counter: a monotonic integer growing by a noisy rate, reset to zero now
//     and then (a restarted daemon);
//   - sparse series (either kind) present only part of the time, in runs
//     (a Markov on/off process), so they have gaps.
//
// Gauges(seed, n, decimals) is the query dataset of issue 19 (noisy
// two-decimal gauges); Collectd(seed, hosts) is a collectd-shaped tree
// (collectd.host-0001.cpu-0.cpu-user, ....memory.memory-used,
// ....interface-eth0.if_octets.rx, ...) mixing all kinds.
//
// Entropy estimates the empirical entropy of the values given the previous
// value of the same series: the order-0 entropy of the decimal-scaled deltas
// (m[i] - m[i-1], counted in one histogram per series profile), plus the
// entropy of presence for series with gaps. It is a lower bound for any coder
// that codes each value from the previous one alone; a coder predicting
// better (or one adapting per series) can go below it.
package realdata
