package graph

import (
	"image"
	"image/draw"
	"math"

	"golang.org/x/image/vector"
)

// raster draws into an RGBA image (premultiplied, like cairo's ARGB32):
// paths are flattened, strokes outlined into convex polygons, and the
// coverage computed by x/image/vector (anti-aliased, nonzero-like).
type raster struct {
	img     *image.RGBA
	w, h    int
	rz      vector.Rasterizer
	covBuf  []uint8
	lines   []polyline
	polyBuf []float64
}

func newRaster(w, h int) *raster {
	return &raster{img: image.NewRGBA(image.Rect(0, 0, w, h)), w: w, h: h}
}

func (r *raster) header(string) {}

// bounds of the polylines clipped to the image, or empty.
type bbox struct{ x0, y0, x1, y1 int }

func (r *raster) fill(p *path, c rgba, clip *clipState) {
	r.lines = p.flatten(0.1, r.lines[:0])
	r.paint(c, clip, func(add func([]float64)) {
		for _, pl := range r.lines {
			add(pl.pts)
		}
	})
}

func (r *raster) stroke(p *path, st *strokeStyle, c rgba, clip *clipState) {
	r.lines = p.flatten(0.1, r.lines[:0])
	lines := r.lines
	if len(st.dash) > 0 {
		lines = dashPolylines(lines, st.dash, st.dashOffset)
	}
	r.paint(c, clip, func(add func([]float64)) {
		strokePolylines(lines, st.width, polygonSink(add))
	})
}

// paint rasterises the polygons that gen produces (two passes: bounds,
// then coverage) and composites colour c through coverage and clip.
func (r *raster) paint(c rgba, clip *clipState, gen func(add func([]float64))) {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	gen(func(pts []float64) {
		for i := 0; i+1 < len(pts); i += 2 {
			minX, maxX = math.Min(minX, pts[i]), math.Max(maxX, pts[i])
			minY, maxY = math.Min(minY, pts[i+1]), math.Max(maxY, pts[i+1])
		}
	})
	b := bbox{int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)) + 1, int(math.Ceil(maxY)) + 1}
	b.x0, b.y0 = max(b.x0, 0), max(b.y0, 0)
	b.x1, b.y1 = min(b.x1, r.w), min(b.y1, r.h)
	if b.x0 >= b.x1 || b.y0 >= b.y1 || math.IsNaN(minX) || math.IsNaN(minY) {
		return
	}
	bw, bh := b.x1-b.x0, b.y1-b.y0
	r.rz.Reset(bw, bh)
	r.rz.DrawOp = draw.Src
	ox, oy := float32(b.x0), float32(b.y0)
	gen(func(pts []float64) {
		if len(pts) < 4 {
			return
		}
		r.rz.MoveTo(float32(pts[0])-ox, float32(pts[1])-oy)
		for i := 2; i+1 < len(pts); i += 2 {
			r.rz.LineTo(float32(pts[i])-ox, float32(pts[i+1])-oy)
		}
		r.rz.ClosePath()
	})
	// vector writes a full-bounds Alpha contiguously: the stride must be
	// the width
	if cap(r.covBuf) < bw*bh {
		r.covBuf = make([]uint8, r.w*r.h)
	}
	cov := &image.Alpha{Pix: r.covBuf[:bw*bh], Stride: bw, Rect: image.Rect(0, 0, bw, bh)}
	r.rz.Draw(cov, cov.Rect, image.Opaque, image.Point{})
	var mask []uint8
	if clip != nil {
		mask = r.clipMask(clip)
	}
	// premultiplied source
	sa := c.a
	sr, sg, sb := c.r*sa, c.g*sa, c.b*sa
	for y := 0; y < bh; y++ {
		crow := cov.Pix[y*cov.Stride : y*cov.Stride+bw]
		drow := r.img.Pix[(b.y0+y)*r.img.Stride+b.x0*4:]
		var mrow []uint8
		if mask != nil {
			mrow = mask[(b.y0+y)*r.w+b.x0:]
		}
		for x, cv := range crow {
			if cv == 0 {
				continue
			}
			k := float64(cv) / 255
			if mrow != nil {
				if mrow[x] == 0 {
					continue
				}
				k *= float64(mrow[x]) / 255
			}
			d := drow[x*4 : x*4+4 : x*4+4]
			a := sa * k
			inv := 1 - a
			d[0] = uint8(math.Round(sr*k*255 + float64(d[0])*inv))
			d[1] = uint8(math.Round(sg*k*255 + float64(d[1])*inv))
			d[2] = uint8(math.Round(sb*k*255 + float64(d[2])*inv))
			d[3] = uint8(math.Round(a*255 + float64(d[3])*inv))
		}
	}
}

// clipMask is the full-image coverage of clip intersected with its
// parents, cached on the clip state.
func (r *raster) clipMask(c *clipState) []uint8 {
	if c.mask != nil {
		return c.mask
	}
	var parent []uint8
	if c.parent != nil {
		parent = r.clipMask(c.parent)
	}
	m := make([]uint8, r.w*r.h)
	r.rz.Reset(r.w, r.h)
	r.rz.DrawOp = draw.Src
	r.lines = c.p.flatten(0.1, r.lines[:0])
	for _, pl := range r.lines {
		if len(pl.pts) < 4 {
			continue
		}
		r.rz.MoveTo(float32(pl.pts[0]), float32(pl.pts[1]))
		for i := 2; i+1 < len(pl.pts); i += 2 {
			r.rz.LineTo(float32(pl.pts[i]), float32(pl.pts[i+1]))
		}
		r.rz.ClosePath()
	}
	a := &image.Alpha{Pix: m, Stride: r.w, Rect: image.Rect(0, 0, r.w, r.h)}
	r.rz.Draw(a, a.Rect, image.Opaque, image.Point{})
	if parent != nil {
		for i := range m {
			m[i] = uint8((uint(m[i])*uint(parent[i]) + 127) / 255)
		}
	}
	c.mask = m
	return m
}
