package whisper

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"syscall"

	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper/wsp"
)

// Whisper file format (big-endian, no padding):
//
//	metadata    aggregationType u32 | maxRetention u32 | xFilesFactor f32 | archiveCount u32
//	archiveInfo offset u32 | secondsPerPoint u32 | points u32     (archiveCount times)
//	archives    point = interval u32 | value f64, points slots each, finest first
const (
	metaSize        = wsp.MetaSize
	archiveInfoSize = wsp.ArchiveInfoSize
	pointSize       = wsp.PointSize
	// headerProbe is how much is read at open: enough for the header of a
	// file with up to 40 archives plus the first slot of its first archive.
	headerProbe = 512
)

// ErrCorrupt marks a file whose header cannot be a whisper header, or whose
// archives lie outside the file.
var ErrCorrupt = wsp.ErrCorrupt

type archive struct {
	offset int64 // byte offset of the first slot
	step   int64 // seconds per point
	points int64
	size   int64 // points * pointSize
	ret    int64 // step * points
}

type header struct {
	method   schema.Method
	maxRet   int64
	xff      float64 // the header's float32, widened as Python does
	archives []archive
	// base caches each archive's first-slot interval (whisper's ring base);
	// -1 = not read yet, 0 = empty archive.
	base []int64
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m != 0 && ((m < 0) != (b < 0)) {
		m += b
	}
	return m
}

func preadFull(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := syscall.Pread(fd, b, off)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("short read at offset %d: %w", off, ErrCorrupt)
		}
		b = b[n:]
		off += int64(n)
	}
	return nil
}

func pwriteFull(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := syscall.Pwrite(fd, b, off)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
		off += int64(n)
	}
	return nil
}

// grow returns b resized to n bytes, reallocating only when needed.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n, n+n/4)
	}
	return b[:n]
}

// readHeader reads and validates the header of the open file fd of the given
// size into h (reusing h's slices), with storage/whisper/wsp's rules (the
// importer and the load generator's verifier parse with them too). buf is
// scratch and is returned grown.
func readHeader(fd int, size int64, h *header, buf []byte) ([]byte, error) {
	if size < metaSize+archiveInfoSize {
		return buf, fmt.Errorf("file of %d bytes: %w", size, ErrCorrupt)
	}
	n := min(size, headerProbe)
	buf = grow(buf, int(n))
	if err := preadFull(fd, buf, 0); err != nil {
		return buf, err
	}
	m, err := wsp.ParseMeta(buf, size)
	if err != nil {
		return buf, err
	}
	if hdrSize := m.HeaderSize(); hdrSize > n {
		buf = grow(buf, int(hdrSize))
		if err := preadFull(fd, buf, 0); err != nil {
			return buf, err
		}
		n = hdrSize
	}
	h.method = m.Method
	h.maxRet = m.MaxRetention
	h.xff = m.XFilesFactor
	h.archives = h.archives[:0]
	h.base = h.base[:0]
	var span int64
	for i := range m.Archives {
		info, err := wsp.ParseArchive(buf, m, i, size)
		if err != nil {
			return buf, err
		}
		a := archive{offset: info.Offset, step: info.Step, points: info.Points, size: info.Size(), ret: info.Retention()}
		h.archives = append(h.archives, a)
		span = max(span, a.ret)
		base := int64(-1)
		if a.offset+pointSize <= n {
			base = int64(binary.BigEndian.Uint32(buf[a.offset:]))
		}
		h.base = append(h.base, base)
	}
	return buf, wsp.CheckSpan(m, span)
}

// encodeHeader returns the header whisper.create writes for rs (finest
// first), method and xff.
func encodeHeader(dst []byte, rs []schema.Retention, method schema.Method, xff float64) []byte {
	n := metaSize + archiveInfoSize*len(rs)
	dst = grow(dst, n)
	var maxRet int64
	for _, r := range rs {
		maxRet = max(maxRet, r.MaxRetention())
	}
	binary.BigEndian.PutUint32(dst[0:], uint32(method))
	binary.BigEndian.PutUint32(dst[4:], uint32(maxRet))
	binary.BigEndian.PutUint32(dst[8:], math.Float32bits(float32(xff)))
	binary.BigEndian.PutUint32(dst[12:], uint32(len(rs)))
	off := int64(n)
	for i, r := range rs {
		p := dst[metaSize+archiveInfoSize*i:]
		binary.BigEndian.PutUint32(p[0:], uint32(off))
		binary.BigEndian.PutUint32(p[4:], uint32(r.SecondsPerPoint))
		binary.BigEndian.PutUint32(p[8:], uint32(r.Points))
		off += r.Points * pointSize
	}
	return dst
}

// point is one datapoint on the write path (a timestamp already known to fit
// in whisper's u32).
type point struct {
	ts int64
	v  float64
}

// run is a sequence of consecutive slots written with one pwrite.
type run struct {
	start int64 // interval of the first slot
	off   int   // byte offset of its packed points in the write buffer
	n     int64 // number of points
}

// updater holds the scratch state of one update_many; reused across files.
type updater struct {
	files FileIO
	pt    [pointSize]byte // one propagated point (not on the stack: it goes through files)
	fd    int
	h     *header
	buf   []byte // packed points to write
	rbuf  []byte // propagation reads
	runs  []run
	known []float64
	// counters of the current call
	written int64
}

func (u *updater) base(i int) (int64, error) {
	if b := u.h.base[i]; b >= 0 {
		return b, nil
	}
	var p [4]byte
	if err := preadFull(u.fd, p[:], u.h.archives[i].offset); err != nil {
		return 0, err
	}
	b := int64(binary.BigEndian.Uint32(p[:]))
	u.h.base[i] = b
	return b, nil
}

// updateMany applies pts (sorted by timestamp ascending; among equal
// timestamps the last one wins) to the file as whisper's file_update_many
// does at time now. It returns the number of points dropped because no
// archive covers them.
func (u *updater) updateMany(pts []point, now int64) (dropped int64, err error) {
	ar := u.h.archives
	j := 0
	hi := len(pts)
	i := len(pts) - 1
	for ; i >= 0; i-- {
		age := now - pts[i].ts
		for j < len(ar) && ar[j].ret < age {
			if hi > i+1 {
				if err := u.archiveUpdate(j, pts[i+1:hi]); err != nil {
					return 0, err
				}
			}
			hi = i + 1
			j++
		}
		if j == len(ar) {
			break
		}
	}
	if j < len(ar) && hi > 0 {
		if err := u.archiveUpdate(j, pts[:hi]); err != nil {
			return 0, err
		}
	}
	if i >= 0 {
		dropped = int64(i + 1)
	}
	return dropped, nil
}

// archiveUpdate is whisper's __archive_update_many for archive ai.
func (u *updater) archiveUpdate(ai int, pts []point) error {
	a := &u.h.archives[ai]
	step := a.step
	u.buf = grow(u.buf, len(pts)*pointSize)[:0]
	u.runs = u.runs[:0]
	var prev int64
	have := false
	for i := range pts {
		iv := pts[i].ts - floorMod(pts[i].ts, step)
		if i+1 < len(pts) && pts[i+1].ts-floorMod(pts[i+1].ts, step) == iv {
			continue // the last point of a slot wins
		}
		if !have || iv == prev+step {
			if !have {
				u.runs = append(u.runs, run{start: iv, off: 0})
				have = true
			}
			u.runs[len(u.runs)-1].n++
		} else {
			u.runs = append(u.runs, run{start: iv, off: len(u.buf), n: 1})
		}
		u.buf = binary.BigEndian.AppendUint32(u.buf, uint32(iv))
		u.buf = binary.BigEndian.AppendUint64(u.buf, math.Float64bits(pts[i].v))
		prev = iv
		u.written++
	}
	base, err := u.base(ai)
	if err != nil {
		return err
	}
	if base == 0 {
		base = u.runs[0].start
		u.h.base[ai] = base
	}
	for _, r := range u.runs {
		data := u.buf[r.off : r.off+int(r.n)*pointSize]
		start := r.start
		if r.n > a.points {
			// Only the newest a.points entries survive in the ring; Python
			// would also spill past the archive's end (future points).
			skip := r.n - a.points
			data = data[skip*pointSize:]
			start += skip * step
		}
		off := floorMod(floorDiv(start-base, step), a.points) * pointSize
		if beyond := off + int64(len(data)) - a.size; beyond > 0 {
			cut := int64(len(data)) - beyond
			if err := u.files.Pwrite(u.fd, data[:cut], a.offset+off); err != nil {
				return err
			}
			if err := u.files.Pwrite(u.fd, data[cut:], a.offset); err != nil {
				return err
			}
		} else if err := u.files.Pwrite(u.fd, data, a.offset+off); err != nil {
			return err
		}
	}
	// Propagate to every coarser archive, stopping after the first one that
	// received nothing.
	higher := ai
	for li := range u.h.archives {
		lower := &u.h.archives[li]
		if lower.step <= a.step {
			continue
		}
		further := false
		last := int64(math.MinInt64)
		for i := range pts {
			l := pts[i].ts - floorMod(pts[i].ts, step)
			l -= floorMod(l, lower.step)
			if l == last {
				continue
			}
			last = l
			ok, err := u.propagate(l, higher, li)
			if err != nil {
				return err
			}
			further = further || ok
		}
		if !further {
			break
		}
		higher = li
	}
	return nil
}

// propagate is whisper's __propagate: aggregate the slots of archive hi that
// fall in the lower slot starting at l into archive li, if enough are known.
func (u *updater) propagate(l int64, hi, li int) (bool, error) {
	h, lo := &u.h.archives[hi], &u.h.archives[li]
	l -= floorMod(l, lo.step)
	hb, err := u.base(hi)
	if err != nil {
		return false, err
	}
	var first int64
	if hb != 0 {
		first = floorMod(floorDiv(l-hb, h.step), h.points) * pointSize
	}
	want := (lo.step / h.step) * pointSize
	last := (first + want) % h.size
	var n int64
	if first < last {
		n = last - first
		u.rbuf = grow(u.rbuf, int(n))
		if err := preadFull(u.fd, u.rbuf, h.offset+first); err != nil {
			return false, err
		}
	} else {
		n = h.size - first + last
		u.rbuf = grow(u.rbuf, int(n))
		if err := preadFull(u.fd, u.rbuf[:h.size-first], h.offset+first); err != nil {
			return false, err
		}
		if err := preadFull(u.fd, u.rbuf[h.size-first:], h.offset); err != nil {
			return false, err
		}
	}
	total := int(n / pointSize)
	u.known = u.known[:0]
	iv := l
	for k := 0; k < total; k++ {
		p := u.rbuf[k*pointSize:]
		if int64(binary.BigEndian.Uint32(p)) == iv {
			u.known = append(u.known, math.Float64frombits(binary.BigEndian.Uint64(p[4:])))
		}
		iv += h.step
	}
	if len(u.known) == 0 {
		return false, nil
	}
	if float64(len(u.known))/float64(total) < u.h.xff {
		return false, nil
	}
	v := u.h.method.Aggregate(u.known, total)
	pt := u.pt[:]
	binary.BigEndian.PutUint32(pt, uint32(l))
	binary.BigEndian.PutUint64(pt[4:], math.Float64bits(v))
	lb, err := u.base(li)
	if err != nil {
		return false, err
	}
	off := int64(0)
	if lb == 0 {
		u.h.base[li] = l
	} else {
		off = floorMod(floorDiv(l-lb, lo.step), lo.points) * pointSize
	}
	if err := u.files.Pwrite(u.fd, pt, lo.offset+off); err != nil {
		return false, err
	}
	return true, nil
}

// errInvalidInterval is whisper's InvalidTimeInterval.
var errInvalidInterval = errors.New("invalid time interval: from is after until")

// fetch is whisper's file_fetch (without archiveToSelect). ok is false where
// Python returns None (range entirely in the future or beyond retention).
// Values are appended to dst. With fresh, h was read just now (under the
// same lock as this read), so its cached ring bases are current and the
// archive's base is read from the file only where the header read did not
// reach it: one pread fewer per series for the finest archive.
func fetch(fd int, h *header, from, until, now int64, dst []float64, buf []byte, fresh bool) (start, step int64, vals []float64, ok bool, _ []byte, err error) {
	if from > until {
		return 0, 0, dst, false, buf, fmt.Errorf("from %d until %d: %w", from, until, errInvalidInterval)
	}
	oldest := now - h.maxRet
	if from > now || until < oldest {
		return 0, 0, dst, false, buf, nil
	}
	from = max(from, oldest)
	until = min(until, now)
	ai := schema.ArchiveFor(len(h.archives), func(i int) int64 { return h.archives[i].ret }, now-from)
	a := &h.archives[ai]
	step = a.step
	fromI := from - floorMod(from, step) + step
	untilI := until - floorMod(until, step) + step
	if fromI == untilI {
		untilI += step
	}
	base := int64(-1)
	if fresh {
		base = h.base[ai]
	}
	if base < 0 {
		var p [4]byte
		if err := preadFull(fd, p[:], a.offset); err != nil {
			return 0, 0, dst, false, buf, err
		}
		base = int64(binary.BigEndian.Uint32(p[:]))
	}
	if base == 0 {
		n := (untilI - fromI) / step
		dst = slices.Grow(dst, int(n))
		for ; n > 0; n-- {
			dst = append(dst, math.NaN())
		}
		return fromI, step, dst, true, buf, nil
	}
	fromOff := floorMod(floorDiv(fromI-base, step), a.points) * pointSize
	untilOff := floorMod(floorDiv(untilI-base, step), a.points) * pointSize
	var n int64
	if fromOff < untilOff {
		n = untilOff - fromOff
		buf = grow(buf, int(n))
		if err := preadFull(fd, buf, a.offset+fromOff); err != nil {
			return 0, 0, dst, false, buf, err
		}
	} else {
		n = a.size - fromOff + untilOff
		buf = grow(buf, int(n))
		if err := preadFull(fd, buf[:a.size-fromOff], a.offset+fromOff); err != nil {
			return 0, 0, dst, false, buf, err
		}
		if err := preadFull(fd, buf[a.size-fromOff:], a.offset); err != nil {
			return 0, 0, dst, false, buf, err
		}
	}
	// the points into dst's new tail by index, the slots walked by
	// reslicing: no append's capacity test nor a bounds check per field
	l := len(dst)
	dst = slices.Grow(dst, int(n/pointSize))[:l+int(n/pointSize)]
	out, b := dst[l:], buf[:n]
	iv := fromI
	for k := range out {
		if len(b) < pointSize {
			break // never: b holds len(out) slots
		}
		v := math.NaN()
		if int64(binary.BigEndian.Uint32(b)) == iv {
			v = math.Float64frombits(binary.BigEndian.Uint64(b[4:pointSize]))
		}
		out[k] = v
		b = b[pointSize:]
		iv += step
	}
	return fromI, step, dst, true, buf, nil
}
