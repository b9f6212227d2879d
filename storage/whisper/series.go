package whisper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// Series management for operators (storage/seriesops drives these): delete,
// rename, header and newest point. Each takes the file's stripe lock for
// writing, so no Write or Fetch of the same name runs meanwhile.

// existingPath returns the path of name's file on disk: the primary path,
// or for a tagged series carbon's hash path when only that exists.
func (s *Store) existingPath(name string) (string, error) {
	if err := validName(name); err != nil {
		return "", fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	}
	p := string(s.filePath(nil, name))
	if _, err := os.Lstat(p); err == nil {
		return p, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if isTagged(name) {
		if alt, ok := s.taggedAltPath(nil, name); ok {
			if _, err := os.Lstat(string(alt)); err == nil {
				return string(alt), nil
			}
		}
	}
	return "", fmt.Errorf("%q: %w", name, storage.ErrNotFound)
}

// lockPair write-locks the stripes of a and b in a fixed order.
func (s *Store) lockPair(a, b string) func() {
	la, lb := s.lock(a), s.lock(b)
	if la == lb {
		la.Lock()
		return la.Unlock
	}
	first, second := la, lb
	if stripeIndex(s, lb) < stripeIndex(s, la) {
		first, second = lb, la
	}
	first.Lock()
	second.Lock()
	return func() { second.Unlock(); first.Unlock() }
}

func stripeIndex(s *Store, l *sync.RWMutex) int {
	for i := range s.locks {
		if &s.locks[i] == l {
			return i
		}
	}
	return -1
}

// DeleteSeries removes the files of names (a name without a file is
// skipped), the directories they leave empty, and the names from the index.
// It returns the names removed and the bytes their files took on disk.
func (s *Store) DeleteSeries(names []string) (deleted []string, freed int64, err error) {
	if s.closed.Load() {
		return nil, 0, ErrClosed
	}
	var errs []error
	for _, name := range names {
		if isTagged(name) {
			if err := s.UnregisterTagged(name); err != nil {
				errs = append(errs, err)
			}
		}
		n, ok, err := s.deleteOne(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			deleted = append(deleted, name)
			freed += n
		}
	}
	return deleted, freed, errors.Join(errs...)
}

func (s *Store) deleteOne(name string) (int64, bool, error) {
	if validName(name) != nil {
		return 0, false, nil
	}
	mu := s.lock(name)
	mu.Lock()
	defer mu.Unlock()
	s.index.Delete(name)
	var freed int64
	found := false
	paths := []string{string(s.filePath(nil, name))}
	if isTagged(name) {
		if alt, ok := s.taggedAltPath(nil, name); ok {
			paths = append(paths, string(alt))
		}
	}
	for _, p := range paths {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			continue
		}
		if err := os.Remove(p); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return freed, found, fmt.Errorf("deleting %q: %w", name, err)
		}
		found = true
		freed += st.Blocks * 512
		s.pruneDirs(filepath.Dir(p))
	}
	return freed, found, nil
}

// pruneDirs removes dir and its parents up to (not including) the tree's
// root while they are empty.
func (s *Store) pruneDirs(dir string) {
	for dir != s.dir && strings.HasPrefix(dir, s.dir+"/") {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// RenameSeries moves from's file to to's path, creating its directories
// and removing those from leaves empty. It fails with storage.ErrNotFound
// when from has no file and storage.ErrExists when to has one.
func (s *Store) RenameSeries(from, to string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := validName(to); err != nil {
		return fmt.Errorf("renaming to %q: %w", to, err)
	}
	unlock := s.lockPair(from, to)
	defer unlock()
	src, err := s.existingPath(from)
	if err != nil {
		return fmt.Errorf("renaming %q: %w", from, err)
	}
	if _, err := s.existingPath(to); err == nil {
		return fmt.Errorf("renaming %q to %q: %w", from, to, storage.ErrExists)
	}
	dst := string(s.filePath(nil, to))
	if err := os.MkdirAll(filepath.Dir(dst), s.dirMode); err != nil {
		return fmt.Errorf("renaming %q: %w", from, err)
	}
	// RENAME_NOREPLACE: a file created at dst meanwhile is never replaced.
	if err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("renaming %q to %q: %w", from, to, storage.ErrExists)
		}
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("renaming %q to %q: %w", from, to, err)
		}
		// A file system without RENAME_NOREPLACE: link then unlink.
		if err := os.Link(src, dst); err != nil {
			return fmt.Errorf("renaming %q to %q: %w", from, to, err)
		}
		if err := os.Remove(src); err != nil {
			return fmt.Errorf("renaming %q to %q: %w", from, to, err)
		}
	}
	s.pruneDirs(filepath.Dir(src))
	s.index.Delete(from)
	s.index.Add(to)
	return nil
}

// SeriesRetentions returns name's archives (finest first) as its header
// stores them.
func (s *Store) SeriesRetentions(name string) ([]schema.Retention, error) {
	f, err := s.openSeries(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Info().Archives, nil
}

// LastPoint returns the timestamp of name's newest point at or before now
// (searching the finest archive first, each within its retention), and
// false when the file holds none.
func (s *Store) LastPoint(name string, now int64) (int64, bool, error) {
	f, err := s.openSeries(name)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	var pts []storage.Point
	for i, a := range f.Info().Archives {
		pts, err = f.Points(i, pts[:0])
		if err != nil {
			return 0, false, err
		}
		for k := len(pts) - 1; k >= 0; k-- {
			t := pts[k].Timestamp
			if t <= now && t > now-a.MaxRetention() {
				return t, true, nil
			}
		}
	}
	return 0, false, nil
}

func (s *Store) openSeries(name string) (*File, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	mu := s.lock(name)
	mu.RLock()
	defer mu.RUnlock()
	p, err := s.existingPath(name)
	if err != nil {
		return nil, err
	}
	return OpenFile(p)
}
