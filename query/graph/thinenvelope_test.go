package graph

import (
	"math"
	"math/rand"
	"slices"
	"testing"
)

// unionCoverage is the reference coverage of the stroke of width w along
// the open polyline pts in a w × h picture: the union of the pieces
// strokePolylines makes, its cross-section taken at 256 abscissae per
// pixel column (each piece convex: one interval), and the overlap of
// the union of the intervals with each row exact.
func unionCoverage(pts []float64, width float64, w, h int) []float64 {
	var pieces [][]float64
	strokePolylines([]polyline{{pts: slices.Clone(pts)}}, width, func(p []float64) {
		pieces = append(pieces, slices.Clone(p))
	})
	const n = 256
	cov := make([]float64, w*h)
	var iv [][2]float64
	for px := 0; px < w; px++ {
		for k := 0; k < n; k++ {
			x := float64(px) + (float64(k)+0.5)/n
			iv = iv[:0]
			for _, p := range pieces {
				lo, hi := math.Inf(1), math.Inf(-1)
				m := len(p) / 2
				for i := 0; i < m; i++ {
					x0, y0 := p[2*i], p[2*i+1]
					x1, y1 := p[2*((i+1)%m)], p[2*((i+1)%m)+1]
					if x0 == x1 || x < min(x0, x1) || x > max(x0, x1) {
						continue
					}
					y := y0 + (x-x0)*(y1-y0)/(x1-x0)
					lo, hi = min(lo, y), max(hi, y)
				}
				if lo < hi {
					iv = append(iv, [2]float64{lo, hi})
				}
			}
			slices.SortFunc(iv, func(a, b [2]float64) int {
				if a[0] < b[0] {
					return -1
				}
				if a[0] > b[0] {
					return 1
				}
				return 0
			})
			// merge, then add each merged interval's overlap with the rows
			for i := 0; i < len(iv); {
				lo, hi := iv[i][0], iv[i][1]
				j := i + 1
				for ; j < len(iv) && iv[j][0] <= hi; j++ {
					hi = max(hi, iv[j][1])
				}
				i = j
				for y := max(int(math.Floor(lo)), 0); y < h && float64(y) < hi; y++ {
					if o := min(hi, float64(y+1)) - max(lo, float64(y)); o > 0 {
						cov[y*w+px] += o / n
					}
				}
			}
		}
	}
	return cov
}

// thinAlpha strokes pts at width with the thin path into a w × h picture
// and returns each pixel's alpha and which form drew it.
func thinAlpha(t *testing.T, pts []float64, width float64, w, h int) (alpha []uint8, exact bool) {
	t.Helper()
	r := newRaster(w, h)
	defer r.release()
	r.clearOnce()
	lines := []polyline{{pts: slices.Clone(pts)}}
	exact = r.thin.envelope(lines, width/2)
	if !r.strokeThin(lines, width, rgba{0, 0, 0, 1}, nil) {
		t.Fatalf("the thin path declined %v", pts)
	}
	alpha = make([]uint8, w*h)
	for i := range alpha {
		alpha[i] = r.img.Pix[4*i+3]
	}
	return alpha, exact
}

// TestThinEnvelopeExact: on random left-to-right polylines (smooth, saw
// teeth, steep, flat, running off the picture) the exact form's coverage
// is the union of the stroke's pieces, within 1 of 255 in every pixel
// (the reference samples 256 abscissae a column), and the sampled form
// takes over, within 12, where the chains cannot be built.
func TestThinEnvelopeExact(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	const w, h = 48, 40
	exactCases := 0
	for c := 0; c < 60; c++ {
		width := []float64{0.5, 1, 1.2, 2, 3}[c%5]
		step := 0.5 + rng.Float64()*4
		var pts []float64
		x, y := -2+rng.Float64()*4, rng.Float64()*float64(h)
		for x < float64(w)+2 {
			pts = append(pts, x, y)
			x += step * (0.5 + rng.Float64())
			switch c % 4 {
			case 0: // smooth
				y += (rng.Float64() - 0.5) * 4
			case 1: // saw teeth
				y += float64(1-2*(len(pts)/2%2)) * (5 + rng.Float64()*20)
			case 2: // anything, off the picture too
				y = -10 + rng.Float64()*float64(h+20)
			default: // steep stretches and flat ones
				y += float64(len(pts)/2%3-1) * 12 * rng.Float64()
			}
		}
		got, exact := thinAlpha(t, pts, width, w, h)
		want := unionCoverage(pts, width, w, h)
		if exact {
			exactCases++
		}
		worst, at := 0, 0
		for i := range got {
			if d := int(got[i]) - int(math.Round(want[i]*255)); abs(d) > abs(worst) {
				worst, at = d, i
			}
		}
		limit := 1
		if !exact {
			limit = 12 // 16 samples a column
		}
		if abs(worst) > limit {
			t.Errorf("case %d (width %g, exact %v): pixel (%d,%d) alpha %d, the union's %.1f; points %.3f",
				c, width, exact, at%w, at/w, got[at], want[at]*255, pts)
		}
	}
	if exactCases < 30 {
		t.Errorf("the exact form drew %d of 60 cases", exactCases)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
