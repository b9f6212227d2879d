package statsd

import (
	"math"
	"slices"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestConfigTOML(t *testing.T) {
	const doc = `
percentThreshold = [90, 99.9, -10]
flush_counts = false
deleteIdleStats = true
deleteGauges = false
gaugesMaxTTL = 3
calculatedTimerMetrics = ["count", "upper_percent"]
keyNameSanitize = false
prefixStats = "sd"

[[histogram]]
metric = "api."
bins = [10, 7.5, "inf"]

[[histogram]]
metric = ""
bins = []

[graphite]
legacyNamespace = false
globalPrefix = "pfx"
globalSuffix = "h1"
`
	cfg := DefaultConfig()
	if _, err := toml.Decode(doc, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.PercentThreshold, []float64{90, 99.9, -10}) || cfg.FlushCounts || !cfg.DeleteIdleStats ||
		cfg.GaugesMaxTTL != 3 || cfg.KeyNameSanitize || cfg.PrefixStats != "sd" {
		t.Errorf("decoded %+v", cfg)
	}
	if !cfg.deleteOpt(cfg.DeleteCounters) || cfg.deleteOpt(cfg.DeleteGauges) {
		t.Error("deleteIdleStats must switch on the unset delete options only")
	}
	g := cfg.Graphite
	if g.LegacyNamespace || g.GlobalPrefix != "pfx" || g.GlobalSuffix != "h1" || g.PrefixCounter != "counters" || g.PrefixTimer != "timers" {
		t.Errorf("graphite %+v", g)
	}
	hs, err := cfg.histograms()
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].metric != "api." || len(hs[0].bins) != 3 || len(hs[1].bins) != 0 {
		t.Fatalf("histograms %+v", hs)
	}
	want := []bin{{10, "bin_10"}, {7.5, "bin_7_5"}, {math.Inf(1), "bin_inf"}}
	for i, b := range hs[0].bins {
		if b != want[i] {
			t.Errorf("bin %d = %+v, want %+v", i, b, want[i])
		}
	}
	for _, bad := range []string{`percentThreshold = [0]`, `percentThreshold = [101]`, `healthStatus = "sideways"`,
		"[[histogram]]\nmetric = \"x\"\nbins = [\"nope\"]"} {
		c := DefaultConfig()
		if _, err := toml.Decode(bad, &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
