package whisper

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Following the tree: with Options.Watch the store notices files that other
// tools (rm, mv, cp, rsync, whisper-create) create, remove or move under
// Dir, through inotify on every directory, and updates the index within
// the poll interval (a fraction of a second). A periodic full rescan
// (Options.RescanInterval) catches what inotify cannot report: an event
// queue overflow, a directory over the inotify watch limit, a file system
// without inotify. A name whose file is gone stays indexed while
// Options.Keep says so (the write buffer holds points that will create the
// file again).

// watchMask: what a directory watch reports. IN_CLOSE_WRITE is left out on
// purpose: the store's own writes close files constantly.
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW

// watchPoll is how long the watcher waits for events before checking for
// Close.
const watchPoll = 200 * time.Millisecond

// WatchStats counts what the tree watcher did.
type WatchStats struct {
	Added, Removed uint64 // names added to or removed from the index by events or rescans
	Rescans        uint64
	Overflows      uint64 // inotify queue overflows (each triggers a rescan)
	Watches        int64  // directories watched now
	WatchErrors    uint64 // directories that could not be watched (e.g. over fs.inotify.max_user_watches)
}

type watcher struct {
	fd     int // inotify instance, -1 when watching is off or failed
	mu     sync.Mutex
	byWD   map[int]string
	byPath map[string]int
	rescan chan struct{}

	added, removed, rescans, overflows, watchErrors atomic.Uint64
	warned                                          atomic.Bool
}

// startWatch sets up inotify (before the startup scan, which adds a watch
// to every directory it reads, so nothing created meanwhile is missed).
func (s *Store) startWatch(watch bool) {
	w := &watcher{fd: -1, byWD: map[int]string{}, byPath: map[string]int{}, rescan: make(chan struct{}, 1)}
	s.watch = w
	if !watch {
		return
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		s.warn("whisper tree: inotify unavailable; only the periodic rescan follows changes by other tools", err)
		return
	}
	w.fd = fd
}

func (s *Store) warn(msg string, err error) {
	if s.watch.warned.Swap(true) {
		return
	}
	s.log.Warn(msg, "dir", s.dir, "err", err)
}

// addWatch watches directory path (no-op without inotify).
func (s *Store) addWatch(path string) {
	w := s.watch
	if w == nil || w.fd < 0 {
		return
	}
	wd, err := unix.InotifyAddWatch(w.fd, path, watchMask)
	if err != nil {
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			w.watchErrors.Add(1)
			s.warn("whisper tree: cannot watch a directory (raise fs.inotify.max_user_watches); the periodic rescan covers it", err)
		}
		return
	}
	w.mu.Lock()
	if old, ok := w.byWD[wd]; ok && old != path {
		delete(w.byPath, old)
	}
	w.byWD[wd] = path
	w.byPath[path] = wd
	w.mu.Unlock()
}

// unwatchUnder drops the watches of dir and everything below it (a
// directory moved out of the tree keeps its watch otherwise).
func (s *Store) unwatchUnder(dir string) {
	w := s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	for p, wd := range w.byPath {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			unix.InotifyRmWatch(w.fd, uint32(wd))
			delete(w.byPath, p)
			delete(w.byWD, wd)
		}
	}
}

// WatchStats returns the watcher's counters.
func (s *Store) WatchStats() WatchStats {
	w := s.watch
	if w == nil {
		return WatchStats{}
	}
	w.mu.Lock()
	n := int64(len(w.byWD))
	w.mu.Unlock()
	return WatchStats{Added: w.added.Load(), Removed: w.removed.Load(), Rescans: w.rescans.Load(),
		Overflows: w.overflows.Load(), Watches: n, WatchErrors: w.watchErrors.Load()}
}

// nameOf maps a path under the tree to its metric name: a/b/c.wsp is a.b.c,
// a readable-name tagged file under _tagged/xxx/yyy/ its tagged name.
func (s *Store) nameOf(path string) (string, bool) {
	rel, ok := strings.CutPrefix(path, s.dir+"/")
	if !ok || !strings.HasSuffix(rel, ".wsp") {
		return "", false
	}
	rel = rel[:len(rel)-len(".wsp")]
	if t, ok := strings.CutPrefix(rel, taggedDir+"/"); ok {
		parts := strings.Split(t, "/")
		if len(parts) != 3 || isHashLeaf(parts[2]) {
			return "", false
		}
		name := strings.ReplaceAll(parts[2], dotEscape, ".")
		return name, isTagged(name) && validName(name) == nil
	}
	if strings.ContainsAny(rel, ".;") {
		return "", false
	}
	name := strings.ReplaceAll(rel, "/", ".")
	return name, validName(name) == nil
}

// prefixOf maps a directory under the tree to the metric prefix of the
// names below it ("a.b"), false for the root, _tagged and what is below it.
func (s *Store) prefixOf(dir string) (string, bool) {
	rel, ok := strings.CutPrefix(dir, s.dir+"/")
	if !ok || rel == taggedDir || strings.HasPrefix(rel, taggedDir+"/") || strings.ContainsAny(rel, ".;") {
		return "", false
	}
	return strings.ReplaceAll(rel, "/", "."), true
}

// keep reports whether name must stay indexed although its file is gone.
func (s *Store) keep(name string) bool {
	if k := s.keepFn.Load(); k != nil && (*k)(name) {
		return true
	}
	p, err := s.existingPath(name)
	return err == nil && p != ""
}

// SetKeep installs the Keep hook of Options after Open (the write buffer
// is created after the store).
func (s *Store) SetKeep(fn func(name string) bool) { s.keepFn.Store(&fn) }

func (s *Store) forget(name string) {
	if s.keep(name) {
		return
	}
	if s.index.Delete(name) {
		s.watch.removed.Add(1)
	}
}

func (s *Store) learn(name string) {
	if s.index.Add(name) {
		s.watch.added.Add(1)
	}
}

// addTree watches dir and every directory below it and indexes its files
// (a directory created or moved into the tree). Then names indexed below
// dir without a file are forgotten: a file moved or removed in a new
// directory before its watch was added sent no event.
func (s *Store) addTree(dir string) {
	defer s.reconcileTree(dir)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			s.addWatch(p)
			return nil
		}
		if name, ok := s.nameOf(p); ok {
			s.learn(name)
		}
		return nil
	})
}

// reconcileTree forgets the names below dir whose file is gone (forget
// keeps those the Keep hook holds or whose file exists).
func (s *Store) reconcileTree(dir string) {
	prefix, ok := s.prefixOf(dir)
	if !ok {
		return
	}
	if x, ok := s.index.(interface {
		Expand(string) ([]string, error)
	}); ok {
		names, _ := x.Expand(prefix + ".**")
		for _, n := range names {
			s.forget(n)
		}
	}
}

// forgetTree removes every name below dir from the index (a directory
// removed or moved out of the tree).
func (s *Store) forgetTree(dir string) {
	s.reconcileTree(dir)
	s.unwatchUnder(dir)
}

// watchLoop reads inotify events until Close.
func (s *Store) watchLoop() {
	defer s.bg.Done()
	w := s.watch
	defer unix.Close(w.fd)
	buf := make([]byte, 64<<10)
	pfd := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		n, err := unix.Poll(pfd, int(watchPoll/time.Millisecond))
		if n <= 0 || err != nil {
			continue
		}
		nr, err := unix.Read(w.fd, buf)
		if nr <= 0 || err != nil {
			continue
		}
		for off := 0; off+unix.SizeofInotifyEvent <= nr; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameEnd := off + unix.SizeofInotifyEvent + int(ev.Len)
			if nameEnd > nr {
				break
			}
			leaf := string(buf[off+unix.SizeofInotifyEvent : nameEnd])
			if i := strings.IndexByte(leaf, 0); i >= 0 {
				leaf = leaf[:i]
			}
			s.handleEvent(int(ev.Wd), ev.Mask, leaf)
			off = nameEnd
		}
	}
}

func (s *Store) handleEvent(wd int, mask uint32, leaf string) {
	w := s.watch
	if mask&unix.IN_Q_OVERFLOW != 0 {
		w.overflows.Add(1)
		select {
		case w.rescan <- struct{}{}:
		default:
		}
		return
	}
	w.mu.Lock()
	dir, ok := w.byWD[wd]
	if mask&unix.IN_IGNORED != 0 && ok {
		delete(w.byWD, wd)
		if w.byPath[dir] == wd {
			delete(w.byPath, dir)
		}
	}
	w.mu.Unlock()
	if !ok || leaf == "" {
		return
	}
	path := dir + "/" + leaf
	isDir := mask&unix.IN_ISDIR != 0
	switch {
	case mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0:
		if isDir {
			s.addTree(path)
		} else if name, ok := s.nameOf(path); ok {
			s.learn(name)
		}
	case mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
		if isDir {
			s.forgetTree(path)
		} else if name, ok := s.nameOf(path); ok {
			s.forget(name)
		}
	}
}

// rescanLoop rescans the whole tree every interval, and at once after an
// event queue overflow.
func (s *Store) rescanLoop(interval time.Duration) {
	defer s.bg.Done()
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	select { // the startup scan indexes everything first
	case <-s.scanDone:
	case <-s.stop:
		return
	}
	for {
		select {
		case <-s.stop:
			return
		case <-tick:
		case <-s.watch.rescan:
		}
		s.Rescan()
	}
}

// Rescan walks the whole tree: names on disk missing from the index are
// added, plain names indexed without a file (and not kept by the Keep
// hook) are removed, and every directory is watched. Tagged names are only
// added (hash-named tagged files cannot be mapped back to names).
func (s *Store) Rescan() {
	s.watch.rescans.Add(1)
	onDisk := map[string]struct{}{}
	var mu sync.Mutex
	s.addWatch(s.dir)
	filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		select {
		case <-s.stop:
			return filepath.SkipAll
		default:
		}
		if d.IsDir() {
			s.addWatch(p)
			return nil
		}
		if name, ok := s.nameOf(p); ok {
			mu.Lock()
			onDisk[name] = struct{}{}
			mu.Unlock()
			s.learn(name)
		}
		return nil
	})
	x, ok := s.index.(interface{ Walk(func(string) bool) })
	if !ok {
		return
	}
	var gone []string
	x.Walk(func(n string) bool {
		if _, ok := onDisk[n]; !ok {
			gone = append(gone, n)
		}
		return true
	})
	for _, n := range gone {
		s.forget(n)
	}
}
