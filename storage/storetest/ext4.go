package storetest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/internal/testenv"
)

// Ext4 is an ext4 file system in an image file, loop-mounted with
// errors=remount-ro: what a cloud data volume that hits an I/O error
// does is turn read-only under the processes writing to it, with their
// files open (a remount to read-only is refused while a file is open for
// writing, so that is the way a running server meets a read-only volume).
type Ext4 struct {
	Image string // the image file
	Dir   string // where it is mounted
}

// Ext4Volume makes an ext4 image of size bytes, mounts it on a fresh
// directory and returns it; it is unmounted when the test ends. It needs
// root, mkfs.ext4 and e2fsck (Debian e2fsprogs) and mount (util-linux).
func Ext4Volume(t testing.TB, size int64) *Ext4 {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "mounting an ext4 loop device needs root (CI runs as root)")
	}
	testenv.Command(t, "mkfs.ext4", "apt e2fsprogs")
	testenv.Command(t, "e2fsck", "apt e2fsprogs")
	testenv.Command(t, "mount", "apt mount")
	tmp := t.TempDir()
	v := &Ext4{Image: filepath.Join(tmp, "ext4.img"), Dir: filepath.Join(tmp, "vol")}
	if err := os.Mkdir(v.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v.Image, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(v.Image, size); err != nil {
		t.Fatal(err)
	}
	run(t, "mkfs.ext4", "-q", "-F", v.Image)
	v.Mount(t)
	t.Cleanup(func() {
		if mounted(v.Dir) {
			if out, err := exec.Command("umount", "-l", v.Dir).CombinedOutput(); err != nil {
				t.Errorf("unmounting %s: %v: %s", v.Dir, err, out)
			}
		}
	})
	return v
}

// Mount mounts the image on Dir (errors=remount-ro).
func (v *Ext4) Mount(t testing.TB) {
	t.Helper()
	run(t, "mount", "-o", "loop,errors=remount-ro", v.Image, v.Dir)
}

// Fail makes the kernel record an ext4 error on the mounted file system
// (through /sys/fs/ext4/<device>/trigger_fs_error), which, mounted
// errors=remount-ro, turns it read-only at once: every write, to new
// files and to files already open, fails with EROFS until it is
// unmounted, checked and mounted again.
func (v *Ext4) Fail(t testing.TB) {
	t.Helper()
	dev, err := mountSource(v.Dir)
	if err != nil {
		t.Fatal(err)
	}
	trigger := filepath.Join("/sys/fs/ext4", filepath.Base(dev), "trigger_fs_error")
	if err := os.WriteFile(trigger, []byte("plumbago test: volume fails\n"), 0o200); err != nil {
		t.Fatalf("triggering an ext4 error on %s: %v", dev, err)
	}
	// ext4 turns itself read-only from a work queue: wait for it.
	probe := filepath.Join(v.Dir, ".probe")
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := os.WriteFile(probe, nil, 0o644)
		if errors.Is(err, unix.EROFS) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still takes writes 30 s after the ext4 error (%v)", v.Dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Repair unmounts the volume (nothing may have a file open on it), checks
// it with e2fsck -fy as an operator would, and mounts it again writable.
func (v *Ext4) Repair(t testing.TB) {
	t.Helper()
	run(t, "umount", v.Dir)
	// e2fsck exits 1 when it corrected errors (the recorded one).
	if out, err := exec.Command("e2fsck", "-fy", v.Image).CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() > 1 {
			t.Fatalf("e2fsck %s: %v\n%s", v.Image, err, out)
		}
	}
	v.Mount(t)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// mountSource returns the device mounted on dir, from /proc/self/mountinfo.
func mountSource(dir string) (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[4] != dir {
			continue
		}
		for i, fl := range fields {
			if fl == "-" && i+2 < len(fields) {
				return fields[i+2], nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s is not a mount point", dir)
}

func mounted(dir string) bool {
	_, err := mountSource(dir)
	return err == nil
}
