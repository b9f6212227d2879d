package statsd

import (
	"math"
	"testing"
	"time"
)

// TestNegativeZeroFlushesAsZero: etsy prints a -0 sample or gauge as 0 in
// what it sends to carbon, so the stored value is 0, not -0.
func TestNegativeZeroFlushesAsZero(t *testing.T) {
	cfg := DefaultConfig()
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLoop(&cfg)
	l.HandlePacket([]byte("t:-0|ms\ng:-0|g\nh:0|g\nh:-0|g"))
	got := flushOnce(t, f, t0.Add(10*time.Second), l.Swap())
	for _, name := range []string{"stats.timers.t.upper", "stats.timers.t.lower", "stats.timers.t.mean", "stats.timers.t.median",
		"stats.timers.t.sum", "stats.timers.t.upper_90", "stats.gauges.g", "stats.gauges.h"} {
		v, ok := got[name]
		if !ok {
			t.Errorf("%s not flushed", name)
			continue
		}
		if v != 0 || math.Signbit(v) {
			t.Errorf("%s = %v (sign bit %v); want 0", name, v, math.Signbit(v))
		}
	}
	for name, v := range got {
		if v == 0 && math.Signbit(v) {
			t.Errorf("%s flushed as -0", name)
		}
	}
}
