package whisper

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
)

// waitIndex polls until idx.Has(name) == want (10 s).
func waitIndex(t *testing.T, idx *index.Index, name string, want bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if idx.Has(name) == want {
			return
		}
	}
	t.Fatalf("index has %q = %v, want %v", name, !want, want)
}

// TestWatchFollowsOtherTools copies, removes and moves files and
// directories by hand under a watched tree and checks the index follows;
// a name the Keep hook holds stays; Rescan repairs an index that missed
// changes (a store without Watch).
func TestWatchFollowsOtherTools(t *testing.T) {
	const now = 1_700_000_000
	dir := t.TempDir()
	idx := index.New()
	s, err := Open(Options{Dir: dir, Index: idx, Now: func() int64 { return now }, Watch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	<-s.ScanDone()
	b := storage.Batch{Series: []storage.SeriesPoints{{Name: "seed", Points: []storage.Point{{Timestamp: now - 60, Value: 1}}}}}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(dir, "seed.wsp"))
	if err != nil {
		t.Fatal(err)
	}
	// cp a file into a new directory tree.
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "c.wsp"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, idx, "a.b.c", true)
	// mv a file.
	if err := os.Rename(filepath.Join(dir, "a", "b", "c.wsp"), filepath.Join(dir, "a", "d.wsp")); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, idx, "a.d", true)
	waitIndex(t, idx, "a.b.c", false)
	// A directory prepared elsewhere and moved in, then moved out.
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(outside, "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "x", "y", "z.wsp"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(outside, "x"), filepath.Join(dir, "x")); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, idx, "x.y.z", true)
	// A file created in the moved-in directory is seen too (it is watched).
	if err := os.WriteFile(filepath.Join(dir, "x", "y", "w.wsp"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, idx, "x.y.w", true)
	if err := os.Rename(filepath.Join(dir, "x"), filepath.Join(outside, "x2")); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, idx, "x.y.z", false)
	waitIndex(t, idx, "x.y.w", false)
	// Files created in the moved-out directory are not ours any more.
	if err := os.WriteFile(filepath.Join(outside, "x2", "y", "v.wsp"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	// rm -r, except a name the write buffer still holds.
	s.SetKeep(func(name string) bool { return name == "a.kept" })
	if err := os.WriteFile(filepath.Join(dir, "a", "kept.wsp"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, idx, "a.kept", true)
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	waitIndex(t, idx, "a.d", false)
	if !idx.Has("a.kept") || !idx.Has("seed") || idx.Has("x2.y.v") || idx.Has("x.y.v") {
		t.Errorf("index: a.kept %v seed %v", idx.Has("a.kept"), idx.Has("seed"))
	}
	if st := s.WatchStats(); st.Added < 5 || st.Removed < 4 || st.WatchErrors != 0 {
		t.Errorf("watch stats %+v", st)
	}

	// Without Watch, Rescan repairs the index.
	idx2 := index.New()
	dir2 := t.TempDir()
	s2, err := Open(Options{Dir: dir2, Index: idx2, Now: func() int64 { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	<-s2.ScanDone()
	if err := os.MkdirAll(filepath.Join(dir2, "n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, "n", "new.wsp"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	idx2.Add("ghost.metric")
	s2.Rescan()
	if !idx2.Has("n.new") || idx2.Has("ghost.metric") {
		t.Errorf("after Rescan: n.new %v ghost.metric %v", idx2.Has("n.new"), idx2.Has("ghost.metric"))
	}
}
