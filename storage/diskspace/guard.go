package diskspace

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/storage"
)

// Guard checks the volume holding Dir. The zero Reserve still refuses
// writes on a completely full or read-only volume.
type Guard struct {
	// Dir is any path on the volume.
	Dir string
	// Reserve is the free space, in bytes, below which writes stop.
	Reserve uint64
}

// Usage is what statfs reports for the volume, in bytes.
type Usage struct {
	Free     uint64 // available to unprivileged users (f_bavail)
	Total    uint64
	ReadOnly bool
}

// Stat returns the volume's usage.
func (g Guard) Stat() (Usage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(g.Dir, &st); err != nil {
		return Usage{}, fmt.Errorf("statfs %q: %w", g.Dir, err)
	}
	bs := uint64(st.Bsize)
	return Usage{
		Free:     st.Bavail * bs,
		Total:    st.Blocks * bs,
		ReadOnly: st.Flags&unix.ST_RDONLY != 0,
	}, nil
}

// Check returns nil when a write may go ahead, an error wrapping
// storage.ErrReadOnly for a read-only volume, and one wrapping
// storage.ErrNoSpace when the free space is at or below the reserve (a
// volume with no free byte at all is full whatever the reserve). A failing
// statfs is not a reason to stop writes: the write itself will tell.
func (g Guard) Check() error {
	u, err := g.Stat()
	if err != nil {
		return nil
	}
	if u.ReadOnly {
		return fmt.Errorf("%w: %s is on a read-only volume", storage.ErrReadOnly, g.Dir)
	}
	if u.Free == 0 || u.Free <= g.Reserve {
		return fmt.Errorf("%w: %d bytes free on the volume of %s, reserve %d", storage.ErrNoSpace, u.Free, g.Dir, g.Reserve)
	}
	return nil
}
