// Package wspread is a minimal read-only whisper reader with Python
// whisper 1.1's fetch semantics. It exists so the query tests can read the
// files Debian's python3-whisper writes for the graphite-web oracle without
// depending on the storage backends.
package wspread

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

type archive struct {
	offset, spp, points int64
}

// Fetch reads path over (from, until] at time now like whisper.fetch and
// returns start, step and values (NaN for None); ok is false where Python
// returns None.
func Fetch(path string, from, until, now int64) (start, step int64, values []float64, ok bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, nil, false, fmt.Errorf("reading %q: %w", path, err)
	}
	if len(data) < 16 {
		return 0, 0, nil, false, fmt.Errorf("reading %q: short header", path)
	}
	be := binary.BigEndian
	maxRet := int64(be.Uint32(data[4:]))
	count := int(be.Uint32(data[12:]))
	if len(data) < 16+12*count {
		return 0, 0, nil, false, fmt.Errorf("reading %q: short archive info", path)
	}
	arcs := make([]archive, count)
	for i := range arcs {
		o := 16 + 12*i
		arcs[i] = archive{int64(be.Uint32(data[o:])), int64(be.Uint32(data[o+4:])), int64(be.Uint32(data[o+8:]))}
	}
	if from > until {
		return 0, 0, nil, false, fmt.Errorf("invalid time interval")
	}
	oldest := now - maxRet
	if from > now || until < oldest {
		return 0, 0, nil, false, nil
	}
	from = max(from, oldest)
	until = min(until, now)
	diff := now - from
	var a archive
	for _, a = range arcs {
		if a.spp*a.points >= diff {
			break
		}
	}
	step = a.spp
	fromI := from - mod(from, step) + step
	untilI := until - mod(until, step) + step
	if fromI == untilI {
		untilI += step
	}
	n := (untilI - fromI) / step
	values = make([]float64, n)
	for i := range values {
		values[i] = math.NaN()
	}
	base := int64(be.Uint32(data[a.offset:]))
	if base == 0 {
		return fromI, step, values, true, nil
	}
	size := a.points * 12
	for i := int64(0); i < n; i++ {
		t := fromI + i*step
		off := a.offset + mod((t-base)/step*12, size)
		if int64(be.Uint32(data[off:])) == t {
			values[i] = math.Float64frombits(be.Uint64(data[off+4:]))
		}
	}
	return fromI, step, values, true, nil
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
