package whisper

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
)

// TestDeleteRenameLastPoint deletes files (with the directories they leave
// empty, and a tagged series' file), renames one (refusing to overwrite)
// and reads newest points.
func TestDeleteRenameLastPoint(t *testing.T) {
	const now = 1_700_000_000
	dir := t.TempDir()
	idx := index.New()
	s, err := Open(Options{Dir: dir, Index: idx, Now: func() int64 { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	<-s.ScanDone()
	b := storage.Batch{Series: []storage.SeriesPoints{
		{Name: "a.b.c", Points: []storage.Point{{Timestamp: now - 120, Value: 1}, {Timestamp: now - 60, Value: 2}}},
		{Name: "a.d", Points: []storage.Point{{Timestamp: now - 60, Value: 3}}},
		{Name: "t;k=v", Points: []storage.Point{{Timestamp: now - 60, Value: 4}}},
	}}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	ts, ok, err := s.LastPoint("a.b.c", now)
	if err != nil || !ok || ts != now-60 {
		t.Errorf("LastPoint(a.b.c) = %d %v %v", ts, ok, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, "a/b/c.wsp"), &st); err != nil {
		t.Fatal(err)
	}
	deleted, freed, err := s.DeleteSeries([]string{"a.b.c", "t;k=v", "no.such"})
	if err != nil || len(deleted) != 2 || freed < st.Blocks*512 {
		t.Fatalf("DeleteSeries = %v %d %v", deleted, freed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a/b")); !os.IsNotExist(err) {
		t.Errorf("empty directory a/b left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a/d.wsp")); err != nil {
		t.Errorf("a/d.wsp: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "_tagged/*")); len(m) != 0 {
		t.Errorf("tagged directories left: %v", m)
	}
	if idx.Has("a.b.c") || idx.Has("t;k=v") || !idx.Has("a.d") {
		t.Error("index not updated by the delete")
	}
	if err := s.RenameSeries("a.d", "a.d"); !errors.Is(err, storage.ErrExists) {
		t.Errorf("rename onto itself: %v", err)
	}
	if err := s.RenameSeries("a.b.c", "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("rename of a deleted series: %v", err)
	}
	if err := s.RenameSeries("a.d", "n.e.w"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("empty directory a left after the rename: %v", err)
	}
	ser, err := s.Fetch("n.e.w", now-120, now, now)
	if err != nil || ser.Values[(now-60-ser.Start)/ser.Step] != 3 {
		t.Errorf("renamed series: %v %v", ser, err)
	}
	if idx.Has("a.d") || !idx.Has("n.e.w") {
		t.Error("index not updated by the rename")
	}
	rs, err := s.SeriesRetentions("n.e.w")
	if err != nil || len(rs) == 0 {
		t.Errorf("SeriesRetentions = %v %v", rs, err)
	}
}
