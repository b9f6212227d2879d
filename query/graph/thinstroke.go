package graph

import (
	"encoding/binary"
	"math"
)

// The thin-stroke path: a solid line of a few pixels' width along a
// polyline that runs left to right (a series' line) is drawn a pixel
// column at a time. At each of thinSamples sample abscissae per pixel
// the stroke's cross-section (the same convex pieces strokePolylines
// makes: segment quads and join wedges) is one vertical interval, the
// hull of the pieces' intervals there: an x-monotone polyline passes
// each abscissa once, so the pieces there overlap or touch. A pixel's
// coverage is the mean over its samples of the interval's exact overlap
// with the pixel's row: exact in y, sampled in x (cairo's scan converter
// is the transpose: exact in x, 15 samples in y). Overlapping pieces
// count once, as in cairo's nonzero fill of the stroke outline, where
// the rasteriser sums them.
const (
	thinSamples  = 16  // samples per pixel column
	thinMaxWidth = 3.0 // widest stroke drawn this way
	// thinMaxCoord bounds the coordinates this path accepts (the
	// picture is at most a few thousand pixels; far points go the
	// general way)
	thinMaxCoord = 1 << 20
)

// thinStroke holds the thin-stroke path's buffers (reused between
// strokes and pictures).
type thinStroke struct {
	// top and bot: per sample abscissa of the picture, the stroke's
	// cross-section [top, bot] (top > bot where nothing is there)
	top, bot []float32
	k0, k1   int // samples touched (k0 > k1: none)
	// per picture row: the column sweep's run and fractional sums
	run, frac []float32
	// the current polyline's pieces' x extent
	plMin, plMax float64
}

// strokeThin draws the solid stroke of width w along lines when they
// qualify (each open, x never decreasing, the polylines side by side in
// x without sharing a sample, coordinates bounded); else it draws
// nothing and returns false.
func (r *raster) strokeThin(lines []polyline, w float64, c rgba, clip *clipState) bool {
	if !(w > 0 && w <= thinMaxWidth) || len(lines) == 0 {
		return false
	}
	for _, pl := range lines {
		if pl.closed {
			return false
		}
		pts := pl.pts
		for i := 0; i+1 < len(pts); i += 2 {
			if !(math.Abs(pts[i]) < thinMaxCoord && math.Abs(pts[i+1]) < thinMaxCoord) ||
				i >= 2 && pts[i] < pts[i-2] {
				return false
			}
		}
	}
	ts := &r.thin
	ts.prepare(r.w, r.h)
	prevMax := math.Inf(-1)
	for i := range lines {
		ts.plMin, ts.plMax = math.Inf(1), math.Inf(-1)
		ts.polyline(dedupe(lines[i].pts), w/2)
		if ts.plMin <= prevMax {
			ts.reset()
			return false
		}
		if ts.plMax > prevMax {
			prevMax = ts.plMax
		}
	}
	r.compositeThin(c, clip)
	ts.reset()
	return true
}

// prepare sizes the buffers for a w × h picture.
func (ts *thinStroke) prepare(w, h int) {
	n := w * thinSamples
	if len(ts.top) != n {
		ts.top, ts.bot = make([]float32, n), make([]float32, n)
		for k := range ts.top {
			ts.top[k], ts.bot[k] = math.MaxFloat32, -math.MaxFloat32
		}
	}
	if len(ts.run) != h+2 {
		ts.run, ts.frac = make([]float32, h+2), make([]float32, h+2)
	}
	ts.k0, ts.k1 = n, -1
}

// reset empties the touched samples.
func (ts *thinStroke) reset() {
	for k := ts.k0; k <= ts.k1; k++ {
		ts.top[k], ts.bot[k] = math.MaxFloat32, -math.MaxFloat32
	}
	ts.k0, ts.k1 = len(ts.top), -1
}

// polyline adds the pieces strokePolylines makes of the open polyline
// pts at half width hw (the quad of each segment, the outer wedge of
// each join) to the cross-sections, each edge bounding its piece above
// or below as the piece's inner point lies below or above it.
func (ts *thinStroke) polyline(pts []float64, hw float64) {
	n := len(pts) / 2
	for s := 0; s+1 < n; s++ {
		x0, y0, x1, y1 := pts[2*s], pts[2*s+1], pts[2*s+2], pts[2*s+3]
		dx, dy := x1-x0, y1-y0
		l := math.Hypot(dx, dy)
		nx, ny := -dy/l*hw, dx/l*hw
		mx, my := (x0+x1)/2, (y0+y1)/2
		ts.edge(x0+nx, y0+ny, x1+nx, y1+ny, mx, my)
		ts.edge(x1+nx, y1+ny, x1-nx, y1-ny, mx, my)
		ts.edge(x1-nx, y1-ny, x0-nx, y0-ny, mx, my)
		ts.edge(x0-nx, y0-ny, x0+nx, y0+ny, mx, my)
		if s+2 < n {
			kind, p1x, p1y, tx, ty, p2x, p2y := joinOuter(x0, y0, x1, y1, pts[2*s+4], pts[2*s+5], hw)
			// the wedge's sides through (x1, y1) lie on the quads' ends
			switch kind {
			case joinMiter:
				ts.edge(p1x, p1y, tx, ty, x1, y1)
				ts.edge(tx, ty, p2x, p2y, x1, y1)
			case joinBevel:
				ts.edge(p1x, p1y, p2x, p2y, x1, y1)
			}
		}
	}
}

// edge adds the edge (xa,ya)-(xb,yb) of a convex piece whose inner point
// is (cx, cy) to the cross-sections at the sample abscissae it spans.
func (ts *thinStroke) edge(xa, ya, xb, yb, cx, cy float64) {
	ts.plMin, ts.plMax = min(ts.plMin, xa, xb), max(ts.plMax, xa, xb)
	if xa == xb {
		return
	}
	if xa > xb {
		xa, ya, xb, yb = xb, yb, xa, ya
	}
	// samples at (k+0.5)/thinSamples within [xa, xb]
	k0 := max(int(math.Ceil(xa*thinSamples-0.5)), 0)
	k1 := min(int(math.Floor(xb*thinSamples-0.5)), len(ts.top)-1)
	m := (yb - ya) / (xb - xa)
	if k0 > k1 {
		return
	}
	ts.k0, ts.k1 = min(ts.k0, k0), max(ts.k1, k1)
	y := float32(ya + ((float64(k0)+0.5)/thinSamples-xa)*m)
	dy := float32(m / thinSamples)
	if cy > ya+(cx-xa)*m { // the piece is below: the edge is its top
		top := ts.top[k0 : k1+1]
		for k := range top {
			top[k] = min(top[k], y)
			y += dy
		}
		return
	}
	bot := ts.bot[k0 : k1+1]
	for k := range bot {
		bot[k] = max(bot[k], y)
		y += dy
	}
}

// compositeThin composites colour c through the cross-sections'
// coverage, a pixel column at a time, and the clip (its mask read only
// outside the clip's whole pixels, as composite does).
func (r *raster) compositeThin(c rgba, clip *clipState) {
	ts := &r.thin
	if ts.k0 > ts.k1 {
		return
	}
	a8 := uint32(math.Round(c.a * 255))
	if a8 == 0 {
		return
	}
	sr := uint32(math.Round(c.r * c.a * 255))
	sg := uint32(math.Round(c.g * c.a * 255))
	sb := uint32(math.Round(c.b * c.a * 255))
	solid := sr | sg<<8 | sb<<16 | 255<<24
	var mask []uint8
	in := bbox{0, 0, r.w, r.h}
	if clip != nil {
		in = r.clipInner(clip)
	}
	h := float32(r.h)
	const scale = almost256 / thinSamples
	for px := ts.k0 / thinSamples; px <= ts.k1/thinSamples; px++ {
		rmin, rmax := r.h+1, -1
		for k := px * thinSamples; k < (px+1)*thinSamples; k++ {
			t, b := max(ts.top[k], 0), min(ts.bot[k], h)
			if !(t < b) {
				continue
			}
			ft, fb := int(t), int(b)
			ts.run[ft]++
			ts.run[fb]--
			ts.frac[fb] += b - float32(fb)
			ts.frac[ft] -= t - float32(ft)
			rmin, rmax = min(rmin, ft), max(rmax, fb)
		}
		if rmax < 0 {
			continue
		}
		var run float32
		colInside := px >= in.x0 && px < in.x1
		for y := rmin; y <= rmax; y++ {
			run += ts.run[y]
			v := (run + ts.frac[y]) * scale
			ts.run[y], ts.frac[y] = 0, 0
			if y >= r.h || v < 1 {
				continue
			}
			k := uint32(min(v, almost256))
			if !colInside || y < in.y0 || y >= in.y1 {
				if clip == nil {
					continue
				}
				if mask == nil {
					mask = r.clipMask(clip)
				}
				m := uint32(mask[y*r.w+px])
				if m == 0 {
					continue
				}
				k = (k*m + 127) / 255
			}
			d := r.img.Pix[y*r.img.Stride+px*4 : y*r.img.Stride+px*4+4 : y*r.img.Stride+px*4+4]
			if k == 255 && a8 == 255 {
				binary.LittleEndian.PutUint32(d, solid)
				continue
			}
			dp := binary.LittleEndian.Uint32(d)
			inv := 255 - (a8*k+127)/255
			binary.LittleEndian.PutUint32(d, (sr*k+(dp&0xff)*inv+127)/255|
				(sg*k+(dp>>8&0xff)*inv+127)/255<<8|
				(sb*k+(dp>>16&0xff)*inv+127)/255<<16|
				(a8*k+(dp>>24)*inv+127)/255<<24)
		}
	}
}

// thinStrokes turns the thin-stroke path on; the tests turn it off to
// compare it with the general one.
var thinStrokes = true
