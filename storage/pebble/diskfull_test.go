package pebble

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/storetest"
)

func fullOpts(dir string, now *int64) Options {
	o := DefaultOptions()
	o.Dir = dir
	o.MemTableSize = 1 << 20
	o.CacheSize = 1 << 20
	o.MinFreeBytes = 4 << 20
	o.SpaceCheckInterval = 20 * time.Millisecond
	o.Now = func() int64 { return *now }
	return o
}

func point(name string, ts int64, v float64) *storage.Batch {
	return &storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: []storage.Point{{Timestamp: ts, Value: v}}}}}
}

func values(t *testing.T, s *Store, name string, from, until int64) []float64 {
	t.Helper()
	ser, err := s.Fetch(name, from, until, until)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", name, err)
	}
	var out []float64
	for _, v := range ser.Values {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

func waitHealthy(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for s.Health() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("store still unhealthy after 60 s: %v", s.Health())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDiskFull on a real 32 MiB tmpfs: below the free-space reserve Write
// refuses with ErrNoSpace and commits nothing, reads go on, and writes
// resume once space is freed; reopened on the full volume the store opens
// read-only, serves what it holds, and reopens for writing by itself when
// space returns; the same on a volume remounted read-only.
func TestDiskFull(t *testing.T) {
	vol := storetest.SmallVolume(t, 32<<20)
	now := int64(1_000_000)
	opts := fullOpts(filepath.Join(vol, "pebble"), &now)
	filler := filepath.Join(vol, "filler")
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(point("a.b", now-60, 1)); err != nil {
		t.Fatal(err)
	}
	storetest.Fill(t, filler, 2<<20)
	if err := s.Write(point("a.b", now-50, 2)); !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("Write below the reserve = %v; want ErrNoSpace", err)
	}
	if !errors.Is(s.Health(), storage.ErrNoSpace) {
		t.Fatalf("Health below the reserve = %v; want ErrNoSpace", s.Health())
	}
	if got := values(t, s, "a.b", now-70, now); len(got) != 1 || got[0] != 1 {
		t.Fatalf("values while full = %v; want [1]", got)
	}
	os.Remove(filler)
	if err := s.Write(point("a.b", now-50, 2)); err != nil {
		t.Fatalf("Write after space returned: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Start on the full volume: read-only, then writable by itself.
	storetest.Fill(t, filler, 2<<20)
	s, err = Open(opts)
	if err != nil {
		t.Fatalf("Open on a full volume: %v", err)
	}
	if !errors.Is(s.Health(), storage.ErrReadOnly) {
		t.Fatalf("Health after opening on a full volume = %v; want ErrReadOnly", s.Health())
	}
	if got := values(t, s, "a.b", now-70, now); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("values read-only = %v; want [1 2]", got)
	}
	if err := s.Write(point("a.b", now-40, 3)); !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("Write read-only = %v; want ErrReadOnly", err)
	}
	os.Remove(filler)
	waitHealthy(t, s)
	if err := s.Write(point("a.b", now-40, 3)); err != nil {
		t.Fatalf("Write after reopening: %v", err)
	}
	if got := values(t, s, "a.b", now-70, now); len(got) != 3 || got[2] != 3 {
		t.Fatalf("values after reopening = %v; want [1 2 3]", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A read-only volume: open read-only, resume when remounted writable.
	storetest.Remount(t, vol, true)
	s, err = Open(opts)
	if err != nil {
		storetest.Remount(t, vol, false)
		t.Fatalf("Open on a read-only volume: %v", err)
	}
	if err := s.Write(point("a.b", now-30, 4)); !errors.Is(err, storage.ErrReadOnly) {
		t.Errorf("Write on a read-only volume = %v; want ErrReadOnly", err)
	}
	if got := values(t, s, "a.b", now-70, now); len(got) != 3 {
		t.Errorf("values on a read-only volume = %v; want 3 values", got)
	}
	storetest.Remount(t, vol, false)
	waitHealthy(t, s)
	if err := s.Write(point("a.b", now-30, 4)); err != nil {
		t.Fatalf("Write after remounting writable: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
