package pebble

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/plumbago/plumbago/storage"
)

// stall holds pebble's writes while the volume refuses them. Pebble treats
// a failed write of its log or MANIFEST as fatal (it panics), so a volume
// that turns read-only or full under a running store would take the
// process down. stallFS hands every write-side file operation to stall
// when it fails with EROFS, ENOSPC or EDQUOT: the operation waits, polling
// the volume, and is retried once the volume looks writable, so pebble only
// sees a slow write. Meanwhile Store.Write refuses new batches (their points
// wait in the write buffer), Health names the failure, and reads go on.
type stall struct {
	check    func() error  // the volume's state (diskspace.Guard.Check)
	interval time.Duration // how often a stalled operation polls check
	log      *slog.Logger

	reason  atomic.Pointer[error] // the failure, while stalled
	waiting atomic.Int32          // operations waiting now
	total   atomic.Uint64         // stalls begun
}

// transient reports whether err is a refusal the volume may lift by itself
// (space freed, volume remounted writable).
func transient(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// err is the stall's reason as a storage error (ErrReadOnly or
// ErrNoSpace), or nil when nothing is stalled.
func (s *stall) err() error {
	p := s.reason.Load()
	if p == nil {
		return nil
	}
	if errors.Is(*p, syscall.EROFS) {
		return fmt.Errorf("%w: pebble's writes are held: %v", storage.ErrReadOnly, *p)
	}
	return fmt.Errorf("%w: pebble's writes are held: %v", storage.ErrNoSpace, *p)
}

// retry runs op until it succeeds or fails with a non-transient error.
func (s *stall) retry(op func() error) error {
	err := op()
	if err == nil || !transient(err) {
		return err
	}
	s.waiting.Add(1)
	if s.reason.Load() == nil {
		s.total.Add(1)
		s.log.Error("pebble store: the volume refused a write; holding pebble's writes until it takes them again (writes wait, reads go on)", "err", err)
	}
	s.reason.Store(&err)
	for {
		time.Sleep(s.interval)
		if s.check() != nil {
			continue
		}
		if err = op(); err == nil || !transient(err) {
			break
		}
		s.reason.Store(&err)
	}
	if s.waiting.Add(-1) == 0 && s.reason.Swap(nil) != nil {
		s.log.Info("pebble store: the volume takes writes again; resumed")
	}
	return err
}

// stallFS is a vfs.FS whose write-side operations go through stall.retry.
type stallFS struct {
	vfs.FS
	st *stall
}

func (f stallFS) wrap(file vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return stallFile{file, f.st}, nil
}

func (f stallFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	var file vfs.File
	err := f.st.retry(func() (err error) { file, err = f.FS.Create(name, c); return err })
	return f.wrap(file, err)
}

func (f stallFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	var file vfs.File
	err := f.st.retry(func() (err error) { file, err = f.FS.OpenReadWrite(name, c, opts...); return err })
	return f.wrap(file, err)
}

func (f stallFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	var file vfs.File
	err := f.st.retry(func() (err error) { file, err = f.FS.ReuseForWrite(oldname, newname, c); return err })
	return f.wrap(file, err)
}

// OpenDir wraps the directory so that its Sync (after a create or rename)
// is held too.
func (f stallFS) OpenDir(name string) (vfs.File, error) {
	return f.wrap(f.FS.OpenDir(name))
}

func (f stallFS) Link(oldname, newname string) error {
	return f.st.retry(func() error { return f.FS.Link(oldname, newname) })
}

func (f stallFS) Rename(oldname, newname string) error {
	return f.st.retry(func() error { return f.FS.Rename(oldname, newname) })
}

func (f stallFS) MkdirAll(dir string, perm os.FileMode) error {
	return f.st.retry(func() error { return f.FS.MkdirAll(dir, perm) })
}

func (f stallFS) Unwrap() vfs.FS { return f.FS }

// stallFile holds a file's writes and syncs like stallFS.
type stallFile struct {
	vfs.File
	st *stall
}

func (f stallFile) Write(p []byte) (int, error) {
	done := 0
	err := f.st.retry(func() error {
		n, err := f.File.Write(p[done:])
		done += n
		return err
	})
	return done, err
}

func (f stallFile) WriteAt(p []byte, off int64) (int, error) {
	done := 0
	err := f.st.retry(func() error {
		n, err := f.File.WriteAt(p[done:], off+int64(done))
		done += n
		return err
	})
	return done, err
}

func (f stallFile) Preallocate(off, length int64) error {
	return f.st.retry(func() error { return f.File.Preallocate(off, length) })
}

func (f stallFile) Sync() error { return f.st.retry(f.File.Sync) }

func (f stallFile) SyncData() error { return f.st.retry(f.File.SyncData) }

func (f stallFile) SyncTo(length int64) (full bool, err error) {
	err = f.st.retry(func() (err error) { full, err = f.File.SyncTo(length); return err })
	return full, err
}
