package graph

import (
	"encoding/binary"
	"image"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/vector"
)

// raster draws into an RGBA image (premultiplied, like cairo's ARGB32):
// paths are flattened, strokes outlined into convex polygons, and the
// coverage computed by x/image/vector (anti-aliased, nonzero-like).
type raster struct {
	img       *image.RGBA
	w, h      int
	rz        vector.Rasterizer
	covBuf    []uint8
	lines     []polyline
	pix       []uint8
	masks     [][]uint8 // clip masks of this picture
	freeMasks [][]uint8
	png       pngBuffers
}

// rasters are reused between requests: the picture, coverage and clip
// buffers and the rasteriser's accumulator are most of a graph's memory.
var rasters sync.Pool

func newRaster(w, h int) *raster {
	r, _ := rasters.Get().(*raster)
	if r == nil {
		r = &raster{}
	}
	n := w * h * 4
	if cap(r.pix) < n {
		r.pix = make([]uint8, n)
	}
	r.img = &image.RGBA{Pix: r.pix[:n], Stride: w * 4, Rect: image.Rect(0, 0, w, h)}
	clear(r.img.Pix)
	r.w, r.h = w, h
	r.masks = r.masks[:0]
	return r
}

// release returns r's buffers for the next picture; r must not be used
// after.
func (r *raster) release() {
	if cap(r.pix) > 64<<20 {
		return
	}
	r.freeMasks = append(r.freeMasks, r.masks...)
	r.masks = r.masks[:0]
	r.img = nil
	rasters.Put(r)
}

// newMask returns a zeroed full-picture mask.
func (r *raster) newMask() []uint8 {
	n := r.w * r.h
	for len(r.freeMasks) > 0 {
		m := r.freeMasks[len(r.freeMasks)-1]
		r.freeMasks = r.freeMasks[:len(r.freeMasks)-1]
		if cap(m) >= n {
			m = m[:n]
			clear(m)
			r.masks = append(r.masks, m)
			return m
		}
	}
	m := make([]uint8, n)
	r.masks = append(r.masks, m)
	return m
}

func (r *raster) header(string) {}

// bounds of the polylines clipped to the image, or empty.
type bbox struct{ x0, y0, x1, y1 int }

func (r *raster) fill(p *path, c rgba, clip *clipState) {
	if clip == nil && c.a == 1 && r.fillPixelRect(p, c) {
		return
	}
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
	r.composite(c, cov.Pix, bw, bh, b, mask)
}

// composite paints colour c (straight alpha) over the image through the
// coverage of box b and the clip mask (cairo's OVER on premultiplied
// 8-bit pixels), in integer arithmetic.
func (r *raster) composite(c rgba, cov []uint8, bw, bh int, b bbox, mask []uint8) {
	a8 := uint32(math.Round(c.a * 255))
	if a8 == 0 {
		return
	}
	sr := uint32(math.Round(c.r * c.a * 255))
	sg := uint32(math.Round(c.g * c.a * 255))
	sb := uint32(math.Round(c.b * c.a * 255))
	for y := 0; y < bh; y++ {
		crow := cov[y*bw : y*bw+bw]
		drow := r.img.Pix[(b.y0+y)*r.img.Stride+b.x0*4:]
		var mrow []uint8
		if mask != nil {
			mrow = mask[(b.y0+y)*r.w+b.x0:]
		}
		for x := 0; x < len(crow); x++ {
			cv := crow[x]
			if cv == 0 {
				// skip runs of no coverage eight pixels at a time
				for x+8 < len(crow) && binary.LittleEndian.Uint64(crow[x+1:]) == 0 {
					x += 8
				}
				continue
			}
			k := uint32(cv)
			if mrow != nil {
				if mrow[x] == 0 {
					continue
				}
				k = (k*uint32(mrow[x]) + 127) / 255
			}
			d := drow[x*4 : x*4+4 : x*4+4]
			if k == 255 && a8 == 255 {
				d[0], d[1], d[2], d[3] = uint8(sr), uint8(sg), uint8(sb), 255
				continue
			}
			ka := (a8*k + 127) / 255
			inv := 255 - ka
			d[0] = uint8((sr*k + uint32(d[0])*inv + 127) / 255)
			d[1] = uint8((sg*k + uint32(d[1])*inv + 127) / 255)
			d[2] = uint8((sb*k + uint32(d[2])*inv + 127) / 255)
			d[3] = uint8((a8*k + uint32(d[3])*inv + 127) / 255)
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
	m := r.newMask()
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

// fillPixelRect fills p directly when it is one rectangle on whole pixels
// (the background), skipping the rasteriser.
func (r *raster) fillPixelRect(p *path, c rgba) bool {
	n := len(p.cmds)
	if n < 5 || n > 6 || p.cmds[0] != cmdMove || p.cmds[1] != cmdLine || p.cmds[2] != cmdLine || p.cmds[3] != cmdLine || p.cmds[4] != cmdClose {
		return false
	}
	pts := p.pts[:8]
	for _, v := range pts {
		if v != math.Trunc(v) {
			return false
		}
	}
	x0, y0 := math.Min(pts[0], pts[4]), math.Min(pts[1], pts[5])
	x1, y1 := math.Max(pts[0], pts[4]), math.Max(pts[1], pts[5])
	if !(pts[2] == pts[4] && pts[3] == pts[1] && pts[6] == pts[0] && pts[7] == pts[5]) &&
		!(pts[2] == pts[0] && pts[3] == pts[5] && pts[6] == pts[4] && pts[7] == pts[1]) {
		return false
	}
	ix0, iy0 := max(int(x0), 0), max(int(y0), 0)
	ix1, iy1 := min(int(x1), r.w), min(int(y1), r.h)
	px := [4]uint8{uint8(math.Round(c.r * 255)), uint8(math.Round(c.g * 255)), uint8(math.Round(c.b * 255)), 255}
	for y := iy0; y < iy1; y++ {
		row := r.img.Pix[y*r.img.Stride:]
		for x := ix0; x < ix1; x++ {
			copy(row[x*4:x*4+4], px[:])
		}
	}
	return true
}
