package pebble

import (
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Pebble preallocates each write-ahead log file in blocks of 1.1× the
// memtable size at its second write: with a 256 MiB memtable a store
// holding two points reserves 282 MiB of disk. walPreallocFS replaces that
// with a reservation that follows the data: pebble's preallocation calls
// are ignored, and a file is preallocated ahead of its writes in chunks
// that start at minPreallocChunk and double, up to max, as it grows. The
// reservation still spares most fdatasync calls a metadata update (what
// pebble preallocates for), and what a file reserves beyond its data is
// at most max.
type walPreallocFS struct {
	vfs.FS
	max int64
}

// minPreallocChunk is the first chunk a written file reserves.
const minPreallocChunk = 1 << 20

func (fs walPreallocFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil {
		return nil, err
	}
	return &preallocFile{File: f, max: fs.max}, nil
}

func (fs walPreallocFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil {
		return nil, err
	}
	return &preallocFile{File: f, max: fs.max}, nil
}

// preallocFile reserves disk ahead of its sequential writes. Like pebble's
// syncingFile it is not safe for concurrent writes.
type preallocFile struct {
	vfs.File
	max      int64
	written  int64 // bytes written through Write
	reserved int64 // bytes preallocated from offset 0
}

// Preallocate drops pebble's request; Write reserves instead.
func (f *preallocFile) Preallocate(offset, length int64) error { return nil }

func (f *preallocFile) Write(p []byte) (int, error) {
	end := f.written + int64(len(p))
	// The first write reserves nothing (a file written once, such as a
	// MANIFEST or OPTIONS file, needs no room ahead); later writes keep
	// the reservation ahead of the data.
	if f.written > 0 && end > f.reserved {
		chunk := min(max(f.reserved, minPreallocChunk), f.max)
		n := (end - f.reserved + chunk - 1) / chunk * chunk
		// Errors are ignored, as pebble does: writes allocate anyway.
		_ = f.File.Preallocate(f.reserved, n)
		f.reserved += n
	}
	n, err := f.File.Write(p)
	f.written += int64(n)
	return n, err
}
