package graph

import (
	"encoding/binary"
	"image"
	"image/draw"
	"math"

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
	polys     polygons
	tileFill  []int32
	flatBuf   []float64
	axisRects [][4]float64 // strokeAxisLine's rectangles
	tileCov   image.Alpha
	thin      thinStroke
	textPath  path         // fillText's outlines
	tmpl      rowTemplates // rows not written yet (rowtemplates.go)
	// cleared: the picture has been cleared (or wholly painted over);
	// opaque: an opaque fill covered it all, so every pixel stays opaque
	// (compositing OVER an opaque pixel leaves it opaque)
	cleared, opaque bool
}

// clearOnce makes the reused picture transparent before its first
// drawing, unless that drawing covers it all (the background), and
// writes the rows pending on a template: the picture is then whole.
func (r *raster) clearOnce() {
	r.ensureCleared()
	r.writeRows(0, r.h)
}

// ensureCleared is clearOnce without writing the pending rows, for
// drawing that writes the rows it touches (composite does).
func (r *raster) ensureCleared() {
	if !r.cleared {
		clear(r.img.Pix)
		r.cleared = true
	}
}

// rasters are reused between requests: the picture, coverage and clip
// buffers and the rasteriser's accumulator are most of a graph's memory
// and time to allocate. A bounded free list (not a sync.Pool, which
// every garbage collection empties) keeps at most two.
var rasters = make(chan *raster, 2)

func newRaster(w, h int) *raster {
	var r *raster
	select {
	case r = <-rasters:
	default:
		r = &raster{axisRects: make([][4]float64, 0, 8)}
	}
	n := w * h * 4
	if cap(r.pix) < n {
		r.pix = make([]uint8, n)
	}
	r.img = &image.RGBA{Pix: r.pix[:n], Stride: w * 4, Rect: image.Rect(0, 0, w, h)}
	r.cleared, r.opaque = false, false
	r.tmpl.reset()
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
	r.tmpl.reset()
	r.img = nil
	select {
	case rasters <- r:
	default:
	}
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
	r.ensureCleared() // composite writes the pending rows it touches
	r.lines, r.flatBuf = p.flatten(0.1, r.lines[:0], r.flatBuf)
	r.paint(c, clip, r.linesGen)
}

// linesGen hands r.lines to paint or coverage.
func (r *raster) linesGen(add func([]float64)) {
	for _, pl := range r.lines {
		add(pl.pts)
	}
}

func (r *raster) stroke(p *path, st *strokeStyle, c rgba, clip *clipState) {
	r.ensureCleared()
	r.lines, r.flatBuf = p.flatten(0.1, r.lines[:0], r.flatBuf)
	lines := r.lines
	if len(st.dash) == 0 && r.strokeAxisLine(lines, st.width, c, clip) {
		return // its rows written by composite or kept on templates
	}
	r.writeRowsUnder(lines, miterLimit*st.width/2+2)
	if len(st.dash) > 0 {
		lines = dashPolylines(lines, st.dash, st.dashOffset)
	} else if thinStrokes && r.strokeThin(lines, st.width, c, clip) {
		return
	}
	r.polys.reset()
	strokePolylines(lines, st.width, r.polys.add)
	r.paintTiles(c, clip)
}

// polygons is a stroke outline kept as its small convex pieces with
// their bounds, so that they can be rasterised a strip of the picture
// at a time.
type polygons struct {
	pts   []float32
	polys []polyRef
	add   polygonSink // appends to pts and polys
	// per tile: the indices of the polygons that touch it
	tileStart, tilePolys []int32
}

type polyRef struct {
	off, end       int32 // pts[off:end]
	x0, y0, x1, y1 float32
}

func (ps *polygons) reset() {
	ps.pts, ps.polys = ps.pts[:0], ps.polys[:0]
	if ps.add == nil {
		ps.add = func(pts []float64) {
			pr := polyRef{off: int32(len(ps.pts)), x0: math.MaxFloat32, y0: math.MaxFloat32, x1: -math.MaxFloat32, y1: -math.MaxFloat32}
			for i := 0; i+1 < len(pts); i += 2 {
				x, y := float32(pts[i]), float32(pts[i+1])
				pr.x0, pr.x1 = min(pr.x0, x), max(pr.x1, x)
				pr.y0, pr.y1 = min(pr.y0, y), max(pr.y1, y)
				ps.pts = append(ps.pts, x, y)
			}
			if pr.end = int32(len(ps.pts)); pr.end-pr.off >= 4 {
				ps.polys = append(ps.polys, pr)
			} else {
				ps.pts = ps.pts[:pr.off]
			}
		}
	}
}

// tileW × tileH are the tiles a stroke is rasterised in: a line across
// the picture covers a few pixels of each column, and the rasteriser's
// cost is the area it accumulates, so only the tiles the stroke's pieces
// touch are rasterised, each trimmed to their bounds.
const (
	tileW = 16
	tileH = 64
	// maxTilesPerPiece: past this many tiles a piece on average, a stroke
	// is rasterised as one tile (see paintTiles)
	maxTilesPerPiece = 4
)

// paintTiles rasterises r.polys a tile at a time and composites colour
// c through the coverage and clip. The coverage is the same as one pass
// over the whole bounds: the rasteriser adds each edge's coverage to its
// row independently, a piece's edges left of a tile land in its first
// column (where they belong), and the pieces wholly outside a tile add
// nothing to it (each is closed: its edges cancel along every row).
func (r *raster) paintTiles(c rgba, clip *clipState) {
	ps := &r.polys
	if len(ps.polys) == 0 {
		return
	}
	minX, minY, maxX, maxY := float32(math.MaxFloat32), float32(math.MaxFloat32), float32(-math.MaxFloat32), float32(-math.MaxFloat32)
	for _, p := range ps.polys {
		minX, maxX = min(minX, p.x0), max(maxX, p.x1)
		minY, maxY = min(minY, p.y0), max(maxY, p.y1)
	}
	if math.IsNaN(float64(minX)) || math.IsNaN(float64(minY)) || math.IsNaN(float64(maxX)) || math.IsNaN(float64(maxY)) {
		return
	}
	b := bbox{floorClamp(minX, 0, r.w), floorClamp(minY, 0, r.h), floorClamp(maxX, 0, r.w) + 1, floorClamp(maxY, 0, r.h) + 1}
	b.x1, b.y1 = min(b.x1+1, r.w), min(b.y1+1, r.h)
	if b.x0 >= b.x1 || b.y0 >= b.y1 {
		return
	}
	// pieces larger than a few tiles (a wide line, a tall stroke) would
	// be binned into many tiles each: then the whole bounds are one tile,
	// which bounds the bins by the number of pieces
	tw, th := tileW, tileH
	tiles := func(p *polyRef) (tx0, tx1, ty0, ty1 int) {
		tx0 = (floorClamp(p.x0, b.x0, b.x1-1) - b.x0) / tw
		tx1 = (floorClamp(p.x1, b.x0, b.x1-1) - b.x0) / tw
		ty0 = (floorClamp(p.y0, b.y0, b.y1-1) - b.y0) / th
		ty1 = (floorClamp(p.y1, b.y0, b.y1-1) - b.y0) / th
		return
	}
	count := func() int {
		total := 0
		for i := range ps.polys {
			tx0, tx1, ty0, ty1 := tiles(&ps.polys[i])
			total += (tx1 - tx0 + 1) * (ty1 - ty0 + 1)
		}
		return total
	}
	// large pieces (long straight lines, wide strokes) get tiles four and
	// then sixteen times larger each way, and past those the whole bounds
	// as one: a few long lines far apart then cost the tiles along them,
	// not the area between them
	total := count()
	for k := 0; k < 2 && total > maxTilesPerPiece*len(ps.polys); k++ {
		tw, th = tw*4, th*4
		total = count()
	}
	if total > maxTilesPerPiece*len(ps.polys) {
		tw, th = b.x1-b.x0, b.y1-b.y0
		total = len(ps.polys)
	}
	nx := (b.x1 - b.x0 + tw - 1) / tw
	ny := (b.y1 - b.y0 + th - 1) / th
	n := nx * ny
	// bin the polygons by tile (counting sort)
	ps.tileStart = append(ps.tileStart[:0], make([]int32, n+1)...)
	for i := range ps.polys {
		tx0, tx1, ty0, ty1 := tiles(&ps.polys[i])
		for ty := ty0; ty <= ty1; ty++ {
			for tx := tx0; tx <= tx1; tx++ {
				ps.tileStart[ty*nx+tx+1]++
			}
		}
	}
	for t := 1; t <= n; t++ {
		ps.tileStart[t] += ps.tileStart[t-1]
	}
	if cap(ps.tilePolys) < total {
		ps.tilePolys = make([]int32, total)
	}
	ps.tilePolys = ps.tilePolys[:total]
	fill := append(r.tileFill[:0], ps.tileStart[:n]...)
	for i := range ps.polys {
		tx0, tx1, ty0, ty1 := tiles(&ps.polys[i])
		for ty := ty0; ty <= ty1; ty++ {
			for tx := tx0; tx <= tx1; tx++ {
				t := ty*nx + tx
				ps.tilePolys[fill[t]] = int32(i)
				fill[t]++
			}
		}
	}
	r.tileFill = fill
	for t := 0; t < n; t++ {
		idx := ps.tilePolys[ps.tileStart[t]:ps.tileStart[t+1]]
		if len(idx) == 0 {
			continue
		}
		tx, ty := b.x0+t%nx*tw, b.y0+t/nx*th
		r.paintTile(c, idx, bbox{tx, ty, min(tx+tw, b.x1), min(ty+th, b.y1)}, clip)
	}
}

// paintTile rasterises the pieces idx of r.polys that touch tile, within
// the tile trimmed to their bounds, and composites colour c through
// the coverage (and mask, when clipped).
func (r *raster) paintTile(c rgba, idx []int32, tile bbox, clip *clipState) {
	ps := &r.polys
	x0, y0 := float32(math.MaxFloat32), float32(math.MaxFloat32)
	x1, y1 := float32(-math.MaxFloat32), float32(-math.MaxFloat32)
	for _, i := range idx {
		p := &ps.polys[i]
		x0, y0 = min(x0, p.x0), min(y0, p.y0)
		x1, y1 = max(x1, p.x1), max(y1, p.y1)
	}
	// the tile, trimmed to its pieces' bounds
	sb := bbox{max(tile.x0, floorClamp(x0, 0, r.w)), max(tile.y0, floorClamp(y0, 0, r.h)),
		min(tile.x1, floorClamp(x1, 0, r.w)+2), min(tile.y1, floorClamp(y1, 0, r.h)+2)}
	if sb.x0 >= sb.x1 || sb.y0 >= sb.y1 {
		return
	}
	sw, sh := sb.x1-sb.x0, sb.y1-sb.y0
	r.rz.Reset(sw, sh)
	r.rz.DrawOp = draw.Src
	ox, oy := float32(sb.x0), float32(sb.y0)
	for _, i := range idx {
		pts := ps.pts[ps.polys[i].off:ps.polys[i].end]
		r.rz.MoveTo(pts[0]-ox, pts[1]-oy)
		for k := 2; k+1 < len(pts); k += 2 {
			r.rz.LineTo(pts[k]-ox, pts[k+1]-oy)
		}
		r.rz.ClosePath()
	}
	if cap(r.covBuf) < sw*sh {
		r.covBuf = make([]uint8, r.w*r.h)
	}
	cov := &r.tileCov
	*cov = image.Alpha{Pix: r.covBuf[:sw*sh], Stride: sw, Rect: image.Rect(0, 0, sw, sh)}
	r.rz.Draw(cov, cov.Rect, image.Opaque, image.Point{})
	r.composite(c, cov.Pix, sw, sb, clip)
}

// strokeAxisLine strokes a path of horizontal or vertical segments
// (grid lines, axes, the plot's borders) that share no pixel, each as
// the rectangle it covers, with each pixel's coverage the area of the
// pixel inside it, as the rasteriser would compute (up to the last bit
// of its sums). It reports false, drawing nothing, for any other path.
func (r *raster) strokeAxisLine(lines []polyline, width float64, c rgba, clip *clipState) bool {
	if len(lines) == 0 || len(lines) > cap(r.axisRects) || !(width > 0) {
		return false
	}
	hw := width / 2
	rects := r.axisRects[:0]
	for _, pl := range lines {
		if pl.closed || len(pl.pts) != 4 {
			return false
		}
		pts := pl.pts
		var q [4]float64 // x0, y0, x1, y1
		switch {
		case pts[1] == pts[3] && pts[0] != pts[2]:
			q = [4]float64{min(pts[0], pts[2]), pts[1] - hw, max(pts[0], pts[2]), pts[1] + hw}
		case pts[0] == pts[2] && pts[1] != pts[3]:
			q = [4]float64{pts[0] - hw, min(pts[1], pts[3]), pts[0] + hw, max(pts[1], pts[3])}
		default:
			return false
		}
		if math.IsNaN(q[0]) || math.IsNaN(q[1]) || math.IsNaN(q[2]) || math.IsNaN(q[3]) {
			return false
		}
		// far-off (or infinite) ends: the part beyond the picture's
		// border pixels changes no pixel
		w, h := float64(r.w), float64(r.h)
		q = [4]float64{clampF(q[0], -1, w+1), clampF(q[1], -1, h+1), clampF(q[2], -1, w+1), clampF(q[3], -1, h+1)}
		// rectangles that share a pixel would add up there first: those
		// go through the rasteriser
		b := r.rectBox(q[0], q[1], q[2], q[3])
		for _, o := range rects {
			ob := r.rectBox(o[0], o[1], o[2], o[3])
			if b.x0 < ob.x1 && ob.x0 < b.x1 && b.y0 < ob.y1 && ob.y0 < b.y1 {
				return false
			}
		}
		rects = append(rects, q)
	}
	for _, q := range rects {
		b := r.rectBox(q[0], q[1], q[2], q[3])
		if b.x0 >= b.x1 || b.y0 >= b.y1 {
			continue
		}
		r.compositeRect(c, q, b, clip)
	}
	return true
}

// compositeRect composites colour c through the coverage of the
// rectangle q (x0, y0, x1, y1) over the pixels of box b, those it
// touches, and the clip. The rows between the first and the last lie
// wholly inside the rectangle (their overlap in y is 1): they share one
// coverage row, composited with stride 0 (a vertical line then costs
// its pixels, not a coverage row each).
func (r *raster) compositeRect(c rgba, q [4]float64, b bbox, clip *clipState) {
	bw := b.x1 - b.x0
	if cap(r.covBuf) < bw {
		r.covBuf = make([]uint8, r.w*r.h)
	}
	for _, band := range [3]bbox{
		{b.x0, b.y0, b.x1, b.y0 + 1},            // the first row
		{b.x0, b.y0 + 1, b.x1, b.y1 - 1},        // those between
		{b.x0, max(b.y1-1, b.y0+1), b.x1, b.y1}, // the last, unless it is the first
	} {
		if band.y0 >= band.y1 {
			continue
		}
		cov := r.covBuf[:bw]
		rectCoverage(cov, bw, bbox{b.x0, band.y0, b.x1, band.y0 + 1}, q[0], q[1], q[2], q[3])
		if clip == nil && band.y1-band.y0 > 1 {
			if src, ok := newOverSource(c); !ok || r.compositeTemplates(&src, cov, band) {
				continue
			}
		}
		r.composite(c, cov, 0, band, clip)
	}
}

// rectBox is the box of pixels the rectangle (x0, y0)-(x1, y1) touches
// within the picture (empty when it misses it).
func (r *raster) rectBox(x0, y0, x1, y1 float64) bbox {
	w, h := float64(r.w), float64(r.h)
	return bbox{int(math.Floor(clampF(x0, 0, w))), int(math.Floor(clampF(y0, 0, h))), int(math.Ceil(clampF(x1, 0, w))), int(math.Ceil(clampF(y1, 0, h)))}
}

// clampF is v within [lo, hi] (lo for NaN), so that far-off coordinates
// convert to ints safely.
func clampF(v, lo, hi float64) float64 {
	if !(v > lo) {
		return lo
	}
	return min(v, hi)
}

// rectCoverage writes the coverage of the axis-aligned rectangle (x0,
// y0)-(x1, y1) over the pixels of box b into dst (rows stride apart):
// the area of each pixel inside the rectangle, the product of its
// overlaps in x and y.
func rectCoverage(dst []uint8, stride int, b bbox, x0, y0, x1, y1 float64) {
	bw, bh := b.x1-b.x0, b.y1-b.y0
	overlap := func(p, lo, hi float64) float32 { return float32(min(p+1, hi) - max(p, lo)) }
	row := dst[:bw]
	for y := 0; y < bh; y++ {
		oy := overlap(float64(b.y0+y), y0, y1)
		drow := dst[y*stride : y*stride+bw]
		if y > 0 && oy == overlap(float64(b.y0+y-1), y0, y1) {
			copy(drow, row)
			continue
		}
		row = drow
		// a pixel wholly inside in x overlaps by exactly 1: those
		// between the first and the last take the same byte
		inner := uint8(almost256 * min(oy, 1))
		for x := range drow {
			if px := float64(b.x0 + x); x > 0 && x < bw-1 && px >= x0 && px+1 <= x1 {
				drow[x] = inner
				continue
			}
			drow[x] = uint8(almost256 * min(overlap(float64(b.x0+x), x0, x1)*oy, 1))
		}
	}
}

// almost256 turns a coverage in [0, 1] into a byte as x/image/vector's
// floating-point accumulation does.
const almost256 = 255.99998

// floorClamp is floor(v) within [lo, hi].
func floorClamp(v float32, lo, hi int) int {
	f := math.Floor(float64(v))
	if f < float64(lo) {
		return lo
	}
	if f > float64(hi) {
		return hi
	}
	return int(f)
}

// paint rasterises the polygons that gen produces (two passes: bounds,
// then coverage) and composites colour c through coverage and clip.
func (r *raster) paint(c rgba, clip *clipState, gen func(add func([]float64))) {
	if cov, b, ok := r.coverage(gen); ok {
		r.composite(c, cov, b.x1-b.x0, b, clip)
	}
}

// coverage rasterises the polygons gen adds over their bounds cut to the
// picture, b; cov (in r.covBuf) holds (b.x1−b.x0) × (b.y1−b.y0) bytes.
// ok is false when they cover no pixel of the picture.
func (r *raster) coverage(gen func(add func([]float64))) (cov []uint8, b bbox, ok bool) {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	gen(func(pts []float64) {
		for i := 0; i+1 < len(pts); i += 2 {
			minX, maxX = math.Min(minX, pts[i]), math.Max(maxX, pts[i])
			minY, maxY = math.Min(minY, pts[i+1]), math.Max(maxY, pts[i+1])
		}
	})
	b = bbox{int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)) + 1, int(math.Ceil(maxY)) + 1}
	b.x0, b.y0 = max(b.x0, 0), max(b.y0, 0)
	b.x1, b.y1 = min(b.x1, r.w), min(b.y1, r.h)
	if b.x0 >= b.x1 || b.y0 >= b.y1 || math.IsNaN(minX) || math.IsNaN(minY) {
		return nil, b, false
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
	a := &image.Alpha{Pix: r.covBuf[:bw*bh], Stride: bw, Rect: image.Rect(0, 0, bw, bh)}
	r.rz.Draw(a, a.Rect, image.Opaque, image.Point{})
	return a.Pix, b, true
}

// composite paints colour c (straight alpha) over the image through the
// coverage of box b (its rows stride bytes apart; stride 0: one row for
// all) and the clip. The part of b inside
// a rectangular clip's whole pixels is painted without the mask: a
// clip to the plot area then costs nothing but near its edges, and its
// mask stays out of the cache.
func (r *raster) composite(c rgba, cov []uint8, stride int, b bbox, clip *clipState) {
	r.writeRows(b.y0, b.y1)
	if clip == nil {
		r.compositeBox(c, cov, stride, b, b, nil)
		return
	}
	in := r.clipInner(clip)
	ib := bbox{max(b.x0, in.x0), max(b.y0, in.y0), min(b.x1, in.x1), min(b.y1, in.y1)}
	if ib.x0 >= ib.x1 || ib.y0 >= ib.y1 {
		r.compositeBox(c, cov, stride, b, b, r.clipMask(clip))
		return
	}
	r.compositeBox(c, cov, stride, b, ib, nil)
	for _, part := range [4]bbox{
		{b.x0, b.y0, b.x1, ib.y0}, {b.x0, ib.y1, b.x1, b.y1}, // above, below
		{b.x0, ib.y0, ib.x0, ib.y1}, {ib.x1, ib.y0, b.x1, ib.y1}, // left, right
	} {
		if part.x0 < part.x1 && part.y0 < part.y1 {
			r.compositeBox(c, cov, stride, b, part, r.clipMask(clip))
		}
	}
}

// clipInner is the box of pixels wholly inside clip (where its mask is
// 255) when clip and its parents are rectangles, else an empty box;
// cached on the clip state.
func (r *raster) clipInner(c *clipState) bbox {
	if c.innerSet {
		return c.inner
	}
	c.innerSet = true
	x0, y0, x1, y1, ok := c.p.axisRect()
	if !ok || !(x1-x0 < 1<<30 && y1-y0 < 1<<30) {
		return c.inner // empty
	}
	w, h := float64(r.w), float64(r.h)
	in := bbox{int(math.Ceil(clampF(x0, 0, w))), int(math.Ceil(clampF(y0, 0, h))), int(math.Floor(clampF(x1, 0, w))), int(math.Floor(clampF(y1, 0, h)))}
	if c.parent != nil {
		p := r.clipInner(c.parent)
		in = bbox{max(in.x0, p.x0), max(in.y0, p.y0), min(in.x1, p.x1), min(in.y1, p.y1)}
	}
	if in.x0 < in.x1 && in.y0 < in.y1 {
		c.inner = in
	}
	return c.inner
}

// compositeBox composites the part sub of box b, whose coverage is cov
// (rows stride apart), through mask when not nil, in integer
// arithmetic: cairo's OVER on premultiplied 8-bit pixels.
func (r *raster) compositeBox(c rgba, cov []uint8, stride int, b, sub bbox, mask []uint8) {
	src, ok := newOverSource(c)
	if !ok {
		return
	}
	sw := sub.x1 - sub.x0
	for y := sub.y0; y < sub.y1; y++ {
		off := (y-b.y0)*stride + sub.x0 - b.x0
		var mrow []uint8
		if mask != nil {
			mrow = mask[y*r.w+sub.x0:]
		}
		overRow(&src, cov[off:off+sw], r.img.Pix[y*r.img.Stride+sub.x0*4:], mrow)
	}
}

// overRow composites src over the pixels of drow through the coverage
// crow (one byte a pixel) and the mask row mrow when not nil. A pixel
// equal to the one before with the same coverage (flat colour under a
// grid line) takes the result computed for it.
func overRow(src *overSource, crow, drow, mrow []uint8) {
	var lastD, lastK, lastOut uint32 // over(0, 0) is 0
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
		if dp := binary.LittleEndian.Uint32(d); dp != lastD || k != lastK {
			lastD, lastK, lastOut = dp, k, src.over(dp, k)
		}
		binary.LittleEndian.PutUint32(d, lastOut)
	}
}

// overSource is a colour ready for cairo's OVER onto premultiplied 8-bit
// RGBA pixels (little-endian uint32s), the channels in four lanes of 16
// bits of one uint64: red, blue, green, alpha from the bottom.
type overSource struct {
	lanes uint64 // premultiplied channels, 0..255 each
	a8    uint32
}

// newOverSource rounds c to 8 bits; false when it is fully transparent.
func newOverSource(c rgba) (overSource, bool) {
	a8 := uint32(math.Round(c.a * 255))
	sr := uint32(math.Round(c.r * c.a * 255))
	sg := uint32(math.Round(c.g * c.a * 255))
	sb := uint32(math.Round(c.b * c.a * 255))
	return premultiplied(sr, sg, sb, a8), a8 != 0
}

// premultiplied is the source of premultiplied channels r, g, b and
// alpha a (0..255 each).
func premultiplied(r, g, b, a uint32) overSource {
	return overSource{lanes: spreadLanes(r | g<<8 | b<<16 | a<<24), a8: a}
}

// spreadLanes moves the bytes of pixel p (red, green, blue, alpha from
// the bottom) into overSource's lanes: red, blue, green, alpha.
func spreadLanes(p uint32) uint64 {
	return uint64(p&0x00ff00ff) | uint64(p&0xff00ff00)<<24
}

// over composites the source at coverage k (1..255) onto pixel dp:
// each channel (s·k + d·(255 − a·k/255))/255 rounded, the four lanes at
// once (the sums stay below 2^16: at most 255·255 + 127 + 128). An
// opaque source at coverage 255 replaces the pixel.
func (s *overSource) over(dp, k uint32) uint32 {
	return s.blend(dp, k, 255-(s.a8*k+127)/255)
}

// blend is over with the destination's weight inv given: 255 − k for
// an opaque source, whose a·k/255 rounded is k itself.
func (s *overSource) blend(dp, k, inv uint32) uint32 {
	return blendLanes(s.lanes, dp, k, inv)
}

// blendLanes is blend of a source with the given lanes.
func blendLanes(lanes uint64, dp, k, inv uint32) uint32 {
	const low = 0x00ff00ff00ff00ff // each lane's low byte
	v := lanes*uint64(k) + spreadLanes(dp)*uint64(inv) + 0x0080008000800080
	v = (v + v>>8&low) >> 8 & low
	return uint32(v) | uint32(v>>24)
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
	if x0, y0, x1, y1, ok := c.p.axisRect(); ok {
		if b := r.rectBox(x0, y0, x1, y1); b.x0 < b.x1 && b.y0 < b.y1 {
			rectCoverage(m[b.y0*r.w+b.x0:], r.w, b, x0, y0, x1, y1)
		}
		if parent != nil {
			intersectMask(m, parent)
		}
		c.mask = m
		return m
	}
	r.rz.Reset(r.w, r.h)
	r.rz.DrawOp = draw.Src
	r.lines, r.flatBuf = c.p.flatten(0.1, r.lines[:0], r.flatBuf)
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
		intersectMask(m, parent)
	}
	c.mask = m
	return m
}

// fillPixelRect fills p directly when it is one rectangle on whole pixels
// (the background), skipping the rasteriser.
func (r *raster) fillPixelRect(p *path, c rgba) bool {
	x0, y0, x1, y1, ok := p.axisRect()
	if !ok || x0 != math.Trunc(x0) || y0 != math.Trunc(y0) || x1 != math.Trunc(x1) || y1 != math.Trunc(y1) ||
		!(x1-x0 < 1<<30 && y1-y0 < 1<<30) {
		return false
	}
	ix0, iy0 := int(max(x0, 0)), int(max(y0, 0))
	ix1, iy1 := int(min(x1, float64(r.w))), int(min(y1, float64(r.h)))
	if ix0 >= ix1 || iy0 >= iy1 {
		r.ensureCleared()
		return true
	}
	px := uint32(math.Round(c.r*255)) | uint32(math.Round(c.g*255))<<8 | uint32(math.Round(c.b*255))<<16 | 255<<24
	if ix0 == 0 && iy0 == 0 && ix1 == r.w && iy1 == r.h {
		// the whole picture: its rows wait on one template row
		r.cleared, r.opaque = true, true
		r.fillTemplate(px)
		return true
	}
	r.ensureCleared()
	r.writeRows(iy0, iy1)
	// the first row pixel by pixel, the others copied from it
	first := r.img.Pix[iy0*r.img.Stride+ix0*4 : iy0*r.img.Stride+ix1*4]
	for i := 0; i+4 <= len(first); i += 4 {
		binary.LittleEndian.PutUint32(first[i:], px)
	}
	for y := iy0 + 1; y < iy1; y++ {
		copy(r.img.Pix[y*r.img.Stride+ix0*4:], first)
	}
	return true
}

// intersectMask multiplies mask m by parent, eight pixels at a time
// where either is all 0 or all 255 (most of a clip mask).
func intersectMask(m, parent []uint8) {
	i := 0
	for ; i+8 <= len(m); i += 8 {
		a := binary.LittleEndian.Uint64(m[i:])
		p := binary.LittleEndian.Uint64(parent[i:])
		switch {
		case a == 0 || p == ^uint64(0):
		case p == 0 || a == ^uint64(0):
			binary.LittleEndian.PutUint64(m[i:], p&a)
		default:
			for k := i; k < i+8; k++ {
				m[k] = uint8((uint(m[k])*uint(parent[k]) + 127) / 255)
			}
		}
	}
	for ; i < len(m); i++ {
		m[i] = uint8((uint(m[i])*uint(parent[i]) + 127) / 255)
	}
}
