package pebble

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/storetest"
)

// syncCountFS counts fsyncs of WAL files (*.log).
type syncCountFS struct {
	vfs.FS
	syncs atomic.Int64
}

type syncCountFile struct {
	vfs.File
	fs *syncCountFS
}

func (f syncCountFile) Sync() error     { f.fs.syncs.Add(1); return f.File.Sync() }
func (f syncCountFile) SyncData() error { f.fs.syncs.Add(1); return f.File.SyncData() }
func (f syncCountFile) SyncTo(n int64) (bool, error) {
	f.fs.syncs.Add(1)
	return f.File.SyncTo(n)
}

func (fs *syncCountFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return syncCountFile{File: f, fs: fs}, nil
}

func (fs *syncCountFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f, err)
}

func (fs *syncCountFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(old, name, c)
	return fs.wrap(name, f, err)
}

func (fs *syncCountFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, o ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, o...)
	return fs.wrap(name, f, err)
}

// TestSyncInterval checks the durability mechanism: Writes do not fsync
// the WAL, the sync loop does, every SyncInterval; with SyncInterval <= 0
// every Write does.
func TestSyncInterval(t *testing.T) {
	write := func(s *Store, n int) {
		for i := 0; i < n; i++ {
			if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "sy.x", Points: []storage.Point{{Timestamp: testNow - int64(i), Value: 1}}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	open := func(interval time.Duration) (*Store, *syncCountFS) {
		fs := &syncCountFS{FS: vfs.Default}
		opts := DefaultOptions()
		opts.Dir = t.TempDir()
		opts.Rules = storetest.SuiteRules(t)
		opts.Now = func() int64 { return testNow }
		opts.SyncInterval = interval
		opts.fs = fs
		s, err := Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		return s, fs
	}

	s, fs := open(time.Hour)
	base := fs.syncs.Load()
	write(s, 50)
	if n := fs.syncs.Load() - base; n != 0 {
		t.Errorf("50 Writes with a 1 h sync interval fsynced the WAL %d times, want 0", n)
	}
	s.Close()

	s, fs = open(40 * time.Millisecond)
	base = fs.syncs.Load()
	// Writes commit without fsync; the loop fsyncs while they go on.
	for start := time.Now(); fs.syncs.Load()-base < 3; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("30 s of writes with a 40 ms sync interval: %d WAL fsyncs, want at least 3", fs.syncs.Load()-base)
		}
		write(s, 1)
	}
	// Idle, the loop has nothing to sync: once the last writes are synced,
	// no more fsyncs.
	deadline := time.Now().Add(time.Minute)
	for prev := int64(-1); ; {
		time.Sleep(200 * time.Millisecond) // five intervals
		n := fs.syncs.Load()
		if n == prev {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an idle store kept fsyncing its WAL for a minute (%d fsyncs)", n-base)
		}
		prev = n
	}
	s.Close()

	s, fs = open(0)
	base = fs.syncs.Load()
	write(s, 10)
	if n := fs.syncs.Load() - base; n < 10 {
		t.Errorf("10 Writes with SyncInterval 0: %d WAL fsyncs, want at least 10", n)
	}
	s.Close()
}
