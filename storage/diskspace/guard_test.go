package diskspace_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/diskspace"
	"github.com/plumbago/plumbago/storage/storetest"
)

// TestGuard on a real 8 MiB tmpfs: room above the reserve passes, at or
// below it is ErrNoSpace, a read-only remount is ErrReadOnly.
func TestGuard(t *testing.T) {
	vol := storetest.SmallVolume(t, 8<<20)
	g := diskspace.Guard{Dir: vol, Reserve: 2 << 20}
	u, err := g.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if u.Total != 8<<20 || u.Free != 8<<20 || u.ReadOnly {
		t.Fatalf("Stat of an empty 8 MiB tmpfs = %+v; want total = free = %d, writable", u, 8<<20)
	}
	if err := g.Check(); err != nil {
		t.Fatalf("Check with 8 MiB free, reserve 2 MiB = %v; want nil", err)
	}
	filler := filepath.Join(vol, "filler")
	storetest.Fill(t, filler, 2<<20)
	if err := g.Check(); !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("Check at the reserve = %v; want ErrNoSpace", err)
	}
	if err := (diskspace.Guard{Dir: vol}).Check(); err != nil {
		t.Fatalf("Check without a reserve, 2 MiB free = %v; want nil", err)
	}
	os.Remove(filler)
	storetest.Remount(t, vol, true)
	defer storetest.Remount(t, vol, false)
	if err := g.Check(); !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("Check on a read-only volume = %v; want ErrReadOnly", err)
	}
}
