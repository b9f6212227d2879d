package loadtest

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the soak's outcome: one row per server run and the
// verdict on the acknowledged points.
func (r *SoakReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "soak: %s backend, %.0f s, %d carbon series, sync interval %gs\n\n", r.Backend, r.Duration, r.Metrics, r.SyncInterval)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tstart s\tend s\tstopped by\trounds sent\tacknowledged\tlost (allowed)\trenders\tfailed\tmax RSS\tmax fds\tmax goroutines\t")
	for i, p := range r.Phases {
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%.0f\t\n", i, p.Start, p.End, p.Stop, p.Ticks, p.Acked,
			p.LostAllowed, p.Queries, p.QueryErrors, humanBytes(p.MaxRSSBytes), p.MaxFDs, p.MaxGoroutines)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Violations) == 0 {
		fmt.Fprintf(w, "\nall %d acknowledged points checked after the last restart are there (a kill -9 lost only points acknowledged less than %gs before it)\n",
			r.PointsChecked, r.SyncInterval)
		return nil
	}
	fmt.Fprintf(w, "\n%d VIOLATIONS:\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  %s\n", v)
	}
	return nil
}

// WriteJSON writes the report as JSON.
func (r *SoakReport) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("writing soak report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing soak report: %w", err)
	}
	return nil
}

// Panels returns the soak's timeline as plot panels: RSS, open descriptors
// and goroutines against seconds, with a gap at each restart.
func (r *SoakReport) Panels() []PlotPanel {
	rss := PlotSeries{Label: "RSS MiB", Color: "#1f77b4"}
	fds := PlotSeries{Label: "open descriptors", Color: "#d62728"}
	gor := PlotSeries{Label: "goroutines", Color: "#2ca02c"}
	for i, s := range r.Samples {
		if i > 0 && r.Samples[i-1].Phase != s.Phase {
			gap := [2]float64{s.T, math.NaN()}
			rss.Points, fds.Points, gor.Points = append(rss.Points, gap), append(fds.Points, gap), append(gor.Points, gap)
		}
		rss.Points = append(rss.Points, [2]float64{s.T, float64(s.RSSBytes) / (1 << 20)})
		fds.Points = append(fds.Points, [2]float64{s.T, float64(s.FDs)})
		g := s.Goroutines
		if g < 0 {
			g = math.NaN()
		}
		gor.Points = append(gor.Points, [2]float64{s.T, g})
	}
	var stops []string
	for _, p := range r.Phases {
		stops = append(stops, p.Stop)
	}
	title := fmt.Sprintf("soak (%s): stops %s", r.Backend, strings.Join(stops, ", "))
	return []PlotPanel{
		{Title: title + ": resident memory", YLabel: "MiB", Series: []PlotSeries{rss}},
		{Title: "open descriptors", YLabel: "descriptors", Series: []PlotSeries{fds}},
		{Title: "goroutines", YLabel: "goroutines", Series: []PlotSeries{gor}},
	}
}

// WritePlot writes the timeline as PNG when path ends in .png, else as SVG.
func (r *SoakReport) WritePlot(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing plot %q: %w", path, err)
	}
	if strings.HasSuffix(strings.ToLower(path), ".png") {
		err = WritePlotPNG(f, r.Panels())
	} else {
		err = WritePlotSVG(f, r.Panels(), "seconds since the soak started")
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("writing plot %q: %w", path, err)
	}
	return f.Close()
}

// WritePlotPNG draws panels stacked vertically as a PNG with the layout of
// WritePlotSVG: frame, four grid lines, the series (NaN = gap) and, for
// each series, a legend swatch. A PNG has no text here; the grid lines are
// at quarters of the rounded-up maximum that the SVG labels.
func WritePlotPNG(w io.Writer, panels []PlotPanel) error {
	const width, ph, left, right, top, bottom = 760, 200, 20, 20, 20, 20
	img := image.NewRGBA(image.Rect(0, 0, width, len(panels)*ph))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	grid := color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
	frame := color.RGBA{0x88, 0x88, 0x88, 0xff}
	for pi, p := range panels {
		x1, x2 := float64(left), float64(width-right)
		yTop, yBot := float64(pi*ph+top), float64(pi*ph+ph-bottom)
		maxX, maxY := p.axisMax()
		for k := 1; k < 4; k++ {
			y := yBot - (yBot-yTop)*float64(k)/4
			drawLine(img, x1, y, x2, y, grid)
		}
		drawLine(img, x1, yTop, x2, yTop, frame)
		drawLine(img, x1, yBot, x2, yBot, frame)
		drawLine(img, x1, yTop, x1, yBot, frame)
		drawLine(img, x2, yTop, x2, yBot, frame)
		for si, s := range p.Series {
			c := parseHexColor(s.Color)
			var px, py float64
			pen := false
			for _, pt := range s.Points {
				if math.IsNaN(pt[1]) || math.IsInf(pt[1], 0) {
					pen = false
					continue
				}
				x := x1 + (x2-x1)*pt[0]/maxX
				y := yBot - (yBot-yTop)*pt[1]/maxY
				if pen {
					drawLine(img, px, py, x, y, c)
					drawLine(img, px, py+1, x, y+1, c)
				}
				px, py, pen = x, y, true
			}
			for dy := 0; dy < 6; dy++ { // legend swatch, top right
				drawLine(img, x2-30, yTop+6+float64(si*10+dy), x2-10, yTop+6+float64(si*10+dy), c)
			}
		}
	}
	return png.Encode(w, img)
}

// drawLine draws a one-pixel line (DDA).
func drawLine(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		img.SetRGBA(int(math.Round(x0+(x1-x0)*t)), int(math.Round(y0+(y1-y0)*t)), c)
	}
}

// parseHexColor reads "#rrggbb" (black otherwise).
func parseHexColor(s string) color.RGBA {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return color.RGBA{0, 0, 0, 0xff}
	}
	return color.RGBA{r, g, b, 0xff}
}
