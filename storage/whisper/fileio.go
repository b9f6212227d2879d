package whisper

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// FileIO is the file operations the write path goes through: opening a
// file for writing, writing into it, and making the file system durable.
// The default is the operating system; tests put a fault-injecting layer
// here to show what a power loss keeps.
type FileIO interface {
	// Open is open(2) on a NUL-terminated path; it returns the descriptor.
	Open(cpath []byte, flags int, mode uint32) (int, error)
	// Pwrite writes all of b at offset off of fd.
	Pwrite(fd int, b []byte, off int64) error
	// Syncfs makes every write made so far to the file system holding fd
	// durable (syncfs(2)).
	Syncfs(fd int) error
}

// osFiles is FileIO on the operating system.
type osFiles struct{}

func (osFiles) Open(cpath []byte, flags int, mode uint32) (int, error) {
	return openFile(cpath, flags, mode)
}

func (osFiles) Pwrite(fd int, b []byte, off int64) error { return pwriteFull(fd, b, off) }

func (osFiles) Syncfs(fd int) error {
	for {
		err := unix.Syncfs(fd)
		if err != unix.EINTR {
			return err
		}
	}
}

// Sync makes every write that returned before it was called durable: one
// syncfs(2) of the tree's file system, shared by concurrent callers (a
// caller whose writes an already running sync started after waits for that
// one instead of starting another). The write buffer calls it before it
// deletes the write-ahead log segments covering what it wrote.
func (s *Store) Sync() error {
	if s.closed.Load() {
		return ErrClosed
	}
	want := s.syncReq.Add(1)
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.syncedUpTo >= want {
		return s.syncErr
	}
	cur := s.syncReq.Load()
	err := s.files.Syncfs(s.dirFD)
	if err != nil {
		err = classify(&fs.PathError{Op: "syncfs", Path: s.dir, Err: err})
	}
	s.syncedUpTo, s.syncErr = cur, err
	s.syncs.Add(1)
	return err
}
