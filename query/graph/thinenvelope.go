package graph

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// The thin-stroke path's exact form. Where a stroke's polyline is made
// of segments no shorter than half the stroke's width, its outline is
// the polyline's two offset chains: on each side the segments' offset
// edges, cut where two of them cross on the inner side of a turn and
// joined by the miter or bevel wedge on the outer side, with the end
// caps at the polyline's ends. The caps and quads between (the pieces
// strokePolylines makes) lie inside that outline, so at each abscissa
// the stroke's cross-section is [top(x), bot(x)] with top and bot those
// two chains, piecewise linear functions of x. A pixel's coverage is
// then the exact area between them within the pixel (exact in x and y,
// cairo's scan converter being exact in x and 15 samples in y):
// swept a pixel column at a time, each chain piece adds, per row it
// crosses, the area of the cell below it (top, positive) or the cell
// below it (bot, negative) as differences down the column, and a
// running sum down the rows gives each pixel's coverage. A steep piece
// costs one addition per row it crosses, a flat one two: no samples.
//
// Where the chains cannot be built this way (a segment shorter than half
// the width, a cut past a segment's end, a chain going back in x) the
// sampled form in thinstroke.go draws the stroke.

// envelope builds the chains of lines (each open, x never decreasing,
// coordinates bounded) at half width hw into ts.upper and ts.lower; false
// when one of them cannot be built or two polylines overlap in x.
func (ts *thinStroke) envelope(lines []polyline, hw float64) bool {
	up := chainSide{chainBuilder: chainBuilder{dst: ts.upper[:0]}}
	lo := chainSide{chainBuilder: chainBuilder{dst: ts.lower[:0]}}
	defer func() { ts.upper, ts.lower = up.dst, lo.dst }()
	prevMax := math.Inf(-1)
	for i := range lines {
		pts := dedupe(lines[i].pts)
		if len(pts) < 4 {
			continue
		}
		nu, nl := len(up.dst), len(lo.dst)
		if !chains(&up, &lo, pts, hw) {
			return false
		}
		if len(up.dst) == nu {
			continue // no extent in x: nothing to draw
		}
		// both chains span the same x (they meet at the ends); the
		// polylines must lie side by side
		first, last := up.dst[nu], up.dst[len(up.dst)-pieceLen+2]
		if len(lo.dst) == nl || first < prevMax || lo.dst[nl] != first || lo.dst[len(lo.dst)-pieceLen+2] != last {
			return false
		}
		prevMax = last
	}
	return true
}

// pieceLen is the length of a chain piece: x0, y0, x1, y1 (x0 < x1),
// its slope dy/dx and |dx/dy|.
const pieceLen = 6

// chainBuilder appends a chain's pieces from its points; a point a hair
// left of the previous one (rounding) counts as straight below or above
// it, one further left fails the chain.
type chainBuilder struct {
	dst    []float64
	lx, ly float64
	ok     bool
}

func (c *chainBuilder) add(x, y float64) {
	switch {
	case x > c.lx:
		m := (y - c.ly) / (x - c.lx)
		c.dst = append(c.dst, c.lx, c.ly, x, y, m, 1/math.Abs(m))
	case !(x >= c.lx-1e-9):
		c.ok = false
	}
	c.lx, c.ly = max(x, c.lx), y
}

// chainSide is one side's chain being built.
type chainSide struct {
	chainBuilder
	sx, sy float64 // where the current segment's offset edge starts
}

// start starts the chain at (x, y).
func (c *chainSide) start(x, y float64) {
	c.lx, c.ly, c.ok = x, y, true
}

// edgeTo ends the current segment's offset edge (the segment's direction
// ux, uy) at (x, y): it fails the chain when that is before the edge's
// start (cut away from both ends).
func (c *chainSide) edgeTo(x, y, ux, uy float64) {
	if !((x-c.sx)*ux+(y-c.sy)*uy >= -1e-9) {
		c.ok = false
	}
	c.add(x, y)
}

// chains appends the pieces of the top (smaller y) and bottom chains of
// the stroke of the open polyline pts (deduplicated, x never
// decreasing, two points at least) at half width hw to up and lo; false
// when they are not the stroke's outline (see the top of this file).
func chains(up, lo *chainSide, pts []float64, hw float64) bool {
	n := len(pts) / 2
	ux, uy, l := unitVector(pts[0], pts[1], pts[2], pts[3])
	if n > 2 && !(l >= hw) {
		return false
	}
	// the offset edges start at the point ± hw·(-uy, ux); a side starts
	// with the start cap when the segment moves away from it
	up.sx, up.sy = pts[0]+hw*uy, pts[1]-hw*ux
	lo.sx, lo.sy = pts[0]-hw*uy, pts[1]+hw*ux
	up.start(up.sx, up.sy)
	lo.start(lo.sx, lo.sy)
	if uy > 0 {
		up.start(lo.sx, lo.sy)
		up.add(up.sx, up.sy)
	} else if uy < 0 {
		lo.start(up.sx, up.sy)
		lo.add(lo.sx, lo.sy)
	}
	for s := 0; s+2 < n; s++ {
		x1, y1 := pts[2*s+2], pts[2*s+3]
		vx, vy, lv := unitVector(x1, y1, pts[2*s+4], pts[2*s+5])
		if !(lv >= hw) {
			return false
		}
		kind, p1x, p1y, tx, ty, p2x, p2y := joinOuterUnit(x1, y1, ux, uy, vx, vy, hw)
		// the outer side (joinOuterUnit's: the top when cross > 0) gets
		// the wedge; on the inner side (both, straight on) the offset
		// lines cross at hw from both, on the bisector of the normals
		outer := up
		if ux*vy-uy*vx <= 0 {
			outer = lo
		}
		if kind == joinNone {
			outer = nil
		}
		dot := 1 + ux*vx + uy*vy
		if !(dot > 1e-9) {
			return false
		}
		ix, iy := hw*(-uy-vy)/dot, hw*(ux+vx)/dot
		for _, c := range [2]*chainSide{up, lo} {
			if c == outer {
				c.edgeTo(p1x, p1y, ux, uy)
				if kind == joinMiter {
					c.add(tx, ty)
				}
				c.add(p2x, p2y)
				c.sx, c.sy = p2x, p2y
				continue
			}
			px, py := x1+ix, y1+iy // the top one is x1 - (ix, iy)
			if c == up {
				px, py = x1-ix, y1-iy
			}
			c.edgeTo(px, py, ux, uy)
			c.sx, c.sy = px, py
		}
		ux, uy = vx, vy
	}
	x1, y1 := pts[2*n-2], pts[2*n-1]
	up.edgeTo(x1+hw*uy, y1-hw*ux, ux, uy)
	lo.edgeTo(x1-hw*uy, y1+hw*ux, ux, uy)
	// the end cap on the side the segment moves towards
	if uy < 0 {
		up.add(lo.lx, lo.ly)
	} else if uy > 0 {
		lo.add(up.lx, up.ly)
	}
	return up.ok && lo.ok
}

// unitVector is the unit direction from (x0, y0) to (x1, y1) and the
// distance (coordinates are bounded: the squares do not overflow).
func unitVector(x0, y0, x1, y1 float64) (ux, uy, l float64) {
	ux, uy = x1-x0, y1-y0
	l = math.Sqrt(ux*ux + uy*uy)
	return ux / l, uy / l, l
}

// sweepEnvelope composites colour c through the coverage between
// ts.upper and ts.lower, a pixel column at a time, and the clip (its
// mask read only outside the clip's whole pixels, as composite does).
func (r *raster) sweepEnvelope(c rgba, clip *clipState) {
	ts := &r.thin
	up, lo := ts.upper, ts.lower
	if len(up) == 0 {
		return
	}
	src, in, ok := r.thinSource(c, clip)
	if !ok {
		return
	}
	var mask []uint8
	if len(ts.area) != r.h+2 {
		ts.area = make([]float64, r.h+2)
	}
	ts.hf = float64(r.h)
	d := ts.area
	ui, li := 0, 0
	px := max(int(math.Floor(min(up[0], lo[0]))), 0)
	for px < r.w && (ui < len(up) || li < len(lo)) {
		ts.rmin, ts.rmax = r.h+2, -1
		ui = ts.column(up, ui, px, 1)
		li = ts.column(lo, li, px, -1)
		if ts.rmax >= 0 {
			last := min(ts.rmax, r.h-1)
			// rows below the picture (the sum reached its last row):
			// mostly none, and clear's call cost more than the test
			if ts.rmax > last {
				clear(d[last+1 : ts.rmax+1])
			}
			// rows [fa, fb) lie inside the clip's whole pixels: those
			// go the fast way, the others through the clip's mask
			fa, fb := ts.rmin, ts.rmin
			if px >= in.x0 && px < in.x1 {
				if a, b := max(ts.rmin, in.y0), min(last+1, in.y1); a < b {
					fa, fb = a, b
				}
			}
			// (most columns lie wholly inside: no call for the others)
			acc := 0.0
			if ts.rmin < fa {
				acc = r.sweepMasked(src, clip, &mask, px, ts.rmin, fa, 0)
			}
			acc = sweepRows(r.img.Pix, fa*r.img.Stride+px*4, r.img.Stride, d[fa:fb], acc, src.lanes, src.a8)
			if fb <= last {
				r.sweepMasked(src, clip, &mask, px, fb, last+1, acc)
			}
		}
		// the next column with a piece in it
		next := math.Inf(1)
		if ui < len(up) {
			next = up[ui]
		}
		if li < len(lo) {
			next = min(next, lo[li])
		}
		if next == math.Inf(1) {
			break
		}
		px = max(px+1, int(math.Floor(next)))
	}
}

// sweepRows composites the source over the pixel column from byte offset off
// down (rows stride bytes apart) through the coverage of the area
// differences d, the running sum going on from acc, and empties d; it
// returns the sum. No clip: the rows lie inside its whole pixels. The
// column's last pixel is checked to lie in pix once; the pixels are
// then addressed from pix's base without a check each. The source
// comes as its lanes and alpha a8 (overSource's fields), not as the
// struct: with the struct the compiler reloaded it from the stack on
// every pixel; scalars stay in registers.
//
// A pixel's coverage byte k is the running sum a in 1/255, rounded, at
// most 255, drawn where it is 1 or more: the loop converts first and
// compares integers. The float compares (a*255+0.5 >= 1, > 255) each
// loaded their constant from memory and the clamp shuffled float
// registers. The bytes are the same for every finite a: the conversion
// truncates, so it is 1 or more exactly where the float is, and a float
// above 255 truncates to 255 or more; a NaN converts to a negative
// number and is not drawn, as before.
func sweepRows(pix []uint8, off, stride int, d []float64, acc float64, lanes uint64, a8 uint32) float64 {
	if len(d) == 0 {
		return acc
	}
	if off < 0 || stride < 4 || off+(len(d)-1)*stride+4 > len(pix) {
		sweepOutside(off, len(d), stride, len(pix))
	}
	p := unsafe.Pointer(unsafe.SliceData(pix))
	for i := range d {
		acc += d[i]
		d[i] = 0
		if k := int64(acc*255 + 0.5); k > 0 {
			k := uint32(min(k, 255))
			inv := 255 - k
			if a8 != 255 {
				inv = 255 - (a8*k+127)/255
			}
			q := (*[4]byte)(unsafe.Add(p, off))
			binary.LittleEndian.PutUint32(q[:], blendLanes(lanes, binary.LittleEndian.Uint32(q[:]), k, inv))
		}
		off += stride
	}
	return acc
}

// sweepOutside panics for a column outside the picture (out of line:
// its formatting made sweepRows keep its loop's values on the stack).
//
//go:noinline
func sweepOutside(off, rows, stride, n int) {
	panic(fmt.Sprintf("sweepRows: column from %d, %d rows %d apart, outside %d bytes", off, rows, stride, n))
}

// sweepMasked is sweepRows for the rows y0..y1-1 of column px through
// the clip's mask (made on first use into *mask); nothing is drawn
// without a clip.
func (r *raster) sweepMasked(src overSource, clip *clipState, mask *[]uint8, px, y0, y1 int, acc float64) float64 {
	d := r.thin.area
	for y := y0; y < y1; y++ {
		acc += d[y]
		d[y] = 0
		kf := acc*255 + 0.5
		if kf < 1 {
			continue
		}
		k := r.clipCoverage(clip, mask, px, y, uint32(min(kf, 255)))
		if k == 0 {
			continue
		}
		p := r.img.Pix[y*r.img.Stride+px*4 : y*r.img.Stride+px*4+4 : y*r.img.Stride+px*4+4]
		binary.LittleEndian.PutUint32(p, src.over(binary.LittleEndian.Uint32(p), k))
	}
	return acc
}

// column adds the area differences of the pieces of one chain (from
// index i on) within pixel column px, with sign +1 for the top chain and
// -1 for the bottom one, and returns the index of the first piece that
// reaches past the column.
//
// Each piece's part in the column, a straight piece of signed width w
// from height ya to yb with dxdy its signed width per unit of height,
// adds to ts.area the differences down the column of the area below it:
// in each row j the area of the cell below the piece, less that in row
// j-1. Rows above the picture fold into row 0; below it, they are
// dropped, the column's running sum then going on to the picture's
// last row. That is done here, in the loop: a call per piece kept the
// rows touched and the area's slice in memory, and spilled the loop's
// values around the call.
func (ts *thinStroke) column(pieces []float64, i, px int, sign float64) int {
	c0, c1 := float64(px), float64(px+1)
	area, hf := ts.area, ts.hf
	rmin, rmax := ts.rmin, ts.rmax
	for ; i+pieceLen <= len(pieces); i += pieceLen {
		p := pieces[i : i+pieceLen : i+pieceLen]
		x0, x1 := p[0], p[2]
		if x0 >= c1 {
			break
		}
		if x1 <= c0 {
			continue
		}
		xa, ya, xb, yb := x0, p[1], x1, p[3]
		if x0 < c0 {
			xa, ya = c0, p[1]+(c0-x0)*p[4]
		}
		if x1 > c1 {
			xb, yb = c1, p[1]+(c1-x0)*p[4]
		}
		w, dxdy := (xb-xa)*sign, p[5]*sign
		if ya > yb {
			ya, yb = yb, ya
		}
		if !(ya >= 0 && yb <= hf) {
			// a part above the picture goes into row 0, one below it
			// is dropped, the running sum reaching the last row (here,
			// not in a call: a call made the loop keep its values on
			// the stack for every piece)
			switch {
			case yb <= 0:
				area[0] += w
				rmin, rmax, w = 0, max(rmax, 0), 0
			case ya >= hf:
				rmax, w = max(rmax, int(hf)), 0
			default:
				if ya < 0 {
					wa := -ya * dxdy
					area[0] += wa
					rmin = 0
					w, ya = w-wa, 0
				}
				if yb > hf {
					rmax = max(rmax, int(hf))
					w, yb = w-(yb-hf)*dxdy, hf
				}
			}
			if w == 0 {
				if x1 > c1 {
					break
				}
				continue
			}
		}
		r0, r1 := int(ya), int(yb)
		rmin, rmax = min(rmin, r0), max(rmax, r1+1)
		// the piece's rows and the one below (n+2 of them: ya <= yb, so
		// never fewer than 2; the check lets the compiler drop the
		// bounds checks below)
		d := area[r0 : r1+2 : r1+2]
		n := len(d) - 2
		if n < 0 {
			continue
		}
		switch {
		case n == 0 || yb-ya < 1e-12:
			m := (ya+yb)/2 - float64(r0)
			d[0] += w * (1 - m)
			d[1] += w * m
		default:
			// the first row, from ya down to its bottom
			f := float64(r0+1) - ya
			a := f * dxdy
			d[0] += a * f / 2
			d[1] += a * (1 - f/2)
			// the rows crossed whole: half in the row, half below
			if n > 1 {
				h := dxdy / 2
				d[1] += h
				for r := 2; r < n; r++ {
					d[r] += dxdy
				}
				d[n] += h
			}
			// the last row, from its top down to yb
			g := yb - float64(r1)
			b := g * dxdy
			d[n] += b * (1 - g/2)
			d[n+1] += b * g / 2
		}
		if x1 > c1 {
			break
		}
	}
	ts.rmin, ts.rmax = rmin, rmax
	return i
}
