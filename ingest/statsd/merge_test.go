package statsd

import (
	"fmt"
	"net"
	"testing"
	"time"
)

func flushOnce(t *testing.T, f *Flusher, now time.Time, snaps ...*Snapshot) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	f.Flush(snaps, now, sinkFunc(func(n []byte, _ int64, v float64) { got[string(n)] = v }))
	return got
}

type sinkFunc func([]byte, int64, float64)

func (s sinkFunc) AddPoint(n []byte, ts int64, v float64) { s(n, ts, v) }

// TestMergeAcrossLoops: counters add, timer samples combine, sets union,
// gauges apply loop by loop in slice order, each loop in arrival order.
func TestMergeAcrossLoops(t *testing.T) {
	cfg := DefaultConfig()
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewLoop(&cfg), NewLoop(&cfg)
	a.HandlePacket([]byte("g:5|g"))
	flushOnce(t, f, t0.Add(10*time.Second), a.Swap())

	a.HandlePacket([]byte("c:1|c\nt:1|ms\nt:3|ms\ns:x|s\ng:+1|g"))
	b.HandlePacket([]byte("c:2|c|@0.5\nt:2|ms\ns:x|s\ns:y|s\ng:10|g\ng:+2|g\nbad"))
	got := flushOnce(t, f, t0.Add(20*time.Second), a.Swap(), b.Swap())
	want := map[string]float64{
		"stats_counts.c": 5, "stats.timers.t.count": 3, "stats.timers.t.median": 2, "stats.timers.t.upper": 3,
		"stats.sets.s.count": 2, "stats.gauges.g": 12, "stats_counts.statsd.packets_received": 2,
		"stats_counts.statsd.metrics_received": 12, "stats_counts.statsd.bad_lines_seen": 1,
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s = %v, want %v", n, got[n], w)
		}
	}
	// Deltas only, on both loops: applied to the merged value in order.
	a.HandlePacket([]byte("g:+1|g\ng:-4|g"))
	b.HandlePacket([]byte("g:+0.5|g"))
	if got := flushOnce(t, f, t0.Add(30*time.Second), b.Swap(), a.Swap()); got["stats.gauges.g"] != 9.5 {
		t.Errorf("g = %v, want 9.5", got["stats.gauges.g"])
	}
	// A gauge reaching 0 makes the next delta absolute (etsy), across loops too.
	a.HandlePacket([]byte("g:-9.5|g"))
	b.HandlePacket([]byte("g:-3|g"))
	if got := flushOnce(t, f, t0.Add(40*time.Second), a.Swap(), b.Swap()); got["stats.gauges.g"] != -3 {
		t.Errorf("g = %v, want -3", got["stats.gauges.g"])
	}
}

// TestManySockets sends from many client sockets, so both event loops of the
// harness get traffic, and checks the merged flush.
func TestManySockets(t *testing.T) {
	srv := startTestServer(t, DefaultConfig(), 2)
	srv.reset(t, DefaultConfig(), t0)
	const n = 16
	before := srv.packets.Load()
	for i := 0; i < n; i++ {
		c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.udpPort})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "m:1|c\nt:%d|ms\ns:%d|s\ns:same|s", i+1, i)
		c.Close()
	}
	srv.waitPackets(t, before+n)
	srv.mu.Lock()
	loops := len(srv.order)
	srv.mu.Unlock()
	out := srv.flush(t0.Add(10 * time.Second))
	want := map[string]float64{
		"stats_counts.m": n, "stats.timers.t.count": n, "stats.timers.t.sum": n * (n + 1) / 2,
		"stats.timers.t.upper": n, "stats.timers.t.lower": 1, "stats.sets.s.count": n + 1,
		"stats_counts.statsd.packets_received": n,
	}
	for name, w := range want {
		if out.vals[name] != w {
			t.Errorf("%s = %v, want %v", name, out.vals[name], w)
		}
	}
	t.Logf("%d event loops saw traffic", loops)
}
