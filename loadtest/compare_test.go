package loadtest

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	a := &Report{Scenario: "W1", Protocol: CarbonTCP, PointsSent: 1000, SendRate: 2000, Committed: 1000, AllCommitted: true,
		CommitSeconds: 2, CommitRate: 500, ServerCPUSeconds: 1.5, ServerPeakRSS: 64 << 20, DiskBytesPerPoint: 12.25, LoaderCPUSeconds: 0.01,
		Timeline: []Sample{{T: 1, Committed: 400, CommitRate: 400, VisibilityMS: math.NaN(), QueryP99MS: math.NaN()}, {T: 2, Committed: 1000, CommitRate: 600, VisibilityMS: math.NaN(), QueryP99MS: math.NaN()}}}
	b := &Report{Scenario: "W1", Protocol: CarbonTCP, PointsSent: 1000, Committed: 900, Lost: 100, LossPercent: 10}
	pa, pb := filepath.Join(dir, "fast.json"), filepath.Join(dir, "slow.json")
	if err := a.WriteJSON(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteJSON(pb); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	plot := filepath.Join(dir, "cmp.svg")
	if err := Main([]string{"--compare", pa + "," + pb, "--plot", plot}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"| fast | W1 | carbon-tcp | 1000 | 2.0k/s | 1000 | **500/s** | 2.0 s | 0 (0.00%) | 1.5 s | 64.0 MiB | 12.2 | 0.01 s |",
		"| slow | W1 | carbon-tcp | 1000 | 0/s | 900 | **0/s** | not all | 100 (10.00%) | – | – | – | 0.00 s |",
	}
	if len(lines) != 4 || lines[2] != want[0] || lines[3] != want[1] {
		t.Fatalf("comparison:\n%s\nwant rows:\n%s", out.String(), strings.Join(want, "\n"))
	}
	svg, err := os.ReadFile(plot)
	if err != nil || !bytes.Contains(svg, []byte(">fast</text>")) || !bytes.Contains(svg, []byte("share of sent points committed")) {
		t.Fatalf("plot: %v\n%.300s", err, svg)
	}
}

func TestComparePNG(t *testing.T) {
	dir := t.TempDir()
	a := &Report{Scenario: "W1", Metrics: 10, PointsPerMetric: 100, PointsSent: 1000, Committed: 1000, AllCommitted: true,
		Timeline: []Sample{{T: 0.5, Committed: 100}, {T: 1.5, Committed: 700}, {T: 3, Committed: 1000}}}
	pa := filepath.Join(dir, "a.json")
	if err := a.WriteJSON(pa); err != nil {
		t.Fatal(err)
	}
	// Share committed at each whole second, linear between samples: 0 at 0 s
	// (before the first sample, from 0), 400 by 1 s, 800 by 2 s, 1000 by 3 s.
	s := comparisonSeries([]string{pa}, []*Report{a})
	if len(s) != 1 || s[0].Name != "a" || s[0].Step != 1 || s[0].Start != 0 || s[0].End != 4 {
		t.Fatalf("series: %+v", s)
	}
	if want := []float64{0, 40, 80, 100}; !slices.Equal(s[0].Values, want) {
		t.Fatalf("values %v, want %v", s[0].Values, want)
	}
	plot := filepath.Join(dir, "cmp.png")
	if err := Main([]string{"--compare", pa, "--plot", plot}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 900 || cfg.Height != 450 {
		t.Fatalf("png: %v %+v", err, cfg)
	}
}
