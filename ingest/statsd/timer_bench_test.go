package statsd

import "testing"

// BenchmarkHandleTimer is one timer sample per packet on one loop, the
// interval swapped every 10,000 samples: under the default cap, and over a
// cap of 1000 (reservoir replacement and exact aggregates per sample).
func BenchmarkHandleTimer(b *testing.B) {
	for _, tc := range []struct {
		name string
		cap  int
	}{{"under-cap", 0}, {"over-cap", 1000}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			if tc.cap > 0 {
				cfg.TimerSampleCap = tc.cap
			}
			l := NewLoop(&cfg)
			pkt := []byte("api.request.latency:123.5|ms")
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%10000 == 0 {
					s := l.Swap()
					s.recycle()
					l.spare.Store(s)
				}
				l.HandlePacket(pkt)
			}
		})
	}
}
