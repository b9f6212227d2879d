package graph

import (
	"math"
	"slices"
	"testing"
)

// sineLines are ten n-point lines from x0, dx apart: sines about y0 of
// amplitude amp and frequency (k+1)·f per point for line k, offset
// off·(k%7).
func sineLines(n int, x0, dx, y0, amp, f, off float64) []path {
	var ps []path
	for k := 0; k < 10; k++ {
		var p path
		for i := 0; i < n; i++ {
			x := x0 + float64(i)*dx
			y := y0 - amp*math.Sin(float64(i*(k+1))*f) - off*float64(k%7)
			if i == 0 {
				p.moveTo(x, y)
			} else {
				p.lineTo(x, y)
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// benchLines are ten 1,000-point lines shaped like the speed benchmark's
// series (sines of growing frequency across a 760-pixel plot).
func benchLines() []path { return sineLines(1000, 20, 0.76, 300, 75, 1.0/97, 15) }

// graphLines are the ten lines BenchmarkGraph10x1000PNG strokes: its
// 1,000-point series consolidated two points a pixel step into 500
// points 1.508 pixels apart, 132 pixels of amplitude (steep: the stroke
// covers about 15 rows of a pixel column on average).
func graphLines() []path { return sineLines(500, 35.08, 1.508, 406, 132, 2.0/97, 26.4) }

func benchmarkStrokes(b *testing.B, ps []path, thin bool) {
	defer SetThinStrokes(thin)()
	st := &strokeStyle{width: 1.2}
	var clip clipState
	clip.p.rectangle(10, 10, 780, 580)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := newRaster(800, 600)
		for j := range ps {
			r.stroke(&ps[j], st, rgba{0.2, 0.4, 0.8, 1}, &clip)
		}
		r.release()
	}
}

// BenchmarkStrokesThin and BenchmarkStrokesGeneral draw benchLines with
// and without the thin-stroke path.
func BenchmarkStrokesThin(b *testing.B)    { benchmarkStrokes(b, benchLines(), true) }
func BenchmarkStrokesGeneral(b *testing.B) { benchmarkStrokes(b, benchLines(), false) }

// BenchmarkStrokesGraph draws graphLines with the thin-stroke path.
func BenchmarkStrokesGraph(b *testing.B) { benchmarkStrokes(b, graphLines(), true) }

// strokeBoth draws p with and without the thin-stroke path into w × h
// pictures and returns both pictures' bytes and whether the thin path
// took it.
func strokeBoth(t *testing.T, p *path, width float64, w, h int) (thin, general []byte, took bool) {
	t.Helper()
	c := rgba{0.1, 0.5, 0.9, 1}
	r := newRaster(w, h)
	r.clearOnce()
	r.lines, r.flatBuf = p.flatten(0.1, r.lines[:0], r.flatBuf)
	took = r.strokeThin(r.lines, width, c, nil)
	thin = append([]byte(nil), r.img.Pix...)
	r.release()
	defer SetThinStrokes(false)()
	g := newRaster(w, h)
	g.stroke(p, &strokeStyle{width: width}, c, nil)
	general = append([]byte(nil), g.img.Pix...)
	g.release()
	return thin, general, took
}

// TestThinStrokeFlatExact: along horizontal segments (no overlaps, ends on
// pixel borders) the thin path's coverage is exact in y, the same as the
// rasteriser's: every byte within 1, for fractional positions and widths.
func TestThinStrokeFlatExact(t *testing.T) {
	for _, tc := range []struct{ y, width float64 }{{20.5, 1.2}, {20.3, 1.2}, {33.77, 2}, {10.1, 3}, {50, 0.5}} {
		var p path
		p.moveTo(5, tc.y)
		p.lineTo(40, tc.y)
		p.lineTo(90, tc.y)
		thin, general, took := strokeBoth(t, &p, tc.width, 100, 60)
		if !took {
			t.Fatalf("%+v: the thin path declined a horizontal line", tc)
		}
		covered := 0
		for i := range thin {
			if d := int(thin[i]) - int(general[i]); d < -1 || d > 1 {
				t.Fatalf("%+v: byte %d (pixel %d,%d) is %d, the rasteriser's %d", tc, i, i/4%100, i/4/100, thin[i], general[i])
			}
			if i%4 == 3 && thin[i] != 0 {
				covered++
			}
		}
		if covered < 85 {
			t.Fatalf("%+v: %d pixels covered", tc, covered)
		}
	}
}

// TestThinStrokeUnion: where two pieces of a stroke overlap inside one
// pixel (the inner corner of a right-angle turn) the thin path counts the
// overlap once, as cairo's nonzero fill of the outline does; the
// rasteriser adds the pieces up. Pixel (9, 10) of the turn
// (0,10)-(10,10)-(10,20) at width 1.2: the horizontal piece covers 0.6 of
// it, the vertical piece 0.6, their overlap 0.36, their union 0.84: 214
// as a byte (0.84·255 rounded), the thin path's exact area. The
// rasteriser's sum is 1.2, clamped to 255.
func TestThinStrokeUnion(t *testing.T) {
	var p path
	p.moveTo(0, 10)
	p.lineTo(10, 10)
	p.lineTo(10, 20)
	thin, general, took := strokeBoth(t, &p, 1.2, 30, 30)
	if !took {
		t.Fatal("the thin path declined the turn")
	}
	a := (10*30+9)*4 + 3
	if thin[a] != 214 || general[a] != 255 {
		t.Fatalf("alpha of pixel (9,10): thin %d (want 214), rasteriser %d (want 255)", thin[a], general[a])
	}
}

// TestThinStrokeDeclines: what the thin path cannot draw exactly it
// leaves to the general path, drawing nothing.
func TestThinStrokeDeclines(t *testing.T) {
	for name, tc := range map[string]struct {
		pts   [][2]float64
		moves []int // indices that start a new subpath
		close bool
		width float64
	}{
		"leftwards":   {pts: [][2]float64{{10, 10}, {20, 12}, {15, 14}}, width: 1},
		"closed":      {pts: [][2]float64{{10, 10}, {20, 12}, {25, 14}}, close: true, width: 1},
		"wide":        {pts: [][2]float64{{10, 10}, {20, 12}}, width: 3.5},
		"overlapping": {pts: [][2]float64{{10, 10}, {20, 12}, {19, 30}, {25, 30}}, moves: []int{2}, width: 1},
		"far":         {pts: [][2]float64{{10, 10}, {2e6, 12}}, width: 1},
		"nan":         {pts: [][2]float64{{10, 10}, {math.NaN(), 12}}, width: 1},
	} {
		var p path
		for i, pt := range tc.pts {
			if i == 0 || slices.Contains(tc.moves, i) {
				p.moveTo(pt[0], pt[1])
			} else {
				p.lineTo(pt[0], pt[1])
			}
		}
		if tc.close {
			p.closePath()
		}
		thin, _, took := strokeBoth(t, &p, tc.width, 40, 40)
		if took {
			t.Errorf("%s: the thin path drew it", name)
		}
		if slices.ContainsFunc(thin, func(b byte) bool { return b != 0 }) {
			t.Errorf("%s: the thin path declined but left pixels drawn", name)
		}
	}
}
