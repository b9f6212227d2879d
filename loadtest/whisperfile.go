package loadtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/plumbago/plumbago/storage/whisper/wsp"
)

// whisperCounter sums a metric's points straight from whisper files under a
// carbon data directory (for carbon-cache or go-carbon without a render API).
// The metric may hold globs ("carbon.agents.*.committedPoints").
type whisperCounter struct {
	dir, metric string
	since       time.Time
	timed       timedPoints
}

func (c *whisperCounter) String() string { return "whisper:" + c.dir + "#" + c.metric }

func (c *whisperCounter) Read(context.Context) (float64, time.Time, error) {
	pattern := filepath.Join(c.dir, filepath.FromSlash(strings.ReplaceAll(c.metric, ".", "/"))+".wsp")
	files, err := filepath.Glob(pattern)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("globbing %q: %w", pattern, err)
	}
	var all []wspPoint
	for _, f := range files {
		pts, err := readWhisperPoints(f)
		if err != nil {
			return 0, time.Time{}, err
		}
		all = append(all, pts...)
	}
	sum, at := c.timed.set(all, c.since.Unix())
	return sum, at, nil
}

func (c *whisperCounter) crossing(target float64) (time.Time, bool) { return c.timed.crossing(target) }

func (c *whisperCounter) cumulative(at time.Time) float64 { return c.timed.cumulative(at) }

// timedPoints keeps a counter's increments by timestamp, so the run can tell
// when the count reached a target to the counter's own resolution instead
// of when it was polled.
type timedPoints struct{ pts []wspPoint }

// set stores the increments at or after since and returns their sum and the
// timestamp of the last non-zero one.
func (t *timedPoints) set(pts []wspPoint, since int64) (float64, time.Time) {
	t.pts = t.pts[:0]
	var sum float64
	for _, p := range pts {
		if p.ts >= since && !math.IsNaN(p.v) && p.v != 0 {
			t.pts = append(t.pts, p)
			sum += p.v
		}
	}
	sort.Slice(t.pts, func(i, j int) bool { return t.pts[i].ts < t.pts[j].ts })
	if len(t.pts) == 0 {
		return 0, time.Time{}
	}
	return sum, time.Unix(t.pts[len(t.pts)-1].ts, 0)
}

// crossing returns when the sum reached target: the increment that took it
// there covers the time since the previous one, and the commits within it
// are assumed evenly spread, so the time is interpolated.
func (t *timedPoints) crossing(target float64) (time.Time, bool) {
	var sum float64
	for i, p := range t.pts {
		if sum+p.v >= target {
			at := float64(p.ts)
			if i > 0 && p.v > 0 {
				need := (target - sum) / p.v // share of this increment needed
				at -= (1 - need) * float64(p.ts-t.pts[i-1].ts)
			}
			sec, frac := math.Modf(at)
			return time.Unix(int64(sec), int64(frac*1e9)), true
		}
		sum += p.v
	}
	return time.Time{}, false
}

// cumulative returns the sum at time at, interpolating within the increment
// that spans it as crossing does.
func (t *timedPoints) cumulative(at time.Time) float64 {
	x := float64(at.UnixNano()) / 1e9
	var sum float64
	for i, p := range t.pts {
		if float64(p.ts) <= x {
			sum += p.v
			continue
		}
		if i > 0 && float64(t.pts[i-1].ts) < x {
			sum += p.v * (x - float64(t.pts[i-1].ts)) / float64(p.ts-t.pts[i-1].ts)
		}
		break
	}
	return sum
}

// countWhisperPoints counts the written slots of the first archive of every
// whisper file under dir: the points a whisper-based target stored.
func countWhisperPoints(dir string) (files, points int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".wsp") {
			return nil
		}
		pts, err := readWhisperPoints(path)
		if err != nil {
			return err
		}
		files++
		points += int64(len(pts))
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("counting whisper points under %q: %w", dir, err)
	}
	return files, points, nil
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
	return parseWhisperPoints(b, path)
}

func parseWhisperPoints(b []byte, path string) ([]wspPoint, error) {
	h, err := wsp.ParseHeader(b, int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("reading whisper file %q: %w", path, err)
	}
	off, n := int(h.Infos[0].Offset), int(h.Infos[0].Points)
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
