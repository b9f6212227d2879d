package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/plumbago/plumbago/storage/schema"
)

// wspFile is a parsed whisper file (format in docs/pebble.md, "Import"):
// a 16-byte metadata header, 12 bytes per archive info, then each archive's
// ring of (interval u32, value f64) points, all big-endian.
type wspFile struct {
	method   schema.Method
	xff      float64
	archives []wspArchive
}

type wspArchive struct {
	offset, step, points int64
}

const (
	wspMetaSize    = 16
	wspArchiveSize = 12
	wspPointSize   = 12
	wspMaxArchives = 64
)

var errBadWhisper = errors.New("not a valid whisper file")

// parseWhisper validates a whisper file's header against its size.
func parseWhisper(b []byte) (*wspFile, error) {
	if len(b) < wspMetaSize {
		return nil, fmt.Errorf("%w: %d bytes", errBadWhisper, len(b))
	}
	f := &wspFile{
		method: schema.Method(binary.BigEndian.Uint32(b[0:])),
		xff:    float64(math.Float32frombits(binary.BigEndian.Uint32(b[8:]))),
	}
	n := int64(binary.BigEndian.Uint32(b[12:]))
	if !f.method.Valid() {
		return nil, fmt.Errorf("%w: aggregation type %d", errBadWhisper, f.method)
	}
	if n == 0 || n > wspMaxArchives || int64(len(b)) < wspMetaSize+n*wspArchiveSize {
		return nil, fmt.Errorf("%w: %d archives", errBadWhisper, n)
	}
	if math.IsNaN(f.xff) || f.xff < 0 || f.xff > 1 {
		return nil, fmt.Errorf("%w: xFilesFactor %v", errBadWhisper, f.xff)
	}
	end := wspMetaSize + n*wspArchiveSize
	for i := int64(0); i < n; i++ {
		p := b[wspMetaSize+i*wspArchiveSize:]
		a := wspArchive{
			offset: int64(binary.BigEndian.Uint32(p[0:])),
			step:   int64(binary.BigEndian.Uint32(p[4:])),
			points: int64(binary.BigEndian.Uint32(p[8:])),
		}
		if a.step == 0 || a.points == 0 || a.offset < end || a.offset+a.points*wspPointSize > int64(len(b)) {
			return nil, fmt.Errorf("%w: archive %d (offset %d, %d points of %d s) does not fit %d bytes", errBadWhisper, i, a.offset, a.points, a.step, len(b))
		}
		if i > 0 && a.step <= f.archives[i-1].step {
			return nil, fmt.Errorf("%w: archive %d is not coarser than archive %d", errBadWhisper, i, i-1)
		}
		end = a.offset + a.points*wspPointSize
		f.archives = append(f.archives, a)
	}
	return f, nil
}

func (f *wspFile) retentions() []schema.Retention {
	rs := make([]schema.Retention, len(f.archives))
	for i, a := range f.archives {
		rs[i] = schema.Retention{SecondsPerPoint: a.step, Points: a.points}
	}
	return rs
}

// eachPoint calls fn for every slot of archive i that whisper's fetch could
// return: a non-zero interval aligned to the step, in the ring position
// whisper's addressing gives it (relative to the first slot, the base), and
// newer than minTs.
func (f *wspFile) eachPoint(b []byte, i int, minTs int64, fn func(ts int64, v float64)) (skipped int) {
	a := f.archives[i]
	ring := b[a.offset : a.offset+a.points*wspPointSize]
	base := int64(binary.BigEndian.Uint32(ring))
	if base == 0 {
		return 0
	}
	for p := int64(0); p < a.points; p++ {
		q := ring[p*wspPointSize:]
		ts := int64(binary.BigEndian.Uint32(q))
		if ts == 0 {
			continue
		}
		if ts%a.step != 0 || (ts-base)%a.step != 0 || floorMod((ts-base)/a.step, a.points) != p {
			skipped++
			continue
		}
		if ts <= minTs {
			continue
		}
		fn(ts, math.Float64frombits(binary.BigEndian.Uint64(q[4:])))
	}
	return skipped
}
