package cache

import (
	"fmt"
	"testing"
	"time"
)

// TestTakeForgetsBufferedPoints buffers points (an hour's flush interval),
// takes one series inside Pause and checks its points come back in
// arrival order, are no longer buffered, counted, or written by the next
// Sync, while the other series' points are.
func TestTakeForgetsBufferedPoints(t *testing.T) {
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 2, FlushInterval: time.Hour, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := c.NewProducer()
	for i := range 3 {
		p.AddPoint([]byte("gone"), int64(100+10*i), float64(i))
		p.AddPoint([]byte("kept"), int64(100+10*i), float64(i))
	}
	p.Flush()
	for end := time.Now().Add(10 * time.Second); c.Stats().Buffered != 6 && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	var got string
	err = c.Pause(func() error {
		got = fmt.Sprint(c.Take("gone"), c.Take("never.seen"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[{100 0} {110 1} {120 2}] []"; got != want {
		t.Errorf("Take = %s, want %s", got, want)
	}
	if st := c.Stats(); st.Buffered != 3 || st.Series != 1 {
		t.Errorf("after Take: buffered %d series %d, want 3 and 1", st.Buffered, st.Series)
	}
	if b := c.Buffered("gone", nil); len(b) != 0 {
		t.Errorf("Buffered(gone) = %v", b)
	}
	c.Sync()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := fmt.Sprint(rec.points); got != "map[kept:[{100 0} {110 1} {120 2}]]" {
		t.Errorf("written: %s", got)
	}
}
