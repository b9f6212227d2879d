package loadtest

import (
	"errors"
	"fmt"

	"github.com/plumbago/plumbago/internal/realdata"
)

// The realistic datasets (--data), from internal/realdata.
const (
	DataGauges   = "gauges"   // noisy gauges with --decimals decimals (issue 19's query dataset)
	DataCollectd = "collectd" // a collectd tree: 38 series a host, gauges, counters with resets, sparse series
)

// dataset returns a fresh generator of the shape's realistic data (nil for
// the synthetic small integers). Every call starts over from the seed.
func (s *Shape) dataset() *realdata.Dataset {
	switch s.Data {
	case DataGauges:
		return realdata.Gauges(s.Seed, s.Metrics, s.Decimals)
	case DataCollectd:
		return realdata.Collectd(s.Seed, s.Metrics/collectdSeriesPerHost)
	}
	return nil
}

// collectdSeriesPerHost is the series realdata.Collectd makes per host.
const collectdSeriesPerHost = 38

// checkData validates the realistic-data settings and rounds Metrics to
// whole collectd hosts.
func (c *Config) checkData() error {
	switch c.Shape.Data {
	case "":
		return nil
	case DataGauges:
		if c.Shape.Decimals < 0 || c.Shape.Decimals > 6 {
			return fmt.Errorf("--decimals %d: want 0..6", c.Shape.Decimals)
		}
	case DataCollectd:
		hosts := max(1, (c.Shape.Metrics+collectdSeriesPerHost-1)/collectdSeriesPerHost)
		c.Shape.Metrics = hosts * collectdSeriesPerHost
	default:
		return fmt.Errorf("unknown --data %q (want %s or %s)", c.Shape.Data, DataGauges, DataCollectd)
	}
	if c.Shape.Tree || c.Shape.Churn > 0 || c.Realtime || c.Proto.statsd() || c.VisibilityEvery > 0 {
		return errors.New("--data needs back-filled carbon or pickle payloads, without --shape tree, --churn or visibility probes (the dataset names and values the series)")
	}
	return nil
}

// dataEntropy is the entropy estimate of the points the payload holds:
// the same dataset generated again, step by step.
func dataEntropy(s *Shape, steps int) *realdata.Entropy {
	d := s.dataset()
	e := realdata.NewEntropy(d)
	for p := 0; p < steps; p++ {
		for i := 0; i < d.Len(); i++ {
			v, ok := d.Next(i)
			e.Add(i, v, ok)
		}
	}
	return e
}
