package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
)

// WriteSummary prints the end-of-run table.
func (r *Report) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, args...)) }
	fmt.Fprintf(tw, "load test %s: %s to %s over %d connection(s)\n", orDash(r.Scenario), r.Protocol, r.Target, r.Connections)
	row("series x points", "%d x %d", r.Metrics, r.PointsPerMetric)
	row("payload", "%s built in %.2fs (before the clock)", humanBytes(r.PayloadBytes), r.BuildSeconds)
	row("points sent", "%d in %d writes, %s", r.PointsSent, r.Writes, humanBytes(r.BytesSent))
	row("send time", "%.3fs (%s points/s)", r.SendSeconds, humanRate(r.SendRate))
	if r.CommittedSource != "" {
		row("committed", "%.0f (%s)", r.Committed, r.CommittedSource)
		status := "all points"
		if !r.AllCommitted {
			status = "NOT all points (stopped moving or timed out)"
		}
		row("end to end", "%s points/s: %s committed %.3fs after the first byte", humanRate(r.CommitRate), status, r.CommitSeconds)
		row("lost", "%.0f (%.4f%%)", r.Lost, r.LossPercent)
	}
	if r.KernelUDPDrops > 0 {
		row("kernel UDP drops", "%d datagrams (receive buffers full, whole machine)", r.KernelUDPDrops)
	}
	if r.StoredFiles > 0 {
		row("stored (counted)", "%d points in %d whisper files", r.StoredPoints, r.StoredFiles)
	}
	if r.Received != 0 {
		row("server received", "%.0f", r.Received)
	}
	if r.Dropped != 0 {
		row("server dropped", "%.0f", r.Dropped)
	}
	if r.Visibility.Count+r.Visibility.Errors > 0 {
		v := r.Visibility
		row("visibility latency", "p50 %.1fms  p90 %.1fms  p99 %.1fms  max %.1fms  (%d samples, %d not seen in 60s)", v.P50MS, v.P90MS, v.P99MS, v.MaxMS, v.Count, v.Errors)
	}
	if r.Queries.Count+r.Queries.Errors > 0 {
		q := r.Queries
		row("render queries", "%.1f/s  p50 %.1fms  p90 %.1fms  p99 %.1fms  max %.1fms  (%d ok, %d failed or skipped)", r.QueryRate, q.P50MS, q.P90MS, q.P99MS, q.MaxMS, q.Count, q.Errors)
	}
	if r.ServerCPUSeconds > 0 || r.ServerPeakRSS > 0 {
		row("server cpu", "%.2fs (%.0f%% of one core)", r.ServerCPUSeconds, r.ServerCPUPercent)
		row("server rss", "%s now, %s peak", humanBytes(r.ServerRSSBytes), humanBytes(r.ServerPeakRSS))
	}
	if r.DiskBytes != 0 {
		settled := ""
		if r.StoreSettleSeconds > 0 {
			settled = fmt.Sprintf(" (measured %.0fs after the last commit)", r.StoreSettleSeconds)
		}
		row("disk", "%s added, %.2f bytes per point sent%s", humanBytes(r.DiskBytes), r.DiskBytesPerPoint, settled)
	}
	if r.Data != "" {
		ratio := ""
		if r.DiskBytesPerPoint > 0 && r.EntropyBytesPerPoint > 0 {
			ratio = fmt.Sprintf("; the store takes %.2fx that", r.DiskBytesPerPoint/r.EntropyBytesPerPoint)
		}
		row("data entropy", "%.3f bytes per point (%s data, values given the previous value)%s", r.EntropyBytesPerPoint, r.Data, ratio)
	}
	row("loader cpu", "%.2fs (%.0f%% of one core)", r.LoaderCPUSeconds, r.LoaderCPUPercent)
	for _, e := range r.Errors {
		row("error", "%s", e)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// jsonFloat writes NaN as null.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// WriteJSON writes the report as indented JSON (NaN as null).
func (r *Report) WriteJSON(path string) error {
	type sample struct {
		T            float64   `json:"t"`
		Sent         int64     `json:"sent"`
		Committed    float64   `json:"committed"`
		SendRate     float64   `json:"send_rate"`
		CommitRate   float64   `json:"commit_rate"`
		VisibilityMS jsonFloat `json:"visibility_ms"`
		QueryP99MS   jsonFloat `json:"query_p99_ms"`
		CPUPercent   float64   `json:"loader_cpu_percent"`
		ServerCPU    float64   `json:"server_cpu_percent"`
	}
	type alias Report
	out := struct {
		*alias
		Timeline []sample `json:"timeline"`
	}{alias: (*alias)(r)}
	for _, s := range r.Timeline {
		out.Timeline = append(out.Timeline, sample{s.T, s.Sent, s.Committed, s.SendRate, s.CommitRate,
			jsonFloat(s.VisibilityMS), jsonFloat(s.QueryP99MS), s.CPUPercent, s.ServerCPU})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing report %q: %w", path, err)
	}
	return nil
}

// PlotSeries is one line on a plot panel.
type PlotSeries struct {
	Label  string
	Color  string
	Points [][2]float64 // x, y; NaN y = gap
}

// PlotPanel is one chart: a y axis and its lines.
type PlotPanel struct {
	Title, YLabel string
	Series        []PlotSeries
}

// WriteSVG renders the run's timeline: throughput (sent and committed
// points/s) and latency (visibility, render p99) against seconds.
func (r *Report) WriteSVG(path string) error {
	var sent, comm, vis, q99 PlotSeries
	sent = PlotSeries{Label: "sent points/s", Color: "#1f77b4"}
	comm = PlotSeries{Label: "committed points/s", Color: "#d62728"}
	vis = PlotSeries{Label: "visibility ms", Color: "#2ca02c"}
	q99 = PlotSeries{Label: "render p99 ms", Color: "#9467bd"}
	for _, s := range r.Timeline {
		sent.Points = append(sent.Points, [2]float64{s.T, s.SendRate})
		if r.CommittedSource != "" {
			comm.Points = append(comm.Points, [2]float64{s.T, s.CommitRate})
		}
		vis.Points = append(vis.Points, [2]float64{s.T, s.VisibilityMS})
		q99.Points = append(q99.Points, [2]float64{s.T, s.QueryP99MS})
	}
	title := fmt.Sprintf("%s: %s to %s", orDash(r.Scenario), r.Protocol, r.Target)
	panels := []PlotPanel{{Title: title + ": throughput", YLabel: "points/s", Series: []PlotSeries{sent, comm}}}
	if r.Visibility.Count > 0 || r.Queries.Count > 0 {
		panels = append(panels, PlotPanel{Title: "latency", YLabel: "ms", Series: []PlotSeries{vis, q99}})
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing plot %q: %w", path, err)
	}
	if err := WritePlotSVG(f, panels, "seconds since first byte"); err != nil {
		f.Close()
		return fmt.Errorf("writing plot %q: %w", path, err)
	}
	return f.Close()
}

// WritePlotSVG draws panels stacked vertically as a standalone SVG.
func WritePlotSVG(w io.Writer, panels []PlotPanel, xLabel string) error {
	const width, ph, left, right, top, bottom = 760, 260, 80, 20, 30, 40
	height := len(panels) * ph
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	for pi, p := range panels {
		y0 := pi * ph
		x1, x2 := float64(left), float64(width-right)
		yTop, yBot := float64(y0+top), float64(y0+ph-bottom)
		maxX, maxY := p.axisMax()
		fmt.Fprintf(&b, `<text x="%g" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", x1, y0+18, escape(p.Title))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#888"/>`+"\n", x1, yTop, x2-x1, yBot-yTop)
		for k := 0; k <= 4; k++ {
			yv := maxY * float64(k) / 4
			y := yBot - (yBot-yTop)*float64(k)/4
			fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#eee"/>`+"\n", x1, y, x2, y)
			fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n", x1-4, y+4, axisLabel(yv))
			xv := maxX * float64(k) / 4
			x := x1 + (x2-x1)*float64(k)/4
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n", x, yBot+14, axisLabel(xv))
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", (x1+x2)/2, yBot+30, escape(xLabel))
		fmt.Fprintf(&b, `<text transform="translate(14,%g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (yTop+yBot)/2, escape(p.YLabel))
		for si, s := range p.Series {
			var path strings.Builder
			pen := false
			for _, pt := range s.Points {
				if math.IsNaN(pt[1]) || math.IsInf(pt[1], 0) {
					pen = false
					continue
				}
				x := x1 + (x2-x1)*pt[0]/maxX
				y := yBot - (yBot-yTop)*pt[1]/maxY
				if pen {
					fmt.Fprintf(&path, " L%.1f,%.1f", x, y)
				} else {
					fmt.Fprintf(&path, " M%.1f,%.1f", x, y)
					pen = true
				}
			}
			if path.Len() > 0 {
				fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.TrimSpace(path.String()), s.Color)
			}
			lx := x2 - 170
			ly := yTop + 14 + float64(si)*14
			fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"/><text x="%g" y="%g">%s</text>`+"\n",
				lx, ly-4, lx+18, ly-4, s.Color, lx+22, ly, escape(s.Label))
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for v <= 0).
// axisMax returns the ends of p's axes: the largest x and y of its finite
// points, each rounded up by niceCeil.
func (p PlotPanel) axisMax() (maxX, maxY float64) {
	for _, s := range p.Series {
		for _, pt := range s.Points {
			if !math.IsNaN(pt[1]) && !math.IsInf(pt[1], 0) {
				maxX, maxY = math.Max(maxX, pt[0]), math.Max(maxY, pt[1])
			}
		}
	}
	return niceCeil(maxX), niceCeil(maxY)
}

func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func axisLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
