package pebble

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/plumbago/plumbago/storage"
)

// TestWriteReportsFailedSeries: one series whose stored block is corrupt
// fails alone; the other 1,000 series of the same batch are written, and
// the error names exactly the failing one.
func TestWriteReportsFailedSeries(t *testing.T) {
	now := int64(1_000_000)
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Now = func() int64 { return now }
	// No Close: pebble's flush would merge the corrupt block and fail for
	// good (the merge operator refuses it), so the store is left open, and
	// it must never flush on idleness either (a flush after the test, its
	// directory removed, panics the test binary).
	opts.IdleFlush = -1
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1001
	b := &storage.Batch{}
	for i := 0; i < n; i++ {
		b.Series = append(b.Series, storage.SeriesPoints{Name: fmt.Sprintf("m.s%04d", i), Points: []storage.Point{{Timestamp: now - 60, Value: 1}}})
	}
	if err := s.Write(b); err != nil {
		t.Fatal(err)
	}
	// Overwrite series 500's block with bytes that do not decode.
	ser := s.names.get("m.s0500")
	a := s.schemaOf(ser).archives[0]
	start := (now - 60) - (now-60)%(a.step*blockSlots)
	key := makeDataKey(a.ring.id, uint32(start), ser.id)
	if err := s.db.Set(key[:], []byte{0xff, 0xff}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	ser.tails = 0 // as after a restart: the writer reads the blocks back
	for i := range b.Series {
		b.Series[i].Points = []storage.Point{{Timestamp: now - 50, Value: 2}}
	}
	err = s.Write(b)
	var we *storage.WriteError
	if !errors.As(err, &we) || len(we.Failed) != 1 || we.Failed[0].Index != 500 || we.Failed[0].Name != "m.s0500" || !errors.Is(err, errBadBlock) {
		t.Fatalf("Write = %v; want a WriteError naming only series 500 (m.s0500), wrapping errBadBlock", err)
	}
	for _, i := range []int{0, 499, 501, 1000} {
		name := fmt.Sprintf("m.s%04d", i)
		got, err := s.Fetch(name, now-70, now, now)
		if err != nil {
			t.Fatal(err)
		}
		var vals []float64
		for _, v := range got.Values {
			if !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) != 2 || vals[0] != 1 || vals[1] != 2 {
			t.Errorf("%s: values %v; want [1 2]", name, vals)
		}
	}
	if st := s.Stats(); st.PointsWritten != 2*n-1 {
		t.Errorf("PointsWritten = %d; want %d", st.PointsWritten, 2*n-1)
	}
}
