package whisper

import (
	"fmt"
	"math"
	"os"
	"slices"
	"syscall"

	"github.com/plumbago/plumbago/storage/schema"
)

// Layout is what a whisper file's header fixes: archives (finest first),
// aggregation method and xFilesFactor.
type Layout struct {
	Archives     []schema.Retention
	Method       schema.Method
	XFilesFactor float64
}

// Differs reports whether the header in says other than l (xFilesFactor
// compared as the header's float32 stores it).
func (l Layout) Differs(in Info) bool {
	return in.Method != l.Method || float32(in.XFilesFactor) != float32(l.XFilesFactor) ||
		!slices.Equal(in.Archives, l.Archives)
}

// Resize rewrites the whisper file at path with layout l at time now, as
// whisper-resize (python3-whisper 1.1, without --aggregate) does: every old
// archive is fetched over its whole retention, coarsest first, and its
// known points are written into the new file with update_many, finer
// archives last, so each new archive holds the finest data available,
// aggregated into coarser archives with the new method and xFilesFactor.
// The new file replaces the old one atomically (rename); the old file is
// not kept. It returns the sizes before and after.
func Resize(path string, l Layout, now int64) (oldSize, newSize int64, err error) {
	rs := slices.Clone(l.Archives)
	schema.SortRetentions(rs)
	if err := schema.ValidateRetentions(rs); err != nil {
		return 0, 0, fmt.Errorf("resizing %q: %w", path, err)
	}
	old, err := OpenFile(path)
	if err != nil {
		return 0, 0, err
	}
	defer old.Close()
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	oldSize = st.Size()

	// Read everything first, as whisper-resize does.
	type fetched struct {
		start, step int64
		vals        []float64
	}
	order := slices.Clone(old.h.archives)
	slices.SortStableFunc(order, func(a, b archive) int { return int(b.step - a.step) }) // coarsest first
	var data []fetched
	for _, a := range order {
		s, ok, err := old.Fetch(now-a.ret+a.step, now, now)
		if err != nil {
			return 0, 0, err
		}
		if ok {
			data = append(data, fetched{s.Start, s.Step, s.Values})
		}
	}

	tmp := path + ".tmp"
	os.Remove(tmp) // whisper-resize removes a previous temporary file
	fd, err := openFile(append([]byte(tmp), 0), syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, uint32(st.Mode().Perm()))
	if err != nil {
		return 0, 0, fmt.Errorf("resizing %q: creating %q: %w", path, tmp, err)
	}
	fail := func(err error) (int64, int64, error) {
		closeFile(fd)
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("resizing %q: %w", path, err)
	}
	hdr := encodeHeader(nil, rs, l.Method, l.XFilesFactor)
	if err := pwriteFull(fd, hdr, 0); err != nil {
		return fail(err)
	}
	newSize = schema.FileSize(rs)
	if err := syscall.Ftruncate(fd, newSize); err != nil {
		return fail(err)
	}
	var h header
	rbuf, err := readHeader(fd, newSize, &h, nil)
	if err != nil {
		return fail(err)
	}
	u := updater{files: osFiles{}, fd: fd, h: &h, rbuf: rbuf}
	var pts []point
	for _, d := range data {
		pts = pts[:0]
		for i, v := range d.vals {
			if !math.IsNaN(v) {
				pts = append(pts, point{ts: d.start + int64(i)*d.step, v: v})
			}
		}
		if len(pts) == 0 {
			continue
		}
		if _, err := u.updateMany(pts, now); err != nil {
			return fail(err)
		}
	}
	if err := syscall.Fsync(fd); err != nil {
		return fail(err)
	}
	if err := closeFile(fd); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("resizing %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("resizing %q: %w", path, err)
	}
	return oldSize, newSize, nil
}
