package pebble

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/plumbago/plumbago/storage"
)

// dataKeysOf counts the data keys of series id left in the store.
func dataKeysOf(t *testing.T, s *Store, ids map[uint32]bool) int {
	t.Helper()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixData}, UpperBound: prefixEnd(prefixData)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if _, _, id, ok := parseDataKey(it.Key()); ok && ids[id] {
			n++
		}
	}
	return n
}

// TestDeleteSeriesReclaimsSpace writes 200 series of random floats, deletes
// half and checks every data key of theirs is gone, the live sstables
// shrank to about half, the names are gone from the store and the index,
// the others read back unchanged, and a deleted name written again starts
// empty under a new id.
func TestDeleteSeriesReclaimsSpace(t *testing.T) {
	const now = 1_700_000_000
	s := openTest(t, w1Rules(t), func() int64 { return now })
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var b storage.Batch
	for i := range 200 {
		sp := storage.SeriesPoints{Name: fmt.Sprintf("m.%03d", i)}
		for p := range 900 {
			sp.Points = append(sp.Points, storage.Point{Timestamp: now - 899 + int64(p), Value: rng.Float64()})
		}
		b.Series = append(b.Series, sp)
	}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(true); err != nil {
		t.Fatal(err)
	}
	before := s.Stats().TableBytes
	keep, _ := s.Fetch("m.001", now-900, now, now)
	var names []string
	ids := map[uint32]bool{}
	for i := 0; i < 200; i += 2 {
		n := fmt.Sprintf("m.%03d", i)
		names = append(names, n)
		ids[s.lookup(n).id] = true
	}
	if got := dataKeysOf(t, s, ids); got == 0 {
		t.Fatal("no data keys before the delete")
	}
	deleted, _, err := s.DeleteSeries(append(names, "not.stored"))
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 100 {
		t.Fatalf("deleted %d series, want 100", len(deleted))
	}
	if _, err := s.CompactDeleted(); err != nil {
		t.Fatal(err)
	}
	if got := dataKeysOf(t, s, ids); got != 0 {
		t.Errorf("%d data keys of deleted series left", got)
	}
	after := s.Stats().TableBytes
	t.Logf("live sstables: %d bytes before deleting 100 of 200 series, %d after", before, after)
	if after > before*6/10 || after < before*4/10 {
		t.Errorf("live sstables %d bytes after deleting half, %d before", after, before)
	}
	if s.Stats().Series != 100 || s.index.Has("m.000") || !s.index.Has("m.001") {
		t.Errorf("series %d, index has m.000 %v m.001 %v", s.Stats().Series, s.index.Has("m.000"), s.index.Has("m.001"))
	}
	if _, err := s.Fetch("m.000", now-900, now, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("fetch of a deleted series: %v", err)
	}
	got, err := s.Fetch("m.001", now-900, now, now)
	if err != nil || fmt.Sprint(got.Values) != fmt.Sprint(keep.Values) {
		t.Errorf("m.001 changed by the delete (err %v)", err)
	}
	b.Series = []storage.SeriesPoints{{Name: "m.000", Points: []storage.Point{{Timestamp: now - 5, Value: 42}}}}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	ser, err := s.Fetch("m.000", now-10, now, now)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, v := range ser.Values {
		if !math.IsNaN(v) {
			n++
			if v != 42 || ser.Start+int64(i)*ser.Step != now-5 {
				t.Errorf("recreated m.000: %v at %d", v, ser.Start+int64(i)*ser.Step)
			}
		}
	}
	if n != 1 {
		t.Errorf("recreated m.000 has %d points, want 1: %v", n, ser.Values)
	}
	// Reopened, the store knows the 100 kept series and the new one.
	dir := s.opts.Dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Dir = dir
	opts.Rules = w1Rules(t)
	s2, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Stats().Series != 101 || !s2.index.Has("m.000") || s2.index.Has("m.002") {
		t.Errorf("after reopening: %d series", s2.Stats().Series)
	}
}

// TestRenameAndLastPoint renames a series (its data follows; the old name
// is gone, also after reopening) and reads the newest point's time.
func TestRenameAndLastPoint(t *testing.T) {
	const now = 1_700_000_000
	s := openTest(t, w1Rules(t), func() int64 { return now })
	b := storage.Batch{Series: []storage.SeriesPoints{
		{Name: "a.b", Points: []storage.Point{{Timestamp: now - 100, Value: 1}, {Timestamp: now - 30, Value: 2}}},
		{Name: "old", Points: []storage.Point{{Timestamp: now - 3000, Value: 5}}},
		{Name: "c.d", Points: []storage.Point{{Timestamp: now - 10, Value: 3}}},
	}}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want int64
	}{{"a.b", now - 30}, {"old", now - 3000 - (now-3000)%60}, {"c.d", now - 10}} {
		ts, ok, err := s.LastPoint(c.name, now)
		if err != nil || !ok || ts != c.want {
			t.Errorf("LastPoint(%s) = %d %v %v, want %d", c.name, ts, ok, err, c.want)
		}
	}
	if err := s.RenameSeries("a.b", "c.d"); !errors.Is(err, storage.ErrExists) {
		t.Errorf("rename onto an existing series: %v", err)
	}
	if err := s.RenameSeries("x.y", "z"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("rename of a missing series: %v", err)
	}
	if err := s.RenameSeries("a.b", "e.f.g"); err != nil {
		t.Fatal(err)
	}
	if s.index.Has("a.b") || !s.index.Has("e.f.g") {
		t.Error("index not updated by the rename")
	}
	ts, ok, err := s.LastPoint("e.f.g", now)
	if err != nil || !ok || ts != now-30 {
		t.Errorf("LastPoint of the renamed series = %d %v %v", ts, ok, err)
	}
	dir := s.opts.Dir
	s.Close()
	opts := DefaultOptions()
	opts.Dir = dir
	opts.Now = func() int64 { return now }
	s2, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ser, err := s2.Fetch("e.f.g", now-120, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if v := ser.Values[(now-30-ser.Start)/ser.Step]; v != 2 {
		t.Errorf("renamed series after reopening: %v", ser.Values)
	}
	if _, err := s2.Fetch("a.b", now-120, now, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("old name after reopening: %v", err)
	}
}
