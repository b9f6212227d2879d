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
