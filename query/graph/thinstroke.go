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
	// per picture row y: the column sweep's run (rf[2y]) and fractional
	// (rf[2y+1]) sums, in 1/256 pixel, side by side for the cache
	rf []int32
	// the current polyline's pieces' x extent
	plMin, plMax float64
	// the exact form (thinenvelope.go): the top and bottom chains'
	// pieces, left to right; per picture row the swept column's area
	// differences; the picture's height; the rows the column touched
	upper, lower []float64
	area         []float64
	hf           float64
	rmin, rmax   int
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
	if ts.envelope(lines, w/2) {
		r.sweepEnvelope(c, clip)
		return true
	}
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
	if len(ts.rf) != 2*(h+2) {
		ts.rf = make([]int32, 2*(h+2))
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
	if n < 2 {
		return
	}
	// the first segment's unit direction (dedupe left no empty segment;
	// coordinates are bounded, so the squares do not overflow)
	ux, uy := pts[2]-pts[0], pts[3]-pts[1]
	l := math.Sqrt(ux*ux + uy*uy)
	ux, uy = ux/l, uy/l
	for s := 0; s+1 < n; s++ {
		x0, y0, x1, y1 := pts[2*s], pts[2*s+1], pts[2*s+2], pts[2*s+3]
		nx, ny := -uy*hw, ux*hw
		// the quad's x extent (x0 <= x1): the pieces' extent but for
		// miter tips
		ts.extend(x0-math.Abs(nx), x1+math.Abs(nx))
		mx, my := (x0+x1)/2, (y0+y1)/2
		ts.edge(x0+nx, y0+ny, x1+nx, y1+ny, mx, my)
		ts.edge(x1+nx, y1+ny, x1-nx, y1-ny, mx, my)
		ts.edge(x1-nx, y1-ny, x0-nx, y0-ny, mx, my)
		ts.edge(x0-nx, y0-ny, x0+nx, y0+ny, mx, my)
		if s+2 < n {
			vx, vy := pts[2*s+4]-x1, pts[2*s+5]-y1
			l := math.Sqrt(vx*vx + vy*vy)
			vx, vy = vx/l, vy/l
			kind, p1x, p1y, tx, ty, p2x, p2y := joinOuterUnit(x1, y1, ux, uy, vx, vy, hw)
			// the wedge's sides through (x1, y1) lie on the quads' ends
			switch kind {
			case joinMiter:
				ts.extend(tx, tx)
				ts.edge(p1x, p1y, tx, ty, x1, y1)
				ts.edge(tx, ty, p2x, p2y, x1, y1)
			case joinBevel:
				ts.edge(p1x, p1y, p2x, p2y, x1, y1)
			}
			ux, uy = vx, vy
		}
	}
}

// extend widens the current polyline's x extent to [x0, x1].
func (ts *thinStroke) extend(x0, x1 float64) {
	if x0 < ts.plMin {
		ts.plMin = x0
	}
	if x1 > ts.plMax {
		ts.plMax = x1
	}
}

// edge adds the edge (xa,ya)-(xb,yb) of a convex piece whose inner point
// is (cx, cy) to the cross-sections at the sample abscissae it spans.
func (ts *thinStroke) edge(xa, ya, xb, yb, cx, cy float64) {
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
// outside the clip's whole pixels, as composite does). A sample's
// interval is taken in 1/256 pixel (fixed point): it adds 256 per whole
// row it spans to the row sums' differences (run) and its ends'
// fractions to the fractional sums; a pixel's coverage is the running sum
// plus its fraction, at most thinSamples·256. The samples read are
// emptied on the way (reset then has nothing left to do).
func (r *raster) compositeThin(c rgba, clip *clipState) {
	ts := &r.thin
	if ts.k0 > ts.k1 {
		return
	}
	src, in, ok := r.thinSource(c, clip)
	if !ok {
		return
	}
	var mask []uint8
	h := float32(r.h)
	rf := ts.rf
	for px := ts.k0 / thinSamples; px <= ts.k1/thinSamples; px++ {
		tops := ts.top[px*thinSamples : px*thinSamples+thinSamples]
		bots := ts.bot[px*thinSamples : px*thinSamples+thinSamples]
		rmin, rmax := int32(r.h+1), int32(-1)
		for k, t := range tops {
			b := bots[k]
			tops[k], bots[k] = math.MaxFloat32, -math.MaxFloat32
			if t < 0 {
				t = 0
			}
			if b > h {
				b = h
			}
			if !(t < b) {
				continue
			}
			ti, bi := int32(t*256), int32(b*256)
			ft, fb := ti>>8, bi>>8
			rf[2*ft] += 256
			rf[2*ft+1] -= ti & 255
			rf[2*fb] -= 256
			rf[2*fb+1] += bi & 255
			rmin, rmax = min(rmin, ft), max(rmax, fb)
		}
		if rmax < 0 {
			continue
		}
		var acc int32
		colInside := px >= in.x0 && px < in.x1
		for y := int(rmin); y <= int(rmax); y++ {
			acc += rf[2*y]
			v := acc + rf[2*y+1]
			rf[2*y], rf[2*y+1] = 0, 0
			// v/thinSamples, a shade under 256 at full coverage
			k := uint32(max(v, 0)) * (0xffff * 16 / thinSamples) >> 20
			if k == 0 || y >= r.h {
				continue
			}
			if !colInside || y < in.y0 || y >= in.y1 {
				if k = r.clipCoverage(clip, &mask, px, y, k); k == 0 {
					continue
				}
			}
			p := r.img.Pix[y*r.img.Stride+px*4 : y*r.img.Stride+px*4+4 : y*r.img.Stride+px*4+4]
			binary.LittleEndian.PutUint32(p, src.over(binary.LittleEndian.Uint32(p), k))
		}
	}
	ts.k0, ts.k1 = len(ts.top), -1
}

// clipCoverage is coverage k of pixel (x, y) through the clip's mask
// (made on first use into *mask); 0 without a clip.
func (r *raster) clipCoverage(clip *clipState, mask *[]uint8, x, y int, k uint32) uint32 {
	if clip == nil {
		return 0
	}
	if *mask == nil {
		*mask = r.clipMask(clip)
	}
	return (k*uint32((*mask)[y*r.w+x]) + 127) / 255
}

// thinSource is colour c ready for compositing and the box of the
// clip's whole pixels (the picture without a clip); false when c is
// transparent.
func (r *raster) thinSource(c rgba, clip *clipState) (overSource, bbox, bool) {
	src, ok := newOverSource(c)
	in := bbox{0, 0, r.w, r.h}
	if ok && clip != nil {
		in = r.clipInner(clip)
	}
	return src, in, ok
}

// thinStrokes turns the thin-stroke path on; the tests turn it off to
// compare it with the general one.
var thinStrokes = true
