package storetest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/internal/testenv"
)

// SmallVolume mounts a tmpfs of size bytes on a fresh directory and returns
// it; it is unmounted when the test ends. Mounting needs root: without it
// the test is skipped, and fails under CI=true (CI runs as root).
func SmallVolume(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "mounting a small tmpfs needs root (CI runs as root)")
	}
	dir := filepath.Join(t.TempDir(), "vol")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Fatalf("mounting a %d-byte tmpfs on %s: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file of zeros at path until the volume has at most keep
// bytes free (or is full), and returns its size. Removing the file frees
// the space again.
func Fill(t testing.TB, path string, keep int64) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
			t.Fatal(err)
		}
		free := int64(st.Bavail) * st.Bsize
		if free <= keep {
			return n
		}
		chunk := buf[:min(int64(len(buf)), free-keep)]
		w, err := f.Write(chunk)
		n += int64(w)
		if err != nil {
			return n // full
		}
	}
}

// Remount changes a mounted volume to read-only (ro true) or back.
func Remount(t testing.TB, dir string, ro bool) {
	t.Helper()
	flags := uintptr(unix.MS_REMOUNT)
	if ro {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, ""); err != nil {
		t.Fatalf("remounting %s (read-only %v): %v", dir, ro, err)
	}
}
