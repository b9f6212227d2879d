package pipeline

import (
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/selfmetrics"
	"github.com/plumbago/plumbago/storage/cache"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/whisper"
)

// TestSelfMetricsCountUDPDrops: the carbon UDP lines dropped while storage
// took no writes are reported as droppedUDP, a counter the reporter emits
// as its increase per interval like carbon's own.
func TestSelfMetricsCountUDPDrops(t *testing.T) {
	st, err := whisper.Open(whisper.Options{Dir: t.TempDir(), Index: index.New()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := cache.New(st, nil, cache.Options{Shards: 1, FlushInterval: time.Hour,
		Step: func(string, int64, int64) int64 { return 10 }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var dropped uint64 = 7
	m := &SelfMetrics{Cache: c, Names: func() int { return 0 }, Chain: NewChain(Config{}),
		Connections: func() int64 { return 0 }, UDPDropped: func() uint64 { return dropped }}
	if got, ok := m.snapshot(0).Counters[selfmetrics.DroppedUDP]; !ok || got != 7 {
		t.Fatalf("droppedUDP = %d (present %v); want 7", got, ok)
	}
	m.UDPDropped = nil
	if _, ok := m.snapshot(0).Counters[selfmetrics.DroppedUDP]; ok {
		t.Fatal("droppedUDP reported without a UDP listener")
	}
}
