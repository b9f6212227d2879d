package oracletest

import "fmt"

// Metric is one fixture series: N points Step seconds apart, the last at
// now - now%Step. Value gives the point i steps before that one, or false
// for a gap. Every series keeps its points with xFilesFactor 0.5 and
// average aggregation.
type Metric struct {
	Name    string
	Step, N int64
	Value   func(i int64) (float64, bool)
}

// Metrics are three 10 s series with gaps, a negative one, a sparse one, a
// minutely one, an empty one and two hosts.
func Metrics() []Metric {
	var ms []Metric
	for k := int64(1); k <= 3; k++ {
		ms = append(ms, Metric{fmt.Sprintf("a.b.c%d", k), 10, 2160, func(i int64) (float64, bool) {
			return float64((i*k)%17)*1.5 + float64(k) - 0.25, (i+k)%13 != 0
		}})
	}
	return append(ms,
		Metric{"a.b.neg", 10, 2160, func(i int64) (float64, bool) { return -float64(i%7) * 0.1, i%5 != 0 }},
		Metric{"a.b.sparse", 10, 2160, func(i int64) (float64, bool) { return float64(i), i%9 == 0 }},
		Metric{"a.x.minute", 60, 1440, func(i int64) (float64, bool) { return float64(i%60) / 3, i%11 != 0 }},
		Metric{"a.empty", 10, 2160, func(i int64) (float64, bool) { return 0, false }},
		Metric{"host-1.cpu_0.user", 10, 2160, func(i int64) (float64, bool) { return 1e6 + float64(i)/7, true }},
		Metric{"host-2.cpu_0.user", 10, 2160, func(i int64) (float64, bool) { return 0.1 * float64(i%3), true }},
	)
}
