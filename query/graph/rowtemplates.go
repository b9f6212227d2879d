package graph

import "math"

// Row templates: the background fills the whole picture with one colour
// and the grid's vertical lines cross the plot area from top to bottom,
// so until the first stroke most rows are copies of a few distinct rows.
// The background fill writes one template row instead of the picture,
// and a rectangle whose rows share one coverage row (a vertical grid
// line) is composited onto the templates of the rows it crosses, once
// each, instead of onto every row. A pending row is written (its
// template copied in) before anything else touches it: composite
// writes the rows of its box, clearOnce all of them (strokes, fills
// through the rasteriser, the PNG encoder). The pixels are the same as
// compositing row by row: each row starts equal to its template and
// gets the same coverage.

// maxRowTemplates bounds the templates of one picture (each a row of
// the picture); past it rectangles are composited row by row.
const maxRowTemplates = 32

// rowTemplates are the picture's pending rows.
type rowTemplates struct {
	of      []int32   // per row: its template, or -1 once written
	rows    [][]uint8 // the templates (reused between pictures)
	refs    []int32   // per template: the rows pending on it
	n       int       // templates in use
	pending int       // rows pending
	// the last band compositeTemplates drew, while no row has changed
	// since (the grid's vertical lines share theirs): its templates,
	// each with all its rows in the band, and its written rows
	bandOK           bool
	bandY0, bandY1   int
	bandTmpl, bandWr []int32
}

// reset forgets every pending row (the picture is about to be painted
// over or released).
func (t *rowTemplates) reset() {
	t.n, t.pending, t.bandOK = 0, 0, false
}

// newTemplate is a new template of w bytes, a copy of from (when not
// nil), with refs rows; -1 when there are maxRowTemplates already.
func (t *rowTemplates) newTemplate(w int, from []uint8, refs int32) int32 {
	if t.n == maxRowTemplates {
		return -1
	}
	k := t.n
	t.n++
	if k == len(t.rows) {
		t.rows = append(t.rows, nil)
		t.refs = append(t.refs, 0)
	}
	if cap(t.rows[k]) < w {
		t.rows[k] = make([]uint8, w)
	}
	t.rows[k] = t.rows[k][:w]
	if from != nil {
		copy(t.rows[k], from)
	}
	t.refs[k] = refs
	return int32(k)
}

// fillTemplate makes every row of the picture pending on one template
// of pixel px (little-endian RGBA): the background.
func (r *raster) fillTemplate(px uint32) {
	t := &r.tmpl
	t.reset()
	k := t.newTemplate(r.img.Stride, nil, int32(r.h))
	row := t.rows[k][:r.w*4]
	for i := 0; i+4 <= len(row); i += 4 {
		row[i], row[i+1], row[i+2], row[i+3] = uint8(px), uint8(px>>8), uint8(px>>16), uint8(px>>24)
	}
	if cap(t.of) < r.h {
		t.of = make([]int32, r.h)
	}
	t.of = t.of[:r.h]
	for y := range t.of {
		t.of[y] = k
	}
	t.pending = r.h
}

// writeRows writes the pending rows among y0..y1-1 into the picture.
func (r *raster) writeRows(y0, y1 int) {
	t := &r.tmpl
	if t.pending == 0 {
		return
	}
	stride := r.img.Stride
	for y := max(y0, 0); y < min(y1, r.h); y++ {
		if k := t.of[y]; k >= 0 {
			copy(r.img.Pix[y*stride:(y+1)*stride], t.rows[k])
			t.refs[k]--
			t.of[y] = -1
			t.pending--
			t.bandOK = false
		}
	}
}

// compositeTemplates composites src through the coverage row cov (the
// same for every row, no clip) over the rows of box b: once onto each
// template of its pending rows and row by row onto the written ones.
// False, drawing nothing, when the templates run out (or there are no
// pending rows): then the caller composites row by row.
func (r *raster) compositeTemplates(src *overSource, cov []uint8, b bbox) bool {
	t := &r.tmpl
	if t.pending == 0 {
		return false
	}
	stride := r.img.Stride
	if t.bandOK && t.bandY0 == b.y0 && t.bandY1 == b.y1 {
		for _, k := range t.bandTmpl {
			overRow(src, cov, t.rows[k][b.x0*4:], nil)
		}
		for _, y := range t.bandWr {
			overRow(src, cov, r.img.Pix[int(y)*stride+b.x0*4:], nil)
		}
		return true
	}
	t.bandOK = false
	// the templates of the band's pending rows and how many each: those
	// with all their rows in the band change in place, the others are
	// copied to a new template for the band's rows
	var from, to, count [8]int32
	n := 0
	for y := b.y0; y < b.y1; y++ {
		k := t.of[y]
		if k < 0 {
			continue
		}
		i := 0
		for i < n && from[i] != k {
			i++
		}
		if i == n {
			if n == len(from) {
				return false
			}
			from[n], count[n] = k, 0
			n++
		}
		count[i]++
	}
	if t.n+n > maxRowTemplates {
		return false
	}
	for i := 0; i < n; i++ {
		k := from[i]
		to[i] = k
		if count[i] != t.refs[k] {
			to[i] = t.newTemplate(len(t.rows[k]), t.rows[k], count[i])
			t.refs[k] -= count[i]
		}
		overRow(src, cov, t.rows[to[i]][b.x0*4:], nil)
	}
	t.bandTmpl, t.bandWr = append(t.bandTmpl[:0], to[:n]...), t.bandWr[:0]
	for y := b.y0; y < b.y1; y++ {
		k := t.of[y]
		if k < 0 {
			overRow(src, cov, r.img.Pix[y*stride+b.x0*4:], nil)
			t.bandWr = append(t.bandWr, int32(y))
			continue
		}
		i := 0
		for from[i] != k {
			i++
		}
		t.of[y] = to[i]
	}
	t.bandOK, t.bandY0, t.bandY1 = true, b.y0, b.y1
	return true
}

// writeRowsUnder writes the pending rows within pad of the points of
// lines (a stroke's: pad covers its width, caps and miters), all of
// them when a point is not finite.
func (r *raster) writeRowsUnder(lines []polyline, pad float64) {
	if r.tmpl.pending == 0 {
		return
	}
	y0, y1 := math.Inf(1), math.Inf(-1)
	for _, pl := range lines {
		for i := 1; i < len(pl.pts); i += 2 {
			y0, y1 = min(y0, pl.pts[i]), max(y1, pl.pts[i])
		}
	}
	h := float64(r.h)
	if !(y0-pad > -h && y1+pad < 2*h) {
		r.writeRows(0, r.h) // also NaN, infinities and no points
		return
	}
	r.writeRows(int(math.Floor(y0-pad)), int(math.Ceil(y1+pad))+1)
}
