package statsd

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"

	"github.com/plumbago/plumbago/ingest"
)

type nopSink struct{}

func (nopSink) AddPoint([]byte, int64, float64) {}
func (nopSink) Flush()                          {}

// BenchmarkCoreUDP drives the real network core (ingest.Server) with the
// statsd Handler over loopback UDP, one metric per datagram, and reports the
// share of datagrams the server handled. Run with -cpuprofile to see where a
// datagram's time goes.
func BenchmarkCoreUDP(b *testing.B) {
	cfg := DefaultConfig()
	h := NewHandler(cfg)
	port := ingesttest.FreePort(b)
	srv, err := ingest.NewServer(ingest.Config{EventLoops: 2, SocketRecvBuffer: 8 << 20,
		NewSink: func() ingest.SinkFlusher { return nopSink{} }},
		[]ingest.Listener{{Name: "statsd", Network: "udp", Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: h}})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(b.Context())
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	pkts := make([][]byte, 1024)
	for i := range pkts {
		pkts[i] = []byte(fmt.Sprintf("bench.key%d:%d|c", i, i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Write(pkts[i&1023])
	}
	time.Sleep(200 * time.Millisecond)
	b.StopTimer()
	snaps, _ := h.Collect(b.Context(), srv)
	var got float64
	for _, s := range snaps {
		got += s.packets
	}
	b.ReportMetric(got/float64(b.N), "handled/sent")
}
