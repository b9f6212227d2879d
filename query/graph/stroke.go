package graph

import "math"

// strokeStyle is how a path is stroked: butt caps and miter joins with
// cairo's default miter limit of 10 (all glyph.py uses).
type strokeStyle struct {
	width      float64
	dash       []float64
	dashOffset float64
}

const miterLimit = 10

// dashPolylines cuts the polylines into the dash pattern's "on" pieces;
// the pattern restarts at offset on every subpath, as cairo's does.
func dashPolylines(in []polyline, dash []float64, offset float64) []polyline {
	total := 0.0
	for _, d := range dash {
		total += d
	}
	if len(dash) == 0 || total <= 0 {
		return in
	}
	if len(dash)%2 == 1 {
		dash = append(append([]float64(nil), dash...), dash...)
		total *= 2
	}
	var out []polyline
	for _, pl := range in {
		pts := pl.pts
		if pl.closed && len(pts) >= 4 {
			pts = append(append([]float64(nil), pts...), pts[0], pts[1])
		}
		// position in the pattern
		i := 0
		rem := math.Mod(offset, total)
		for rem >= dash[i] {
			rem -= dash[i]
			i = (i + 1) % len(dash)
		}
		left := dash[i] - rem // length left in dash element i
		on := i%2 == 0
		var cur []float64
		if on {
			cur = []float64{pts[0], pts[1]}
		}
		for k := 2; k+1 < len(pts); k += 2 {
			x0, y0, x1, y1 := pts[k-2], pts[k-1], pts[k], pts[k+1]
			segLen := math.Hypot(x1-x0, y1-y0)
			pos := 0.0
			for segLen-pos > left {
				pos += left
				t := pos / segLen
				x, y := x0+(x1-x0)*t, y0+(y1-y0)*t
				if on {
					cur = append(cur, x, y)
					out = append(out, polyline{pts: cur})
					cur = nil
				} else {
					cur = []float64{x, y}
				}
				on = !on
				i = (i + 1) % len(dash)
				left = dash[i]
			}
			left -= segLen - pos
			if on {
				cur = append(cur, x1, y1)
			}
		}
		if on && len(cur) >= 4 {
			out = append(out, polyline{pts: cur})
		}
	}
	return out
}

// polygonSink receives the convex pieces of a stroke outline.
type polygonSink func(pts []float64)

// strokePolylines outlines the polylines at width w as convex polygons
// (one quad per segment, miter or bevel wedges at the joins), each wound
// the same way so overlaps add up under a nonzero fill.
func strokePolylines(in []polyline, w float64, sink polygonSink) {
	hw := w / 2
	var buf [10]float64
	emit := func(pts []float64) {
		// orient positively (shoelace)
		a := 0.0
		n := len(pts) / 2
		for i := 0; i < n; i++ {
			j := (i + 1) % n
			a += pts[2*i]*pts[2*j+1] - pts[2*j]*pts[2*i+1]
		}
		if a < 0 {
			for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
				pts[2*i], pts[2*j] = pts[2*j], pts[2*i]
				pts[2*i+1], pts[2*j+1] = pts[2*j+1], pts[2*i+1]
			}
		}
		sink(pts)
	}
	for _, pl := range in {
		pts := dedupe(pl.pts)
		n := len(pts) / 2
		if n < 2 {
			continue
		}
		segs := n - 1
		if pl.closed {
			segs = n
		}
		for s := 0; s < segs; s++ {
			x0, y0 := pts[2*s], pts[2*s+1]
			e := (s + 1) % n
			x1, y1 := pts[2*e], pts[2*e+1]
			dx, dy := x1-x0, y1-y0
			l := math.Hypot(dx, dy)
			nx, ny := -dy/l*hw, dx/l*hw
			q := buf[:8]
			q[0], q[1], q[2], q[3] = x0+nx, y0+ny, x1+nx, y1+ny
			q[4], q[5], q[6], q[7] = x1-nx, y1-ny, x0-nx, y0-ny
			emit(q)
			// join at the end of this segment
			if s+1 < segs || pl.closed {
				f := (e + 1) % n
				x2, y2 := pts[2*f], pts[2*f+1]
				join(x0, y0, x1, y1, x2, y2, hw, buf[:], emit)
			}
		}
	}
}

// join emits the wedge between segments (x0,y0)-(x1,y1) and
// (x1,y1)-(x2,y2) on the outer side: a miter when within the limit,
// else a bevel.
func join(x0, y0, x1, y1, x2, y2, hw float64, buf []float64, emit func([]float64)) {
	kind, p1x, p1y, tx, ty, p2x, p2y := joinOuter(x0, y0, x1, y1, x2, y2, hw)
	switch kind {
	case joinMiter:
		q := buf[:8]
		q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7] = x1, y1, p1x, p1y, tx, ty, p2x, p2y
		emit(q)
	case joinBevel:
		q := buf[:6]
		q[0], q[1], q[2], q[3], q[4], q[5] = x1, y1, p1x, p1y, p2x, p2y
		emit(q)
	}
}

// The kinds of join joinOuter finds.
const (
	joinNone = iota
	joinBevel
	joinMiter
)

// joinOuter is the outer side of the join at (x1,y1) between segments
// (x0,y0)-(x1,y1) and (x1,y1)-(x2,y2): the ends p1 and p2 of the two
// segments' offset edges there, and for a miter within the limit its tip
// t. Straight on (or a zero-length segment) there is no join.
func joinOuter(x0, y0, x1, y1, x2, y2, hw float64) (kind int, p1x, p1y, tx, ty, p2x, p2y float64) {
	ax, ay := x1-x0, y1-y0
	bx, by := x2-x1, y2-y1
	la, lb := math.Hypot(ax, ay), math.Hypot(bx, by)
	if la == 0 || lb == 0 {
		return joinNone, 0, 0, 0, 0, 0, 0
	}
	return joinOuterUnit(x1, y1, ax/la, ay/la, bx/lb, by/lb, hw)
}

// joinOuterUnit is joinOuter at (x1,y1) from the segments' unit
// directions a and b.
func joinOuterUnit(x1, y1, ax, ay, bx, by, hw float64) (kind int, p1x, p1y, tx, ty, p2x, p2y float64) {
	cross := ax*by - ay*bx
	if math.Abs(cross) < 1e-12 && ax*bx+ay*by > 0 {
		return joinNone, 0, 0, 0, 0, 0, 0 // straight on
	}
	// outer side normal sign
	sgn := 1.0
	if cross > 0 {
		sgn = -1
	}
	n1x, n1y := -ay*hw*sgn, ax*hw*sgn
	n2x, n2y := -by*hw*sgn, bx*hw*sgn
	p1x, p1y = x1+n1x, y1+n1y
	p2x, p2y = x1+n2x, y1+n2y
	cosT := ax*bx + ay*by // cos of the turn
	// miter length ratio 1/sin(theta/2) with theta the inner angle
	// cos(turn/2) = sin(inner/2); the half clamped at 0 as math.Max(0, h)
	// does (-0 and below give +0, NaN stays NaN) without its call
	h := (1 + cosT) / 2
	if h <= 0 {
		h = 0
	}
	sinHalf := math.Sqrt(h)
	if sinHalf > 1.0/miterLimit {
		// miter tip: intersection of the offset lines (n1 + n2 is at most
		// 2·hw long: no overflow in the square)
		mx, my := n1x+n2x, n1y+n2y
		if ml := math.Sqrt(mx*mx + my*my); ml > 0 {
			d := hw / sinHalf
			return joinMiter, p1x, p1y, x1 + mx/ml*d, y1 + my/ml*d, p2x, p2y
		}
	}
	return joinBevel, p1x, p1y, 0, 0, p2x, p2y
}

// dedupe drops consecutive repeated points (they have no direction), in
// place.
func dedupe(pts []float64) []float64 {
	out := pts[:0]
	for i := 0; i+1 < len(pts); i += 2 {
		if n := len(out); n >= 2 && out[n-2] == pts[i] && out[n-1] == pts[i+1] {
			continue
		}
		out = append(out, pts[i], pts[i+1])
	}
	return out
}
