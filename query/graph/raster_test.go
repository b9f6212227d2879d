package graph

import (
	"image"
	"image/draw"
	"math"
	"testing"

	"golang.org/x/image/vector"
)

// TestTilesMatchWholeBounds: a stroke rasterised tile by tile (and, with
// pieces too large for tiles, as one tile) has the coverage of one pass
// over its whole bounds: every channel of every pixel within 1 (the
// float sums run in another order).
func TestTilesMatchWholeBounds(t *testing.T) {
	defer SetThinStrokes(false)() // the general path's tiles are tested
	for _, width := range []float64{1.2, 3, 150} {
		var p path
		for i := 0; i <= 400; i++ {
			x := 5 + float64(i)*0.75
			y := 100 + 80*math.Sin(float64(i)/7) + 10*math.Sin(float64(i)*1.3)
			if i == 0 {
				p.moveTo(x, y)
			} else {
				p.lineTo(x, y)
			}
		}
		c := rgba{0.8, 0.1, 0.3, 1}
		st := &strokeStyle{width: width}
		tiled := newRaster(310, 200)
		tiled.stroke(&p, st, c, nil)
		got := append([]byte(nil), tiled.img.Pix...)
		tiled.release()
		whole := newRaster(310, 200)
		whole.clearOnce()
		whole.lines, whole.flatBuf = p.flatten(0.1, whole.lines[:0], whole.flatBuf)
		lines := whole.lines
		whole.paint(c, nil, func(add func([]float64)) { strokePolylines(lines, width, polygonSink(add)) })
		want := whole.img.Pix
		covered := 0
		for i := range want {
			if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
				t.Fatalf("width %g: byte %d (pixel %d,%d) is %d, one pass gives %d", width, i, i/4%310, i/4/310, got[i], want[i])
			}
			if i%4 == 3 && want[i] != 0 {
				covered++
			}
		}
		whole.release()
		if covered < 1000 {
			t.Fatalf("width %g: only %d pixels covered", width, covered)
		}
	}
}

// TestAxisLineMatchesRasteriser: a horizontal or vertical one-segment
// stroke (grid lines, axes), drawn as the rectangle it covers, has the
// rasteriser's coverage: every byte within 1 of the general stroke path,
// at fractional positions and widths, partly off the picture too.
func TestAxisLineMatchesRasteriser(t *testing.T) {
	c := rgba{0.3, 0.6, 0.9, 0.8}
	for _, tc := range []struct{ x0, y0, x1, y1, width float64 }{
		{10.3, 20.5, 290.7, 20.5, 0.4},
		{10, 20, 290, 20, 1},
		{33.25, 5.5, 33.25, 190.1, 0.25},
		{-20, 99.9, 400, 99.9, 3.3},
		{150.5, -10, 150.5, 250, 0.33},
		{299.8, 10, 299.8, 60, 2},
	} {
		var p path
		p.moveTo(tc.x0, tc.y0)
		p.lineTo(tc.x1, tc.y1)
		fast := newRaster(300, 200)
		fast.stroke(&p, &strokeStyle{width: tc.width}, c, nil)
		got := append([]byte(nil), fast.img.Pix...)
		fast.release()

		slow := newRaster(300, 200)
		slow.clearOnce()
		slow.lines, slow.flatBuf = p.flatten(0.1, slow.lines[:0], slow.flatBuf)
		slow.polys.reset()
		strokePolylines(slow.lines, tc.width, slow.polys.add)
		slow.paintTiles(c, nil)
		want := slow.img.Pix
		covered := 0
		for i := range want {
			if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
				t.Fatalf("%+v: byte %d (pixel %d,%d) is %d, the rasteriser gives %d", tc, i, i/4%300, i/4/300, got[i], want[i])
			}
			if i%4 == 3 && want[i] != 0 {
				covered++
			}
		}
		slow.release()
		if covered == 0 {
			t.Fatalf("%+v: nothing drawn", tc)
		}
	}
}

// TestRectClipMatchesRasteriser: a rectangular clip's mask, computed as
// the rectangle's area per pixel, is the rasteriser's within 1.
func TestRectClipMatchesRasteriser(t *testing.T) {
	for _, rc := range [][4]float64{{10.5, 20.25, 250.75, 180.5}, {0, 0, 300, 200}, {-5, 7.7, 120, 400}, {42, 42, 42, 80}} {
		var p path
		p.rectangle(rc[0], rc[1], rc[2]-rc[0], rc[3]-rc[1])
		r := newRaster(300, 200)
		got := r.clipMask(&clipState{p: p})
		var rz vector.Rasterizer
		rz.Reset(300, 200)
		rz.DrawOp = draw.Src
		rz.MoveTo(float32(rc[0]), float32(rc[1]))
		rz.LineTo(float32(rc[2]), float32(rc[1]))
		rz.LineTo(float32(rc[2]), float32(rc[3]))
		rz.LineTo(float32(rc[0]), float32(rc[3]))
		rz.ClosePath()
		want := image.NewAlpha(image.Rect(0, 0, 300, 200))
		rz.Draw(want, want.Rect, image.Opaque, image.Point{})
		for i := range want.Pix {
			if d := int(got[i]) - int(want.Pix[i]); d < -1 || d > 1 {
				t.Fatalf("%v: pixel %d,%d is %d, the rasteriser gives %d", rc, i%300, i/300, got[i], want.Pix[i])
			}
		}
		r.release()
	}
}

// TestAxisLinesShareNoPixel: a path of two vertical segments far apart
// (the plot's borders) is drawn as two rectangles, and one of two
// crossing segments through the rasteriser (their coverage adds up where
// they cross): both within 1 of the general stroke path.
func TestAxisLinesShareNoPixel(t *testing.T) {
	c := rgba{0.5, 0.5, 0.5, 1}
	for _, segs := range [][]float64{
		{20.5, 190, 20.5, 10, 280.25, 190, 280.25, 10},
		{20, 100.5, 280, 100.5, 150.5, 10, 150.5, 190},
	} {
		var p path
		for i := 0; i < len(segs); i += 4 {
			p.moveTo(segs[i], segs[i+1])
			p.lineTo(segs[i+2], segs[i+3])
		}
		fast := newRaster(300, 200)
		fast.stroke(&p, &strokeStyle{width: 0.5}, c, nil)
		got := append([]byte(nil), fast.img.Pix...)
		fast.release()
		slow := newRaster(300, 200)
		slow.clearOnce()
		slow.lines, slow.flatBuf = p.flatten(0.1, slow.lines[:0], slow.flatBuf)
		slow.polys.reset()
		strokePolylines(slow.lines, 0.5, slow.polys.add)
		slow.paintTiles(c, nil)
		for i, want := range slow.img.Pix {
			if d := int(got[i]) - int(want); d < -1 || d > 1 {
				t.Fatalf("%v: byte %d (pixel %d,%d) is %d, the rasteriser gives %d", segs, i, i/4%300, i/4/300, got[i], want)
			}
		}
		slow.release()
	}
}

// TestAxisLineFarOff: horizontal and vertical strokes and rectangular
// clips with far-off or infinite ends (a value far beyond yMax) draw
// what of them is in the picture, without panicking.
func TestAxisLineFarOff(t *testing.T) {
	for _, v := range []float64{1e300, -1e300, math.Inf(1), math.Inf(-1), 1e18} {
		r := newRaster(50, 40)
		for _, seg := range [][4]float64{{0, v, 50, v}, {v, 0, v, 40}, {10, 20, 10, v}, {v, 20, 5, 20}} {
			var p path
			p.moveTo(seg[0], seg[1])
			p.lineTo(seg[2], seg[3])
			r.stroke(&p, &strokeStyle{width: 1}, rgba{1, 0, 0, 1}, nil)
			var q path
			q.rectangle(5, 5, v-5, v-5)
			cl := &clipState{p: q}
			r.clipMask(cl)
			r.clipInner(cl)
		}
		r.release()
	}
	r := newRaster(50, 40)
	var p path
	p.moveTo(10, 20)
	p.lineTo(10, 1e300)
	r.stroke(&p, &strokeStyle{width: 2}, rgba{0, 0, 0, 1}, nil)
	// the column from y 20 down is covered: pixels 9 and 10 wholly
	for _, c := range []struct{ x, y, a int }{{9, 39, 255}, {10, 25, 255}, {9, 19, 0}, {11, 30, 0}} {
		if a := int(r.img.Pix[(c.y*50+c.x)*4+3]); a != c.a {
			t.Fatalf("pixel %d,%d alpha %d, want %d", c.x, c.y, a, c.a)
		}
	}
	r.release()
}

// TestOverMatchesPerChannel: the four-lane OVER gives, for every source
// alpha, coverage and destination byte, the per-channel formula's
// (s·k + d·(255 − round(a·k/255)) + 127)/255.
func TestOverMatchesPerChannel(t *testing.T) {
	ref := func(s, d, k, inv uint32) uint32 { return (s*k + d*inv + 127) / 255 }
	for a8 := uint32(1); a8 < 256; a8++ {
		src := premultiplied(a8, a8*2/3, a8/3, a8)
		for k := uint32(1); k < 256; k++ {
			inv := 255 - (a8*k+127)/255
			for d := uint32(0); d < 256; d++ {
				dp := d | (255-d)<<8 | (d/2)<<16 | 255<<24
				want := ref(a8, d, k, inv) | ref(a8*2/3, 255-d, k, inv)<<8 | ref(a8/3, d/2, k, inv)<<16 | ref(a8, 255, k, inv)<<24
				if got := src.over(dp, k); got != want {
					t.Fatalf("a %d k %d d %d: %08x, want %08x", a8, k, d, got, want)
				}
			}
		}
	}
}
