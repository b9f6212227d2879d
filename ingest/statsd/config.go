package statsd

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Config holds the statsd options. TOML keys use etsy statsd's names; the
// defaults (DefaultConfig) are etsy's.
type Config struct {
	// FlushInterval is the flush period and the divisor for rates. Plumbago
	// sets it from --statsd-flush-interval (statsd-flush-interval in TOML).
	FlushInterval time.Duration `toml:"-"`
	// PercentThreshold lists the timer percentiles; negative means top-N.
	PercentThreshold []float64 `toml:"percentThreshold"`
	// FlushCounts emits stats_counts.* (or .count) for counters.
	FlushCounts bool `toml:"flush_counts"`
	// DeleteIdleStats switches on the four Delete* options that are unset.
	DeleteIdleStats bool  `toml:"deleteIdleStats"`
	DeleteCounters  *bool `toml:"deleteCounters"`
	DeleteTimers    *bool `toml:"deleteTimers"`
	DeleteGauges    *bool `toml:"deleteGauges"`
	DeleteSets      *bool `toml:"deleteSets"`
	// GaugesMaxTTL is the number of idle flushes before a gauge is dropped
	// (only with DeleteGauges).
	GaugesMaxTTL int `toml:"gaugesMaxTTL"`
	// CalculatedTimerMetrics whitelists timer outputs ("count", "upper_percent",
	// "histogram", ...); empty means all.
	CalculatedTimerMetrics []string `toml:"calculatedTimerMetrics"`
	// Histogram: the first entry whose Metric is a substring of the key wins.
	Histogram []HistogramConfig `toml:"histogram"`
	// KeyNameSanitize sanitises keys on ingress (otherwise on output).
	KeyNameSanitize bool `toml:"keyNameSanitize"`
	// PrefixStats is the namespace of the self-metrics.
	PrefixStats string `toml:"prefixStats"`
	// MaxKeys bounds the distinct names one event loop aggregates in one
	// flush interval (all types together); metrics for further new names
	// are dropped and counted. 0 means no limit. Not an etsy option.
	MaxKeys int `toml:"maxKeys"`
	// TimerSampleCap bounds the samples one event loop keeps for one timer
	// in one flush interval; past it the loop keeps a uniform random sample
	// (reservoir sampling) and exact count, sum, sum of squares, min and max,
	// so only percentiles, median, std's rounding and histograms become
	// estimates (docs/statsd.md). 0 means no cap (etsy's behaviour: memory
	// grows with the traffic). Not an etsy option.
	TimerSampleCap int `toml:"timerSampleCap"`
	// TimerSampleBudget bounds the timer samples all event loops keep in one
	// flush interval, over every timer (each loop gets an equal share, see
	// EventLoops). A timer that reaches its loop's share stops growing and
	// samples at the size it has (at least one sample per timer). 0 means no
	// budget; serve derives it from --memory-budget. Not an etsy option.
	TimerSampleBudget int `toml:"timerSampleBudget"`
	// EventLoops is the number of loops TimerSampleBudget is shared among
	// (set by serve; 0 or 1 gives each loop the whole budget).
	EventLoops int `toml:"-"`
	// HealthStatus is the initial admin health ("up" or "down").
	HealthStatus string         `toml:"healthStatus"`
	Graphite     GraphiteConfig `toml:"graphite"`
}

// GraphiteConfig holds the graphite backend naming options.
type GraphiteConfig struct {
	LegacyNamespace bool   `toml:"legacyNamespace"`
	GlobalPrefix    string `toml:"globalPrefix"`
	PrefixCounter   string `toml:"prefixCounter"`
	PrefixTimer     string `toml:"prefixTimer"`
	PrefixGauge     string `toml:"prefixGauge"`
	PrefixSet       string `toml:"prefixSet"`
	// GlobalSuffix is appended (after a '.') to every name; empty means none.
	GlobalSuffix string `toml:"globalSuffix"`
}

// HistogramConfig is one histogram entry. Bins are non-inclusive upper
// bounds: numbers, or "inf" for the catch-all bin.
type HistogramConfig struct {
	Metric string `toml:"metric"`
	Bins   []any  `toml:"bins"`
}

// DefaultTimerSampleCap is the default TimerSampleCap: 16384 samples (128 KiB
// per timer and loop) keep a p99's rank error under 0.1 percentile point.
const DefaultTimerSampleCap = 16384

// loopSampleBudget is one loop's share of TimerSampleBudget (0: none).
func (c *Config) loopSampleBudget() int {
	if c.TimerSampleBudget <= 0 {
		return 0
	}
	return max(1, (c.TimerSampleBudget+max(c.EventLoops, 1)-1)/max(c.EventLoops, 1))
}

// DefaultConfig returns etsy statsd's defaults.
func DefaultConfig() Config {
	return Config{
		FlushInterval:    10 * time.Second,
		PercentThreshold: []float64{90},
		FlushCounts:      true,
		GaugesMaxTTL:     1,
		KeyNameSanitize:  true,
		PrefixStats:      "statsd",
		HealthStatus:     "up",
		MaxKeys:          1_000_000,
		TimerSampleCap:   DefaultTimerSampleCap,
		Graphite: GraphiteConfig{
			LegacyNamespace: true,
			GlobalPrefix:    "stats",
			PrefixCounter:   "counters",
			PrefixTimer:     "timers",
			PrefixGauge:     "gauges",
			PrefixSet:       "sets",
		},
	}
}

func (c *Config) deleteOpt(p *bool) bool {
	if p != nil {
		return *p
	}
	return c.DeleteIdleStats
}

// bin is a normalised histogram bin.
type bin struct {
	bound float64 // +Inf for "inf"
	name  string  // "bin_7_5", "bin_inf"
}

type histogram struct {
	metric string
	bins   []bin
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.FlushInterval < time.Millisecond {
		return fmt.Errorf("statsd flushInterval %v: must be at least 1ms", c.FlushInterval)
	}
	for _, p := range c.PercentThreshold {
		if math.IsNaN(p) || math.IsInf(p, 0) || p == 0 || p > 100 || p < -100 {
			return fmt.Errorf("statsd percentThreshold %v: must be in [-100,0) or (0,100]", p)
		}
	}
	if c.TimerSampleCap < 0 || c.TimerSampleBudget < 0 {
		return fmt.Errorf("statsd timerSampleCap %d, timerSampleBudget %d: must not be negative", c.TimerSampleCap, c.TimerSampleBudget)
	}
	if c.HealthStatus != "up" && c.HealthStatus != "down" {
		return fmt.Errorf("statsd healthStatus %q: must be up or down", c.HealthStatus)
	}
	_, err := c.histograms()
	return err
}

func (c *Config) histograms() ([]histogram, error) {
	var hs []histogram
	for _, h := range c.Histogram {
		hh := histogram{metric: h.Metric}
		for _, b := range h.Bins {
			var bb bin
			switch v := b.(type) {
			case string:
				if v != "inf" {
					return nil, fmt.Errorf("statsd histogram %q bin %q: want a number or \"inf\"", h.Metric, v)
				}
				bb = bin{bound: math.Inf(1), name: "bin_inf"}
			case int64:
				bb.bound = float64(v)
			case int:
				bb.bound = float64(v)
			case float64:
				bb.bound = v
			default:
				return nil, fmt.Errorf("statsd histogram %q bin %v: want a number or \"inf\"", h.Metric, b)
			}
			if bb.name == "" {
				if math.IsNaN(bb.bound) {
					return nil, fmt.Errorf("statsd histogram %q: NaN bin", h.Metric)
				}
				bb.name = "bin_" + strings.Replace(jsNumberString(bb.bound), ".", "_", 1)
			}
			hh.bins = append(hh.bins, bb)
		}
		hs = append(hs, hh)
	}
	return hs, nil
}
