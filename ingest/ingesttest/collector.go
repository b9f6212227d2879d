package ingesttest

import (
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
)

// Point is one point an ingest.Server's loop handed its sink.
type Point struct {
	Name string
	TS   int64
	V    float64
}

// Collector records the points an ingest.Server delivers: give
// Collector.NewSink as the server's Config.NewSink. Each loop's sink buffers
// its points and adds them to the collector when the loop flushes.
type Collector struct {
	mu  sync.Mutex
	pts []Point
}

// NewSink returns a sink for one event loop.
func (c *Collector) NewSink() ingest.SinkFlusher { return &collectorSink{c: c} }

// Wait polls (up to 5 s) until n points have arrived, fails the test if the
// count is not then exactly n, and returns them in arrival order, taking
// them out of the collector.
func (c *Collector) Wait(t testing.TB, n int) []Point {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		got := len(c.pts)
		c.mu.Unlock()
		if got >= n {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pts) != n {
		t.Fatalf("received %d points; want %d: %v", len(c.pts), n, c.pts)
	}
	out := c.pts
	c.pts = nil
	return out
}

type collectorSink struct {
	c   *Collector
	buf []Point
}

func (s *collectorSink) AddPoint(name []byte, ts int64, v float64) {
	s.buf = append(s.buf, Point{string(name), ts, v})
}

func (s *collectorSink) Flush() {
	s.c.mu.Lock()
	s.c.pts = append(s.c.pts, s.buf...)
	s.c.mu.Unlock()
	s.buf = s.buf[:0]
}
