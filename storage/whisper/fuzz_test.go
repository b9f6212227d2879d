package whisper

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// FuzzFile feeds arbitrary bytes as an existing whisper file: Fetch and Write
// must either work or fail with an error, never panic, never change the
// file's size (except an empty file, which is recreated), and never touch
// other files.
func FuzzFile(f *testing.F) {
	good := encodeHeader(nil, []schema.Retention{{SecondsPerPoint: 10, Points: 6}, {SecondsPerPoint: 60, Points: 3}}, schema.AvgZero, 0.5)
	good = append(good, make([]byte, 9*pointSize)...)
	f.Add(good, int64(950), int64(1000), int64(1000), int64(990))
	f.Add(good[:40], int64(0), int64(10), int64(1000), int64(990))
	odd := append([]byte(nil), good...)
	odd[20] = 0xff // first archive's offset out of the file
	f.Add(odd, int64(-5), int64(1000), int64(1000), int64(-1))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 60, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, int64(0), int64(100), int64(100), int64(60))
	f.Fuzz(func(t *testing.T, data []byte, from, until, now, ts int64) {
		if len(data) > 1<<16 {
			return
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "m.wsp")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		n := now
		s, err := Open(Options{Dir: dir, Index: index.New(), Now: func() int64 { return n }})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		<-s.ScanDone()
		if sr, err := s.Fetch("m", from, until, now); err == nil && len(sr.Values) > len(data)/pointSize+1 {
			t.Fatalf("fetched %d values from a %d-byte file", len(sr.Values), len(data))
		} else if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, errInvalidInterval) {
			t.Fatalf("Fetch: unexpected error %v", err)
		}
		b := &storage.Batch{Series: []storage.SeriesPoints{{Name: "m", Points: []storage.Point{{Timestamp: ts, Value: 1}, {Timestamp: ts - 7, Value: 2}, {Timestamp: ts + 60, Value: 3}}}}}
		_ = s.Write(b)
		fi, err := os.Stat(p)
		if len(data) == 0 {
			return // an empty file is recreated (TestEmptyFileRecreated)
		}
		if err != nil || fi.Size() != int64(len(data)) {
			t.Fatalf("file changed size: %v %v (was %d)", fi, err, len(data))
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("write created files: %v", ents)
		}
	})
}
