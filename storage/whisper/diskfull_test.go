package whisper

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/storetest"
)

// TestDiskFull on a real 8 MiB tmpfs: below the free-space reserve the
// fully allocated file of an existing series is still updated (that takes
// no space) while a new series fails alone with ErrNoSpace, and is created
// once space is freed; on a volume remounted read-only writes fail with
// ErrReadOnly and reads go on.
func TestDiskFull(t *testing.T) {
	vol := storetest.SmallVolume(t, 8<<20)
	now := int64(1_000_000)
	s, err := Open(Options{Dir: filepath.Join(vol, "whisper"), Index: index.New(), Rules: mustRules(t, "[all]\npattern = .*\nretentions = 10s:1h\n", "[all]\npattern = .*\naggregationMethod = average\n"),
		Now: func() int64 { return now }, MinFreeBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	<-s.ScanDone()
	if err := s.Write(batch("old.a", pts(float64(now-60), 1)...)); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(vol, "filler")
	storetest.Fill(t, filler, 1<<20)
	b := &storage.Batch{Series: []storage.SeriesPoints{
		{Name: "old.a", Points: pts(float64(now-50), 2)},
		{Name: "new.b", Points: pts(float64(now-50), 5)},
	}}
	err = s.Write(b)
	var we *storage.WriteError
	if !errors.As(err, &we) || len(we.Failed) != 1 || we.Failed[0].Name != "new.b" || !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("Write below the reserve = %v; want a WriteError for new.b alone, wrapping ErrNoSpace", err)
	}
	if got := fetchValues(t, s, "old.a", now-70, now); len(got) != 2 || got[1] != 2 {
		t.Fatalf("old.a = %v; want [1 2] (updated in place below the reserve)", got)
	}
	if _, err := s.Fetch("new.b", now-70, now, now); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Fetch(new.b) = %v; want ErrNotFound (no file made)", err)
	}
	os.Remove(filler)
	if err := s.Write(b); err != nil {
		t.Fatalf("Write after space returned: %v", err)
	}
	if got := fetchValues(t, s, "new.b", now-70, now); len(got) != 1 || got[0] != 5 {
		t.Fatalf("new.b = %v; want [5]", got)
	}
	storetest.Remount(t, vol, true)
	defer storetest.Remount(t, vol, false)
	err = s.Write(batch("old.a", pts(float64(now-40), 3)...))
	if !errors.As(err, &we) || len(we.Failed) != 1 || !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("Write on a read-only volume = %v; want a WriteError wrapping ErrReadOnly", err)
	}
	if got := fetchValues(t, s, "old.a", now-70, now); len(got) != 2 {
		t.Fatalf("old.a on a read-only volume = %v; want 2 values", got)
	}
}

func fetchValues(t *testing.T, s *Store, name string, from, until int64) []float64 {
	t.Helper()
	ser, err := s.Fetch(name, from, until, until)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", name, err)
	}
	var out []float64
	for _, v := range ser.Values {
		if v == v {
			out = append(out, v)
		}
	}
	return out
}
