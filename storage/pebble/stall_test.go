package pebble

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/plumbago/plumbago/storage"
)

// refuseFS fails every write-side operation with EROFS while on is set,
// as a volume that turned read-only under the store does (pebble's files
// stay open; their writes fail).
type refuseFS struct {
	vfs.FS
	on *atomic.Bool
}

type refuseFile struct {
	vfs.File
	name string
	on   *atomic.Bool
}

func erofs(on *atomic.Bool, op, name string) error {
	if on.Load() {
		return &os.PathError{Op: op, Path: name, Err: syscall.EROFS}
	}
	return nil
}

func (f refuseFile) Write(p []byte) (int, error) {
	if err := erofs(f.on, "write", f.name); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f refuseFile) WriteAt(p []byte, off int64) (int, error) {
	if err := erofs(f.on, "write", f.name); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f refuseFile) Sync() error {
	if err := erofs(f.on, "sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f refuseFile) SyncData() error {
	if err := erofs(f.on, "sync", f.name); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f refuseFile) SyncTo(n int64) (bool, error) {
	if err := erofs(f.on, "sync", f.name); err != nil {
		return false, err
	}
	return f.File.SyncTo(n)
}

func (fs refuseFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return refuseFile{File: f, name: name, on: fs.on}, nil
}

func (fs refuseFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if err := erofs(fs.on, "open", name); err != nil {
		return nil, err
	}
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f, err)
}

func (fs refuseFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if err := erofs(fs.on, "rename", name); err != nil {
		return nil, err
	}
	f, err := fs.FS.ReuseForWrite(old, name, c)
	return fs.wrap(name, f, err)
}

func (fs refuseFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, o ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, o...)
	return fs.wrap(name, f, err)
}

func (fs refuseFS) OpenDir(name string) (vfs.File, error) {
	f, err := fs.FS.OpenDir(name)
	return fs.wrap(name, f, err)
}

func (fs refuseFS) Rename(old, name string) error {
	if err := erofs(fs.on, "rename", name); err != nil {
		return err
	}
	return fs.FS.Rename(old, name)
}

func waitStalled(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !errors.Is(s.Health(), storage.ErrReadOnly) {
		if time.Now().After(deadline) {
			t.Fatalf("Health 60 s after the volume refused writes = %v; want ErrReadOnly", s.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestVolumeTurnsReadOnlyUnderTheStore: the volume refuses pebble's writes
// (its log, flushes, MANIFEST) with EROFS while the store runs. Pebble on
// its own panics ("fatal commit error"); here its writes are held, Health
// says read-only, Write refuses, reads go on, and once the volume takes
// writes again everything resumes by itself with nothing lost, across a
// reopen too. A Close while held returns at once with an error instead of
// hanging, and the store reopens with what was synced before.
func TestVolumeTurnsReadOnlyUnderTheStore(t *testing.T) {
	now := int64(1_000_000)
	var on atomic.Bool
	opts := fullOpts(t.TempDir(), &now)
	opts.MinFreeBytes = 0
	opts.SyncInterval = 10 * time.Millisecond
	opts.fs = refuseFS{FS: vfs.Default, on: &on}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(point("a.b", now-60, 1)); err != nil {
		t.Fatal(err)
	}
	on.Store(true)
	// This batch reaches pebble's log buffer; writing it out fails.
	if err := s.Write(point("a.b", now-50, 2)); err != nil {
		t.Fatalf("the Write before the failure was noticed: %v", err)
	}
	waitStalled(t, s)
	if err := s.Write(point("a.b", now-40, 3)); !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("Write while pebble's writes are held = %v; want ErrReadOnly", err)
	}
	if got := values(t, s, "a.b", now-70, now); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("values while held = %v; want [1 2]", got)
	}
	on.Store(false)
	waitHealthy(t, s)
	if err := s.Write(point("a.b", now-40, 3)); err != nil {
		t.Fatalf("Write after the volume came back: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close after resuming: %v", err)
	}
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, s, "a.b", now-70, now); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("values after reopening = %v; want [1 2 3]", got)
	}

	// Closed while held: Close returns (with an error naming the volume's
	// refusal) instead of waiting for pebble's held writes.
	on.Store(true)
	if err := s.Write(point("a.b", now-30, 4)); err != nil {
		t.Fatalf("the Write before the failure was noticed: %v", err)
	}
	waitStalled(t, s)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if !errors.Is(err, storage.ErrReadOnly) {
			t.Fatalf("Close while held = %v; want an error wrapping ErrReadOnly", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Close while pebble's writes are held did not return in 60 s")
	}
	// The abandoned close goes on in the background: once the volume takes
	// writes again it finishes (in a server the process has exited by
	// then, and the next start replays the log) and releases the lock.
	on.Store(false)
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err = Open(opts)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Open after the abandoned close: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer s.Close()
	if got := values(t, s, "a.b", now-70, now); len(got) != 4 || got[0] != 1 || got[1] != 2 || got[2] != 3 || got[3] != 4 {
		t.Fatalf("values after the abandoned close = %v; want [1 2 3 4]", got)
	}
}
