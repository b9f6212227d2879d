package cache

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// spinner is a Store whose every Write keeps its P busy for spin (a
// backend encoding a batch), and whose first Write starts a goroutine
// that records how many Writes were done when it first ran.
type spinner struct {
	discard
	spin   time.Duration
	writes atomic.Int64
	ranAt  atomic.Int64 // writes done when the goroutine ran; -1 before
	ran    chan struct{}
}

func (s *spinner) Write(b *storage.Batch) error {
	if s.writes.Load() == 0 {
		go func() { s.ranAt.Store(s.writes.Load()); close(s.ran) }()
	}
	for t0 := time.Now(); time.Since(t0) < s.spin; {
	}
	s.writes.Add(1)
	return s.discard.Write(b)
}

// On one P a write cycle of many Writes gives the P to a goroutine that
// waits for it (a UDP reader) between two Writes, before the cycle ends:
// without the cycle's yields it would run only after the cycle, or after
// sysmon's 10 ms (20 Writes of 200 µs take 4 ms).
func TestWriteCycleYieldsToWaitingGoroutine(t *testing.T) {
	st := &spinner{spin: 200 * time.Microsecond, ran: make(chan struct{})}
	st.ranAt.Store(-1)
	c, err := New(st, nil, Options{Shards: 1, LaneChunks: 4, ChunkPoints: 64, FlushInterval: time.Hour, MaxWritePoints: 1, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const series = 20 // one Write each (MaxWritePoints 1)
	pr := c.NewProducer()
	for i := 0; i < series; i++ {
		pr.AddPoint([]byte("s"+strconv.Itoa(i)), 1000, float64(i))
	}
	pr.Flush()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c.Sync()
	<-st.ran
	if n := st.writes.Load(); n != series {
		t.Fatalf("%d Writes, want %d", n, series)
	}
	if at := st.ranAt.Load(); at >= series {
		t.Errorf("the waiting goroutine ran after Write %d of %d: only after the cycle", at, series)
	}
}
