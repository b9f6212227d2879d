package loadtest

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/query/graph"
)

// comparisonSeries resamples each report's timeline to whole seconds: the
// share of the points sent that were committed by second k since the first
// byte (linear between samples), one series per report, labelled by its
// file name. The x axis of the graph is time from the epoch, so second k
// reads 00:00:k.
func comparisonSeries(paths []string, reports []*Report) []*query.Series {
	var list []*query.Series
	for i, r := range reports {
		tl := r.Timeline
		end := 0.0
		if len(tl) > 0 {
			end = tl[len(tl)-1].T
		}
		n := int(math.Ceil(end))
		s := &query.Series{Name: labelOf(paths[i]), PathExpression: labelOf(paths[i]), Start: 0, Step: 1, End: int64(n + 1)}
		for k := 0; k <= n; k++ {
			share := math.NaN()
			if r.PointsSent > 0 {
				share = 100 * committedAt(tl, float64(k)) / float64(r.PointsSent)
			}
			s.Values = append(s.Values, share)
		}
		list = append(list, s)
	}
	return list
}

// committedAt is the committed count at t seconds, interpolated between the
// timeline's samples (0 before the first, the last one after the end).
func committedAt(tl []Sample, t float64) float64 {
	prevT, prevC := 0.0, 0.0
	for _, s := range tl {
		if s.T >= t {
			if s.T == prevT {
				return s.Committed
			}
			return prevC + (s.Committed-prevC)*(t-prevT)/(s.T-prevT)
		}
		prevT, prevC = s.T, s.Committed
	}
	return prevC
}

// WriteComparisonPNG draws the share of each report's points committed
// against seconds since the first byte as a Graphite PNG graph (Plumbago's own
// renderer: title, legend and axes), width x height pixels.
func WriteComparisonPNG(path, title string, paths []string, reports []*Report) error {
	params := map[string]string{
		"width": "900", "height": "450", "title": title, "vtitle": "% of points sent committed",
		"yMin": "0", "yMax": "100", "tz": "UTC", "xFormat": "%M:%S", "lineWidth": "2",
	}
	p, err := graph.ParseParams(func(name string) (string, bool) { v, ok := params[name]; return v, ok }, "png")
	if err != nil {
		return fmt.Errorf("writing plot %q: %w", path, err)
	}
	png, err := graph.Render(nil, comparisonSeries(paths, reports), p)
	if err != nil {
		return fmt.Errorf("writing plot %q: %w", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("writing plot %q: %w", path, err)
	}
	return nil
}

// comparisonTitle names a comparison plot after its reports' scenario and
// size, e.g. "W1: 100000 series x 100 points, x: mm:ss since the first byte".
func comparisonTitle(reports []*Report) string {
	var parts []string
	if len(reports) > 0 {
		r := reports[0]
		parts = append(parts, orDash(r.Scenario)+": "+strconv.Itoa(r.Metrics)+" series x "+strconv.Itoa(r.PointsPerMetric)+" points")
	}
	parts = append(parts, "x: mm:ss since the first byte")
	return strings.Join(parts, ", ")
}
