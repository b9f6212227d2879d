package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// LoadReport reads a report written with --json.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report %q: %w", path, err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding report %q: %w", path, err)
	}
	return &r, nil
}

// labelOf is a report's label in comparisons: its file name without .json.
func labelOf(path string) string { return strings.TrimSuffix(filepath.Base(path), ".json") }

// WriteComparison prints a markdown table of several reports, one row each.
func WriteComparison(w io.Writer, paths []string, reports []*Report) error {
	fmt.Fprintln(w, "| run | scenario | protocol | points sent | send rate | committed (or received) | end to end | all in after | lost | server CPU | server peak RSS | disk bytes/point | loader CPU |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i, r := range reports {
		rss, disk, cpu := "–", "–", "–"
		if r.ServerPeakRSS > 0 {
			rss = humanBytes(r.ServerPeakRSS)
		}
		if r.DiskBytesPerPoint > 0 {
			disk = fmt.Sprintf("%.1f", r.DiskBytesPerPoint)
		}
		if r.ServerCPUSeconds > 0 {
			cpu = fmt.Sprintf("%.1f s", r.ServerCPUSeconds)
		}
		done := fmt.Sprintf("%.1f s", r.CommitSeconds)
		if !r.AllCommitted {
			done = "not all"
		}
		_, err := fmt.Fprintf(w, "| %s | %s | %s | %d | %s/s | %.0f | **%s/s** | %s | %.0f (%.2f%%) | %s | %s | %s | %.2f s |\n",
			labelOf(paths[i]), orDash(r.Scenario), r.Protocol, r.PointsSent, humanRate(r.SendRate), r.Committed,
			humanRate(r.CommitRate), done, r.Lost, r.LossPercent, cpu, rss, disk, r.LoaderCPUSeconds)
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteComparisonSVG plots each report's committed points/s and cumulative
// committed share over time, one line per report.
func WriteComparisonSVG(w io.Writer, paths []string, reports []*Report) error {
	colors := []string{"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"}
	rate := PlotPanel{Title: "committed points/s", YLabel: "points/s"}
	share := PlotPanel{Title: "share of sent points committed", YLabel: "%"}
	for i, r := range reports {
		c := colors[i%len(colors)]
		a := PlotSeries{Label: labelOf(paths[i]), Color: c}
		b := PlotSeries{Label: labelOf(paths[i]), Color: c}
		for _, s := range r.Timeline {
			a.Points = append(a.Points, [2]float64{s.T, s.CommitRate})
			if r.PointsSent > 0 {
				b.Points = append(b.Points, [2]float64{s.T, 100 * s.Committed / float64(r.PointsSent)})
			}
		}
		rate.Series = append(rate.Series, a)
		share.Series = append(share.Series, b)
	}
	return WritePlotSVG(w, []PlotPanel{rate, share}, "seconds since first byte")
}

// compareMain implements `plumbago loadtest --compare a.json,b.json [--plot f.svg|f.png]`:
// an SVG of committed points/s and committed share, or a PNG graph of
// committed points/s drawn by query/graph.
func compareMain(list, plot string, stdout io.Writer) error {
	paths := strings.Split(list, ",")
	var reports []*Report
	for _, p := range paths {
		r, err := LoadReport(p)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	if err := WriteComparison(stdout, paths, reports); err != nil {
		return err
	}
	if plot == "" {
		return nil
	}
	if strings.HasSuffix(strings.ToLower(plot), ".png") {
		return WriteComparisonPNG(plot, comparisonTitle(reports), paths, reports)
	}
	f, err := os.Create(plot)
	if err != nil {
		return fmt.Errorf("writing plot %q: %w", plot, err)
	}
	if err := WriteComparisonSVG(f, paths, reports); err != nil {
		f.Close()
		return fmt.Errorf("writing plot %q: %w", plot, err)
	}
	return f.Close()
}
