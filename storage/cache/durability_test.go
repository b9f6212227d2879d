package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/whisper"
)

// lossyFiles is a whisper.FileIO that writes through to the real files but
// remembers, until the next Syncfs, what each write overwrote and which
// files it created: lose() then puts the files back as a power loss would
// leave them (everything up to the last sync, nothing after).
type lossyFiles struct {
	mu      sync.Mutex
	paths   map[int]string
	undo    []undoWrite
	created map[string]bool
	syncs   int
}

type undoWrite struct {
	path string
	off  int64
	old  []byte
}

func newLossyFiles() *lossyFiles {
	return &lossyFiles{paths: map[int]string{}, created: map[string]bool{}}
}

func (l *lossyFiles) Open(cpath []byte, flags int, mode uint32) (int, error) {
	path := string(cpath[:len(cpath)-1])
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, mode)
	if err != nil {
		return -1, err
	}
	l.mu.Lock()
	l.paths[fd] = path
	if flags&unix.O_CREAT != 0 && flags&unix.O_EXCL != 0 {
		l.created[path] = true
	}
	l.mu.Unlock()
	return fd, nil
}

func (l *lossyFiles) Pwrite(fd int, b []byte, off int64) error {
	l.mu.Lock()
	path := l.paths[fd]
	if !l.created[path] {
		old := make([]byte, len(b))
		n, err := unix.Pread(fd, old, off)
		if err != nil {
			l.mu.Unlock()
			return err
		}
		l.undo = append(l.undo, undoWrite{path, off, old[:n]})
	}
	l.mu.Unlock()
	for len(b) > 0 {
		n, err := unix.Pwrite(fd, b, off)
		if err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

func (l *lossyFiles) Syncfs(fd int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := unix.Syncfs(fd); err != nil {
		return err
	}
	l.undo = l.undo[:0]
	clear(l.created)
	l.syncs++
	return nil
}

// lose undoes every write since the last Syncfs, newest first, and removes
// the files created since then. It returns the writes undone.
func (l *lossyFiles) lose(t *testing.T) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i := len(l.undo) - 1; i >= 0; i-- {
		u := l.undo[i]
		if l.created[u.path] {
			continue
		}
		f, err := os.OpenFile(u.path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(u.old, u.off); err != nil {
			t.Fatal(err)
		}
		f.Close()
		n++
	}
	for p := range l.created {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		n++
	}
	l.undo = nil
	clear(l.created)
	return n
}

// TestPowerLossKeepsSyncedPoints: the whisper writes of a write cycle are
// synced before the write-ahead log segments covering them go, so a power
// loss right after the cycle (every unsynced file write undone) loses no
// point: what the cycle wrote is on disk, what came after is in the log.
func TestPowerLossKeepsSyncedPoints(t *testing.T) {
	dir := t.TempDir()
	wdir, wal := filepath.Join(dir, "whisper"), filepath.Join(dir, "wal")
	files := newLossyFiles()
	st, err := whisper.Open(whisper.Options{Dir: wdir, Index: index.New(), Files: files})
	if err != nil {
		t.Fatal(err)
	}
	<-st.ScanDone()
	// The writer runs only when Sync forces it; the log syncs every 5 ms.
	c, err := New(st, nil, Options{Shards: 4, FlushInterval: time.Hour, Step: step10, WALDir: wal, SyncInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const series = 200
	ts := time.Now().Unix() - 300
	name := func(i int) string { return fmt.Sprintf("dur.s%03d", i) }
	pr := c.NewProducer()
	add := func(k int) {
		for i := 0; i < series; i++ {
			pr.AddPoint([]byte(name(i)), ts+int64(k)*10, float64(i*10+k))
		}
		pr.Flush()
	}
	// Cycle 1 creates the files, cycle 2 updates them in place.
	for k := 0; k < 2; k++ {
		add(k)
		c.Sync()
	}
	syncs := c.Stats().StoreSyncs
	// Points accepted after the last cycle: only in the log, once synced.
	add(2)
	deadline := time.Now().Add(30 * time.Second)
	for walPoints(t, wal, "") < series {
		if time.Now().After(deadline) {
			t.Fatalf("the write-ahead log holds %d points after 30 s; want %d", walPoints(t, wal, ""), series)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Power loss: the cache and store are abandoned; unsynced file writes
	// are undone. (Cycle 2's writes were synced, so nothing is undone.)
	undone := files.lose(t)
	st2, err := whisper.Open(whisper.Options{Dir: wdir, Index: index.New()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	c2, err := New(st2, nil, Options{Shards: 4, FlushInterval: time.Hour, Step: step10, WALDir: wal})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c2.Replay()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < series; i++ {
		if got := storedValues(t, st2, name(i), ts-10, ts+30); got != 3 {
			t.Fatalf("%s has %d stored values after the power loss (%d unsynced writes undone); want 3", name(i), got, undone)
		}
	}
	if syncs != 2*4 {
		t.Fatalf("StoreSyncs = %d; want 8 (4 shards × 2 cycles)", syncs)
	}
	if n != series || undone != 0 {
		t.Fatalf("replayed %d points, %d unsynced writes undone; want %d (the points after the last cycle) and 0", n, undone, series)
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLossyFilesUndoes checks the fault layer itself: an unsynced write is
// undone, a synced one stays.
func TestLossyFilesUndoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("aaaa"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := newLossyFiles()
	fd, err := l.Open(append([]byte(path), 0), syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := l.Pwrite(fd, []byte("b"), 0); err != nil {
		t.Fatal(err)
	}
	if err := l.Syncfs(fd); err != nil {
		t.Fatal(err)
	}
	if err := l.Pwrite(fd, []byte("cc"), 2); err != nil {
		t.Fatal(err)
	}
	if n := l.lose(t); n != 1 {
		t.Fatalf("undid %d writes; want 1", n)
	}
	if b, _ := os.ReadFile(path); string(b) != "baaa" {
		t.Fatalf("file holds %q after the loss; want %q", b, "baaa")
	}
}
