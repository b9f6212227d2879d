package pebble

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/plumbago/plumbago/storage"
)

// allocated is the disk a file holds (st_blocks), preallocation included.
func allocated(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// createPrealloc creates name in a temporary directory through a
// walPreallocFS with chunks up to max.
func createPrealloc(t *testing.T, max int64, name string) (vfs.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := walPreallocFS{FS: vfs.Default, max: max}.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	return f, path
}

// TestWALPreallocChunksGrow writes a real file through walPreallocFS and
// checks what it reserves: nothing at the first write, then chunks from
// 64 KiB doubling up to the maximum, ahead of the data.
func TestWALPreallocChunksGrow(t *testing.T) {
	f, path := createPrealloc(t, 4<<20, "000001.log")
	defer f.Close()
	pf := f.(*preallocFile)
	write := func(n int) {
		t.Helper()
		if _, err := f.Write(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	// pebble asks for 282 MiB ahead: dropped.
	if err := f.Preallocate(0, 282<<20); err != nil {
		t.Fatal(err)
	}
	write(100)
	if pf.reserved != 0 {
		t.Fatalf("after the first write: reserved %d; want 0", pf.reserved)
	}
	write(100)
	if pf.reserved != 64<<10 {
		t.Fatalf("after the second write: reserved %d; want 64 KiB", pf.reserved)
	}
	for i := 0; i < 80; i++ { // 5 MiB more in 64 KiB writes
		write(64 << 10)
	}
	// 64 KiB, then doubling to 4 MiB (8 MiB reserved): chunks stop at 4 MiB.
	if pf.reserved != 8<<20 {
		t.Fatalf("after 5 MiB: reserved %d; want 8 MiB", pf.reserved)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := allocated(t, path); got < 8<<20 || got > 9<<20 {
		t.Fatalf("file holds %d bytes of disk; want the 8 MiB reserved", got)
	}
}

// TestTwoPointsReserveLittleDisk opens a store with a 256 MiB memtable (a
// large machine's), writes two points in two batches and checks the WAL
// holds about 64 KiB of disk, where pebble alone preallocates 282 MiB.
func TestTwoPointsReserveLittleDisk(t *testing.T) {
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.MemTableSize = 256 << 20
	opts.WALPreallocateBytes = 16 << 20
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().Unix()
	for i, name := range []string{"tour.a", "tour.b"} {
		b := storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: []storage.Point{{Timestamp: now - int64(i)*60, Value: 42}}}}}
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	logs, err := filepath.Glob(filepath.Join(opts.Dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no WAL in %s: %v", opts.Dir, err)
	}
	var total int64
	for _, l := range logs {
		total += allocated(t, l)
	}
	if total > 256<<10 {
		t.Fatalf("WAL files hold %d bytes of disk for two points; want at most 256 KiB", total)
	}
}

// TestSSTableNotPreallocated writes a file that is not a WAL through
// walPreallocFS (an sstable is written once and closed): nothing is
// reserved beyond what was written.
func TestSSTableNotPreallocated(t *testing.T) {
	f, path := createPrealloc(t, 16<<20, "000007.sst")
	for i := 0; i < 64; i++ { // 4 MiB in 64 KiB writes
		if _, err := f.Write(make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := allocated(t, path); got != 4<<20 {
		t.Fatalf("a 4 MiB sstable holds %d bytes of disk; want 4 MiB", got)
	}
}
