package whisper

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/diskspace"
	"github.com/plumbago/plumbago/storage/schema"
)

// NameIndex is the metric name index the store keeps up to date and answers
// Find from (storage/index's *Index implements it). It must be safe for
// concurrent use.
type NameIndex interface {
	// Add inserts name; it reports whether the name was new.
	Add(name string) bool
	// Find expands a graphite glob against the indexed names.
	Find(pattern string) ([]storage.Node, error)
	// Delete removes name; it reports whether it was present.
	Delete(name string) bool
}

// Options configure a Store.
type Options struct {
	// Dir is the root of the whisper tree (required). It is created if
	// missing.
	Dir string
	// Rules pick retentions and aggregation for new files; nil = schema.Default().
	Rules *schema.Rules
	// Index receives every metric name found by the startup scan and every
	// file created (required).
	Index NameIndex
	// Workers is the parallelism of the startup scan; 0 = 4 × GOMAXPROCS
	// (the scan waits on the file system more than on the CPU).
	Workers int
	// Sparse creates new files with ftruncate only (holes, like whisper's
	// sparse=True). The default (false) reserves the blocks with fallocate,
	// like carbon's WHISPER_FALLOCATE_CREATE, falling back to ftruncate where
	// the file system has no fallocate.
	Sparse bool
	// Now is the clock used for retention decisions on write, in unix
	// seconds; nil = time.Now.
	Now func() int64
	// FileMode and DirMode are used for new files and directories;
	// 0 = 0644 and 0755 (before umask).
	FileMode, DirMode os.FileMode
	// Files is the file layer of the write path; nil = the operating
	// system. Tests inject faults here.
	Files FileIO
	// Watch follows files other tools create, remove or move under Dir
	// (inotify; see watch.go), so Find lists new names and forgets removed
	// ones within a second.
	Watch bool
	// RescanInterval, when positive, rescans the whole tree that often
	// (the fallback for what inotify cannot report), with or without Watch.
	RescanInterval time.Duration
	// Keep, for Watch and rescans: a name whose file is gone stays indexed
	// while Keep(name) is true (the write buffer holds points for it).
	// SetKeep installs it after Open.
	Keep func(name string) bool
	// Logger receives the watcher's warnings; nil = slog.Default().
	Logger *slog.Logger
	// MinFreeBytes is the free-space reserve of the volume holding Dir:
	// at or below it, series that need space (a new file, a sparse file)
	// fail with storage.ErrNoSpace, while the fully allocated files of
	// existing series are still updated in place (that takes no space).
	MinFreeBytes uint64
}

// DefaultOptions returns the defaults for dir and index: built-in rules,
// 4 × GOMAXPROCS scan workers, fallocate'd files, wall clock, 0644/0755.
func DefaultOptions(dir string, index NameIndex) Options {
	return Options{
		Dir:      dir,
		Rules:    schema.Default(),
		Index:    index,
		Workers:  4 * runtime.GOMAXPROCS(0),
		FileMode: 0o644,
		DirMode:  0o755,
	}
}

// Validate reports options Open cannot work with.
func (o *Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("whisper options: Dir is required")
	case o.Index == nil:
		return errors.New("whisper options: Index is required")
	case o.Workers < 0:
		return fmt.Errorf("whisper options: Workers %d is negative", o.Workers)
	}
	return nil
}

// Stats are cumulative counters of a Store.
type Stats struct {
	Created       uint64 // files created
	UpdateOps     uint64 // update_many calls (one per series per batch)
	PointsWritten uint64 // points written into an archive
	PointsDropped uint64 // points outside every archive's retention (or outside u32 time)
	Errors        uint64 // series whose write failed (I/O error, corrupt file)
	InvalidNames  uint64 // points rejected because their metric name has no file path
	NoSchema      uint64 // points dropped because no storage schema matches their name
	ScannedFiles  uint64 // metrics found by the startup scan
	// ScannedHashedTagged counts hash-named tagged files seen by the scan
	// (their names are not recoverable from the file system).
	ScannedHashedTagged uint64
	EmptyRecreated      uint64 // zero-length files (left by a crash) replaced by a new file
	Syncs               uint64 // syncfs calls made by Sync
}

const stripes = 1024

// Store is the whisper backend. It implements storage.Store.
type Store struct {
	dir      string
	rules    *schema.Rules
	index    NameIndex
	now      func() int64
	sparse   bool
	fileMode uint32
	dirMode  os.FileMode

	locks [stripes]sync.RWMutex
	pool  sync.Pool // *scratch

	onFile func(name, path string) // Walk: scan results go here instead of the index

	space diskspace.Guard
	// refused is the last write the volume refused (EROFS, ENOSPC,
	// EDQUOT), until a batch is written without such a refusal: a volume
	// that turned read-only after an error is not always flagged so in
	// statfs, which is all space checks.
	refused atomic.Pointer[error]
	files   FileIO
	dirFD   int // the tree's root, for syncfs

	syncReq    atomic.Uint64 // Sync calls so far
	syncMu     sync.Mutex    // one syncfs at a time; guards the two below
	syncedUpTo uint64        // Sync calls covered by the last syncfs
	syncErr    error
	syncs      atomic.Uint64

	closed   atomic.Bool
	stop     chan struct{}
	scanDone chan struct{}
	bg       sync.WaitGroup // the watcher's goroutines

	log    *slog.Logger
	watch  *watcher // nil in Walk's scanner
	keepFn atomic.Pointer[func(string) bool]
	tagReg tagRegistry // tagreg.go

	created, updateOps, written, dropped, errs, invalid, noSchema, scanned, scannedHashed, emptyFixed atomic.Uint64
}

var _ storage.Store = (*Store)(nil)

// ErrInvalidName is returned (wrapped) for a metric name that cannot be
// mapped to a path inside Dir.
var ErrInvalidName = errors.New("invalid metric name")

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("whisper store closed")

// Open opens (creating if needed) the whisper tree at opts.Dir and starts the
// background scan that feeds opts.Index. Writes and fetches work during the
// scan; Find only knows the names scanned so far until ScanDone is closed.
func Open(opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("opening whisper store: %w", err)
	}
	s := &Store{
		dir:      filepath.Clean(opts.Dir),
		rules:    opts.Rules,
		index:    opts.Index,
		now:      opts.Now,
		sparse:   opts.Sparse,
		fileMode: uint32(opts.FileMode.Perm()),
		dirMode:  opts.DirMode.Perm(),
		stop:     make(chan struct{}),
		scanDone: make(chan struct{}),
	}
	s.space = diskspace.Guard{Dir: s.dir, Reserve: opts.MinFreeBytes}
	s.files = opts.Files
	if s.files == nil {
		s.files = osFiles{}
	}
	if s.rules == nil {
		s.rules = schema.Default()
	}
	if s.now == nil {
		s.now = func() int64 { return time.Now().Unix() }
	}
	if s.fileMode == 0 {
		s.fileMode = 0o644
	}
	if s.dirMode == 0 {
		s.dirMode = 0o755
	}
	if err := os.MkdirAll(s.dir, s.dirMode); err != nil {
		return nil, fmt.Errorf("opening whisper store %q: %w", s.dir, err)
	}
	dirFD, err := openFile(append([]byte(s.dir), 0), syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("opening whisper store %q: %w", s.dir, err)
	}
	s.dirFD = dirFD
	s.pool.New = func() any { return new(scratch) }
	workers := opts.Workers
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	s.log = opts.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.Keep != nil {
		s.SetKeep(opts.Keep)
	}
	s.startWatch(opts.Watch)
	if s.watch.fd >= 0 {
		s.bg.Add(1)
		go s.watchLoop()
	}
	if opts.Watch || opts.RescanInterval > 0 {
		s.bg.Add(1)
		go s.rescanLoop(opts.RescanInterval)
	}
	go s.scan(workers)
	return s, nil
}

// ScanDone is closed when the startup scan has finished (or was stopped by
// Close).
func (s *Store) ScanDone() <-chan struct{} { return s.scanDone }

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	return Stats{
		Created:             s.created.Load(),
		UpdateOps:           s.updateOps.Load(),
		PointsWritten:       s.written.Load(),
		PointsDropped:       s.dropped.Load(),
		Errors:              s.errs.Load(),
		InvalidNames:        s.invalid.Load(),
		NoSchema:            s.noSchema.Load(),
		ScannedFiles:        s.scanned.Load(),
		ScannedHashedTagged: s.scannedHashed.Load(),
		EmptyRecreated:      s.emptyFixed.Load(),
		Syncs:               s.syncs.Load(),
	}
}

// Close stops the scan and refuses further operations. Writes are
// synchronous (each series is written before Write returns) but reach the
// disk only with Sync: the write buffer syncs before it closes the store.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	<-s.scanDone
	s.bg.Wait()
	if s.dirFD < 0 {
		return nil
	}
	return closeFile(s.dirFD)
}

// maxPooledPoints bounds the point buffer a pooled scratch keeps, so one
// huge series does not pin its memory for good.
const maxPooledPoints = 1 << 16

func (s *Store) putScratch(sc *scratch) {
	if cap(sc.pts) > maxPooledPoints {
		sc.pts = nil
	}
	if cap(sc.u.rbuf) > maxPooledPoints*pointSize {
		sc.u.rbuf = nil
	}
	if cap(sc.u.buf) > maxPooledPoints*pointSize {
		sc.u.buf = nil
	}
	s.pool.Put(sc)
}

// scratch is per-goroutine state of Write and Fetch, pooled.
type scratch struct {
	// lowSpace is the volume's state at the start of this Write (nil: room
	// above the reserve).
	lowSpace error
	path     []byte
	alt      []byte // tagged series: the readable-name path
	hdr      header
	pts      []point
	u        updater
}

const (
	maxNameLen    = 1024
	maxSegmentLen = 255 - len(".wsp")
)

// validName reports whether name maps to a path strictly inside the tree:
// non-empty dot-separated segments without '/', NUL, or over-long parts.
func validName(name string) error {
	if len(name) > 0 && isTagged(name) {
		return validTaggedName(name)
	}
	if len(name) == 0 || len(name) > maxNameLen {
		return fmt.Errorf("name of %d bytes: %w", len(name), ErrInvalidName)
	}
	seg := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '.':
			if seg == 0 {
				return fmt.Errorf("empty segment in %q: %w", name, ErrInvalidName)
			}
			seg = 0
		case '/', 0:
			return fmt.Errorf("byte %q in %q: %w", c, name, ErrInvalidName)
		default:
			seg++
			if seg > maxSegmentLen {
				return fmt.Errorf("segment longer than %d bytes in %q: %w", maxSegmentLen, name, ErrInvalidName)
			}
		}
	}
	if seg == 0 {
		return fmt.Errorf("empty segment in %q: %w", name, ErrInvalidName)
	}
	return nil
}

// cPath appends <dir>/a/b/c.wsp for a.b.c to dst, NUL-terminated for open(2).
func (s *Store) cPath(dst []byte, name string) []byte {
	return append(s.filePath(dst, name), 0)
}

// goPath is the path in a NUL-terminated cpath as a string.
func goPath(cpath []byte) string { return string(cpath[:len(cpath)-1]) }

// filePath appends <dir>/a/b/c.wsp for a.b.c to dst (for a tagged series,
// its readable-name path under _tagged; see tagged.go).
func (s *Store) filePath(dst []byte, name string) []byte {
	if isTagged(name) {
		return s.taggedPrimaryPath(dst, name)
	}
	dst = append(dst[:0], s.dir...)
	dst = append(dst, '/')
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '.' {
			c = '/'
		}
		dst = append(dst, c)
	}
	return append(dst, ".wsp"...)
}

// FilePath returns the path of name's whisper file, or an error for a name
// that has none.
func (s *Store) FilePath(name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	return string(s.filePath(nil, name)), nil
}

func (s *Store) lock(name string) *sync.RWMutex {
	h := uint32(2166136261) // FNV-1a, inlined to avoid allocation
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return &s.locks[h%stripes]
}

const atFDCWD = -100 // AT_FDCWD

// openFile is open(2) on a NUL-terminated path without the allocation
// syscall.Open makes to terminate it.
func openFile(cpath []byte, flags int, mode uint32) (int, error) {
	if len(cpath) == 0 || cpath[len(cpath)-1] != 0 {
		panic("BUG: openFile needs a NUL-terminated path")
	}
	dirfd := atFDCWD
	for {
		r, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&cpath[0])),
			uintptr(flags|syscall.O_CLOEXEC), uintptr(mode), 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

func closeFile(fd int) error {
	err := syscall.Close(fd)
	if err == syscall.EINTR {
		return nil
	}
	return err
}

// fileSize returns the size of the open file fd and whether all of it has
// blocks on disk (no holes: updating it in place takes no space).
func fileSize(fd int) (size int64, allocated bool, err error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return 0, false, err
	}
	return st.Size, st.Blocks*512 >= st.Size, nil
}

// Write persists every series of b: one update_many per series, creating
// missing files from the rules. Points outside retention are dropped and
// counted. So are the points of series whose name has no path in the tree
// (Stats.InvalidNames) or matches no storage schema (Stats.NoSchema): like
// out-of-retention points they are dropped, not errors. Series that fail
// (I/O error, corrupt file, no space) are counted and listed in a
// *storage.WriteError; the others are still written. A full volume or one
// below the free-space reserve fails the series that need space with
// storage.ErrNoSpace, a read-only one with storage.ErrReadOnly.
func (s *Store) Write(b *storage.Batch) error {
	if s.closed.Load() {
		return ErrClosed
	}
	sc := s.pool.Get().(*scratch)
	defer s.putScratch(sc)
	now := s.now()
	sc.lowSpace = s.space.Check()
	var failed []storage.SeriesError
	var refused error
	for i := range b.Series {
		sp := &b.Series[i]
		if len(sp.Points) == 0 {
			continue
		}
		if err := s.writeSeries(sc, sp, now); err != nil {
			switch {
			case errors.Is(err, ErrInvalidName):
				s.invalid.Add(uint64(len(sp.Points)))
				continue
			case errors.Is(err, schema.ErrNoSchema):
				s.noSchema.Add(uint64(len(sp.Points)))
				continue
			}
			s.errs.Add(1)
			err = classify(err)
			if storage.Unavailable(err) {
				refused = err
			}
			failed = append(failed, storage.SeriesError{Index: i, Name: sp.Name, Err: err})
		}
	}
	if refused != nil {
		s.refused.Store(&refused)
	} else if len(failed) < len(b.Series) {
		s.refused.Store(nil)
	}
	if len(failed) > 0 {
		return &storage.WriteError{Failed: failed}
	}
	return nil
}

// classify wraps the errors of a full or read-only volume with the storage
// package's sentinels, so the write buffer keeps those points and waits.
func classify(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", storage.ErrNoSpace, err)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("%w: %w", storage.ErrReadOnly, err)
	}
	return err
}

func (s *Store) writeSeries(sc *scratch, sp *storage.SeriesPoints, now int64) error {
	name := sp.Name
	if err := validName(name); err != nil {
		return err
	}
	if s.takePoints(sc, sp.Points); len(sc.pts) == 0 {
		return nil
	}
	sc.path = s.cPath(sc.path, name)

	mu := s.lock(name)
	mu.Lock()
	defer mu.Unlock()

	fd, cpath, size, allocated, err := s.openForWrite(sc, name, sc.path)
	if err != nil {
		return err
	}
	defer closeFile(fd)
	if sc.lowSpace != nil && !allocated {
		// Writing into a hole takes blocks the volume has no room for.
		return fmt.Errorf("updating sparse %q: %w", goPath(cpath), sc.lowSpace)
	}
	if sc.u.rbuf, err = readHeader(fd, size, &sc.hdr, sc.u.rbuf); err != nil {
		return fmt.Errorf("reading header of %q: %w", goPath(cpath), err)
	}
	sc.u.fd, sc.u.h, sc.u.written, sc.u.files = fd, &sc.hdr, 0, s.files
	dropped, err := sc.u.updateMany(sc.pts, now)
	s.updateOps.Add(1)
	s.written.Add(uint64(sc.u.written))
	if dropped > 0 {
		s.dropped.Add(uint64(dropped))
	}
	if err != nil {
		return fmt.Errorf("updating %q: %w", goPath(cpath), err)
	}
	return nil
}

// takePoints copies pts into sc.pts, drops (and counts) what a u32
// timestamp cannot hold, and sorts by time (stable: among equal timestamps
// the later arrival wins, as carbon's cache does).
func (s *Store) takePoints(sc *scratch, pts []storage.Point) {
	sc.pts = sc.pts[:0]
	var outside int64
	sorted := true
	for _, p := range pts {
		if p.Timestamp < 0 || p.Timestamp > math.MaxUint32 {
			outside++
			continue
		}
		if n := len(sc.pts); n > 0 && sc.pts[n-1].ts > p.Timestamp {
			sorted = false
		}
		sc.pts = append(sc.pts, point{ts: p.Timestamp, v: p.Value})
	}
	if outside > 0 {
		s.dropped.Add(uint64(outside))
	}
	if !sorted {
		slices.SortStableFunc(sc.pts, func(a, b point) int {
			switch {
			case a.ts < b.ts:
				return -1
			case a.ts > b.ts:
				return 1
			}
			return 0
		})
	}
}

// openForWrite opens name's file at cpath for writing (carbon's hashed
// file for a tagged name when that is the one on disk), creating it from
// the rules when missing and re-creating it when a crashed create left it
// empty. It returns the open file, the path it was found at, its size and
// whether its blocks are allocated; the caller holds name's lock and
// closes the file.
func (s *Store) openForWrite(sc *scratch, name string, cpath []byte) (fd int, path []byte, size int64, allocated bool, err error) {
	fd, err = s.files.Open(cpath, syscall.O_RDWR, 0)
	if err == syscall.ENOENT && isTagged(name) {
		// carbon with TAG_HASH_FILENAMES = True (its default): keep writing its file
		if alt, ok := s.taggedAltPath(sc.alt[:0], name); ok {
			sc.alt = append(alt, 0)
			if afd, aerr := s.files.Open(sc.alt, syscall.O_RDWR, 0); aerr == nil {
				fd, err, cpath = afd, nil, sc.alt
			}
		}
	}
	if err == syscall.ENOENT {
		if sc.lowSpace != nil {
			return -1, cpath, 0, false, fmt.Errorf("creating %q: %w", goPath(cpath), sc.lowSpace)
		}
		fd, err = s.create(sc, name, cpath)
	}
	if err != nil {
		return -1, cpath, 0, false, fmt.Errorf("opening %q: %w", goPath(cpath), err)
	}
	size, allocated, err = fileSize(fd)
	if err == nil && size == 0 {
		// An empty file is what a crash or a full disk leaves behind in the
		// middle of a create (ours or carbon's); it holds no data, so make it
		// again instead of failing on it forever.
		closeFile(fd)
		if err := syscall.Unlink(goPath(cpath)); err != nil && err != syscall.ENOENT {
			return -1, cpath, 0, false, fmt.Errorf("removing empty %q: %w", goPath(cpath), err)
		}
		s.emptyFixed.Add(1)
		if sc.lowSpace != nil {
			return -1, cpath, 0, false, fmt.Errorf("creating %q: %w", goPath(cpath), sc.lowSpace)
		}
		if fd, err = s.create(sc, name, cpath); err != nil {
			return -1, cpath, 0, false, fmt.Errorf("opening %q: %w", goPath(cpath), err)
		}
		size, allocated, err = fileSize(fd)
	}
	if err != nil {
		closeFile(fd)
		return -1, cpath, 0, false, fmt.Errorf("opening %q: %w", goPath(cpath), err)
	}
	return fd, cpath, size, allocated, nil
}

// create makes name's file from the rules and returns it open for writing.
// A file that cannot be completed is removed, so no empty or headerless file
// is left behind.
func (s *Store) create(sc *scratch, name string, cpath []byte) (int, error) {
	sch, agg, err := s.rules.Match(name)
	if err != nil {
		return -1, err
	}
	rs := sch.Retentions
	if !slices.IsSortedFunc(rs, func(a, b schema.Retention) int { return int(a.SecondsPerPoint - b.SecondsPerPoint) }) {
		rs = slices.Clone(rs) // Rules built by hand: whisper stores archives finest first
		schema.SortRetentions(rs)
	}
	if err := schema.ValidateRetentions(rs); err != nil {
		return -1, fmt.Errorf("schema [%s]: %w", sch.Name, err)
	}
	path := goPath(cpath)
	fd, err := s.files.Open(cpath, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, s.fileMode)
	if err == syscall.ENOENT {
		if err := os.MkdirAll(filepath.Dir(path), s.dirMode); err != nil {
			return -1, err
		}
		fd, err = s.files.Open(cpath, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, s.fileMode)
	}
	if err == syscall.EEXIST {
		return s.files.Open(cpath, syscall.O_RDWR, 0)
	}
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) {
		closeFile(fd)
		os.Remove(path)
		return -1, fmt.Errorf("creating: %w", err)
	}
	hdr := encodeHeader(sc.u.buf, rs, agg.Method, agg.XFilesFactor)
	sc.u.buf = hdr
	if err := s.files.Pwrite(fd, hdr, 0); err != nil {
		return fail(err)
	}
	total := schema.FileSize(rs)
	if err := s.allocate(fd, int64(len(hdr)), total); err != nil {
		return fail(err)
	}
	s.created.Add(1)
	s.index.Add(name)
	return fd, nil
}

func (s *Store) allocate(fd int, hdrSize, total int64) error {
	if !s.sparse {
		err := syscall.Fallocate(fd, 0, hdrSize, total-hdrSize)
		for err == syscall.EINTR {
			err = syscall.Fallocate(fd, 0, hdrSize, total-hdrSize)
		}
		if err == nil {
			return nil
		}
		if err != syscall.EOPNOTSUPP && err != syscall.ENOSYS {
			return err
		}
	}
	return syscall.Ftruncate(fd, total)
}

// Fetch returns name's values over (from, until] as whisper.fetch(path, from,
// until, now) does. Where Python returns None (the range is entirely in the
// future or beyond the file's retention) the series has no values and Start
// = from, Step = the finest archive's step.
func (s *Store) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := validName(name); err != nil {
		return nil, fmt.Errorf("fetching: %w", storage.ErrNotFound)
	}
	sc := s.pool.Get().(*scratch)
	defer s.putScratch(sc)
	sc.path = s.cPath(sc.path, name)

	mu := s.lock(name)
	mu.RLock()
	defer mu.RUnlock()
	fd, err := openFile(sc.path, syscall.O_RDONLY, 0)
	if err == syscall.ENOENT && isTagged(name) {
		if alt, ok := s.taggedAltPath(sc.alt[:0], name); ok {
			sc.alt = append(alt, 0)
			fd, err = openFile(sc.alt, syscall.O_RDONLY, 0)
		}
	}
	if err == syscall.ENOENT || err == syscall.ENOTDIR {
		return nil, fmt.Errorf("fetching %q: %w", name, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	defer closeFile(fd)
	size, _, err := fileSize(fd)
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	if sc.u.rbuf, err = readHeader(fd, size, &sc.hdr, sc.u.rbuf); err != nil {
		return nil, fmt.Errorf("fetching %q: reading header: %w", name, err)
	}
	start, step, vals, ok, buf, err := fetch(fd, &sc.hdr, from, until, now, nil, sc.u.rbuf, true)
	sc.u.rbuf = buf
	if err != nil {
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	if !ok {
		return &storage.Series{Name: name, Start: from, Step: sc.hdr.archives[0].step}, nil
	}
	return &storage.Series{Name: name, Start: start, Step: step, Values: vals}, nil
}

// Find answers from the name index.
func (s *Store) Find(pattern string) ([]storage.Node, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return s.index.Find(pattern)
}

// Health reports why the store cannot take every write now: the volume is
// read-only, or its free space is at or below Options.MinFreeBytes (new
// series then wait; existing fully allocated files are still updated).
// The last write the volume refused is reported too, until a write
// succeeds again.
func (s *Store) Health() error {
	if err := s.space.Check(); err != nil {
		return err
	}
	if p := s.refused.Load(); p != nil {
		return fmt.Errorf("the last write failed: %w", *p)
	}
	return nil
}
