package whisper

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// Info is a whisper file's header, as whisper.info reports it.
type Info struct {
	Method       schema.Method
	MaxRetention int64
	XFilesFactor float64
	Archives     []schema.Retention // finest first, as stored
}

// File is a whisper file opened read-only, for tools (import, inspection)
// that read files outside a Store. It is not safe for concurrent use.
type File struct {
	fd   int
	path string
	h    header
	buf  []byte
}

// OpenFile opens and validates the whisper file at path.
func OpenFile(path string) (*File, error) {
	fd, err := openFile(append([]byte(path), 0), syscall.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("opening whisper file %q: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
	}
	f := &File{fd: fd, path: path}
	size, _, err := fileSize(fd)
	if err == nil {
		f.buf, err = readHeader(fd, size, &f.h, nil)
	}
	if err != nil {
		closeFile(fd)
		return nil, fmt.Errorf("opening whisper file %q: %w", path, err)
	}
	return f, nil
}

// Close releases the file.
func (f *File) Close() error { return closeFile(f.fd) }

// Info returns the header.
func (f *File) Info() Info {
	in := Info{Method: f.h.method, MaxRetention: f.h.maxRet, XFilesFactor: f.h.xff}
	for _, a := range f.h.archives {
		in.Archives = append(in.Archives, schema.Retention{SecondsPerPoint: a.step, Points: a.points})
	}
	return in
}

// Fetch is whisper.fetch on this file (see Store.Fetch); ok is false where
// Python returns None.
func (f *File) Fetch(from, until, now int64) (s *storage.Series, ok bool, err error) {
	start, step, vals, ok, buf, err := fetch(f.fd, &f.h, from, until, now, nil, f.buf, false)
	f.buf = buf
	if err != nil {
		return nil, false, fmt.Errorf("fetching from %q: %w", f.path, err)
	}
	return &storage.Series{Start: start, Step: step, Values: vals}, ok, nil
}

// Points appends to dst the live points of archive i in time order: every
// slot with a timestamp, except slots left from an earlier lap of the ring
// (older than the archive's newest point minus its span). This is the whole
// content of the archive independent of the current time, e.g. for import.
func (f *File) Points(i int, dst []storage.Point) ([]storage.Point, error) {
	if i < 0 || i >= len(f.h.archives) {
		return dst, fmt.Errorf("reading %q: archive %d of %d", f.path, i, len(f.h.archives))
	}
	a := f.h.archives[i]
	f.buf = grow(f.buf, int(a.size))
	if err := preadFull(f.fd, f.buf, a.offset); err != nil {
		return dst, fmt.Errorf("reading %q: %w", f.path, err)
	}
	var newest int64
	for k := int64(0); k < a.points; k++ {
		iv := int64(binary.BigEndian.Uint32(f.buf[k*pointSize:]))
		newest = max(newest, iv)
	}
	if newest == 0 {
		return dst, nil
	}
	first := len(dst)
	for k := int64(0); k < a.points; k++ {
		p := f.buf[k*pointSize:]
		iv := int64(binary.BigEndian.Uint32(p))
		if iv == 0 || iv <= newest-a.ret || iv%a.step != 0 {
			continue
		}
		dst = append(dst, storage.Point{Timestamp: iv, Value: math.Float64frombits(binary.BigEndian.Uint64(p[4:]))})
	}
	live := dst[first:]
	slices.SortFunc(live, func(x, y storage.Point) int {
		switch {
		case x.Timestamp < y.Timestamp:
			return -1
		case x.Timestamp > y.Timestamp:
			return 1
		}
		return 0
	})
	return dst, nil
}

// Walk calls fn for every metric file under dir (the startup scan's rules:
// plain metrics and readable-name tagged files; hash-named tagged files are
// skipped), from workers goroutines at once (0 = 4 × GOMAXPROCS). fn must be
// safe for concurrent use.
func Walk(dir string, workers int, fn func(name, path string)) {
	s := &Store{dir: filepath.Clean(dir), stop: make(chan struct{}), scanDone: make(chan struct{}), onFile: fn, dirFD: -1}
	if workers <= 0 {
		workers = DefaultOptions(dir, nil).Workers
	}
	s.scan(workers)
}
