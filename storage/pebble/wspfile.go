package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper/wsp"
)

// wspFile is a parsed whisper file: its header, read by storage/whisper/wsp
// (the parser the whisper backend uses), and the archives the import maps
// onto a pebble schema.
type wspFile struct {
	method   schema.Method
	xff      float64
	archives []wspArchive
}

type wspArchive struct {
	offset, step, points int64
}

const wspPointSize = wsp.PointSize

var errBadWhisper = errors.New("not a valid whisper file")

// parseWhisper validates a whole whisper file's header against its size,
// and that its archives are what a pebble schema can hold: each one after
// the previous in the file and coarser than it (as whisper.create writes
// them).
func parseWhisper(b []byte) (*wspFile, error) {
	h, err := wsp.ParseHeader(b, int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadWhisper, err)
	}
	f := &wspFile{method: h.Method, xff: h.XFilesFactor}
	end := h.HeaderSize()
	for i, a := range h.Infos {
		if a.Offset < end {
			return nil, fmt.Errorf("%w: archive %d (offset %d) overlaps the one before it", errBadWhisper, i, a.Offset)
		}
		if i > 0 && a.Step <= h.Infos[i-1].Step {
			return nil, fmt.Errorf("%w: archive %d is not coarser than archive %d", errBadWhisper, i, i-1)
		}
		end = a.Offset + a.Size()
		f.archives = append(f.archives, wspArchive{offset: a.Offset, step: a.Step, points: a.Points})
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
