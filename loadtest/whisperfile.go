package loadtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// whisperCounter sums a metric's points straight from whisper files under a
// carbon data directory (for carbon-cache or go-carbon without a render API).
// The metric may hold globs ("carbon.agents.*.committedPoints").
type whisperCounter struct {
	dir, metric string
	since       time.Time
}

func (c *whisperCounter) String() string { return "whisper:" + c.dir + "#" + c.metric }

func (c *whisperCounter) Read(context.Context) (float64, time.Time, error) {
	pattern := filepath.Join(c.dir, filepath.FromSlash(strings.ReplaceAll(c.metric, ".", "/"))+".wsp")
	files, err := filepath.Glob(pattern)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("globbing %q: %w", pattern, err)
	}
	var sum float64
	var last int64
	for _, f := range files {
		pts, err := readWhisperPoints(f)
		if err != nil {
			return 0, time.Time{}, err
		}
		for _, p := range pts {
			if p.ts >= c.since.Unix() && !math.IsNaN(p.v) && p.v != 0 {
				sum += p.v
				last = max(last, p.ts)
			}
		}
	}
	var at time.Time
	if last > 0 {
		at = time.Unix(last, 0)
	}
	return sum, at, nil
}

type wspPoint struct {
	ts int64
	v  float64
}

// readWhisperPoints returns the written slots (timestamp != 0) of a whisper
// file's first (finest) archive. Format: 16-byte header (aggregation,
// max retention, xFilesFactor, archive count), 12 bytes per archive (offset,
// seconds per point, points), then 12-byte slots (u32 ts, f64 value), all
// big-endian.
func readWhisperPoints(path string) ([]wspPoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading whisper file %q: %w", path, err)
	}
	if len(b) < 28 {
		return nil, fmt.Errorf("reading whisper file %q: too short", path)
	}
	archives := binary.BigEndian.Uint32(b[12:])
	if archives == 0 || archives > 64 || len(b) < 16+12*int(archives) {
		return nil, fmt.Errorf("reading whisper file %q: bad header", path)
	}
	off := int(binary.BigEndian.Uint32(b[16:]))
	n := int(binary.BigEndian.Uint32(b[24:]))
	if off < 0 || n < 0 || off+12*n > len(b) {
		return nil, fmt.Errorf("reading whisper file %q: archive beyond the file", path)
	}
	var out []wspPoint
	for i := 0; i < n; i++ {
		s := b[off+12*i:]
		ts := binary.BigEndian.Uint32(s)
		if ts == 0 {
			continue
		}
		out = append(out, wspPoint{int64(ts), math.Float64frombits(binary.BigEndian.Uint64(s[4:]))})
	}
	return out, nil
}
