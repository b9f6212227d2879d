package pebble

import (
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// walDeleter is the store's pebble.Cleaner: it deletes obsolete files like
// pebble's DeleteCleaner (its Clean and String, the shallower of the two),
// and carries pebble's ArchiveCleaner only for its marker (it "needs the
// file contents"), the one switch pebble has that turns off WAL recycling.
// Recycling keeps up to MemTableStopWritesThreshold+1 = 5 flushed WAL
// files for reuse, which is disk the data no longer needs: after a 10,000
// series back-fill they held 22 MB next to 35 MB of sstables, for good
// (issue 19; docs/pebble.md, "Durability"). Deleted, a flushed WAL frees
// its disk at once; the next one is created and preallocated by
// walPreallocFS in chunks.
type walDeleter struct {
	pebble.DeleteCleaner
	archiveMarker
}

// archiveMarker puts ArchiveCleaner's methods one level deeper than
// DeleteCleaner's in walDeleter, so only its marker method is promoted.
type archiveMarker struct{ pebble.ArchiveCleaner }

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
const minPreallocChunk = 64 << 10

// walFile reports whether name is a WAL file (NNNNNN.log).
func walFile(name string) bool { return strings.HasSuffix(name, ".log") }

func (fs walPreallocFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || !walFile(name) {
		return f, err
	}
	return &preallocFile{File: f, max: fs.max}, nil
}

func (fs walPreallocFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil || !walFile(newname) {
		return f, err
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
