package graph

import "math"

// Path commands.
const (
	cmdMove = iota
	cmdLine
	cmdQuad
	cmdCube
	cmdClose
)

// path is a cairo-style path: commands with their points in user space.
// lineTo without a current point acts as moveTo, as in cairo.
type path struct {
	cmds    []uint8
	pts     []float64
	hasCur  bool
	cx, cy  float64 // current point
	sx, sy  float64 // start of the current subpath
	hasOpen bool    // a subpath has segments and is not closed
}

func (p *path) reset() {
	p.cmds, p.pts = p.cmds[:0], p.pts[:0]
	p.hasCur, p.hasOpen = false, false
}

func (p *path) empty() bool { return len(p.cmds) == 0 }

func (p *path) moveTo(x, y float64) {
	// consecutive moveTos collapse, as cairo's do
	if n := len(p.cmds); n > 0 && p.cmds[n-1] == cmdMove {
		p.pts[len(p.pts)-2], p.pts[len(p.pts)-1] = x, y
	} else {
		p.cmds = append(p.cmds, cmdMove)
		p.pts = append(p.pts, x, y)
	}
	p.hasCur, p.hasOpen = true, false
	p.cx, p.cy, p.sx, p.sy = x, y, x, y
}

func (p *path) lineTo(x, y float64) {
	if !p.hasCur {
		p.moveTo(x, y)
		return
	}
	p.cmds = append(p.cmds, cmdLine)
	p.pts = append(p.pts, x, y)
	p.cx, p.cy, p.hasOpen = x, y, true
}

func (p *path) quadTo(x1, y1, x, y float64) {
	if !p.hasCur {
		p.moveTo(x1, y1)
	}
	p.cmds = append(p.cmds, cmdQuad)
	p.pts = append(p.pts, x1, y1, x, y)
	p.cx, p.cy, p.hasOpen = x, y, true
}

func (p *path) cubeTo(x1, y1, x2, y2, x, y float64) {
	if !p.hasCur {
		p.moveTo(x1, y1)
	}
	p.cmds = append(p.cmds, cmdCube)
	p.pts = append(p.pts, x1, y1, x2, y2, x, y)
	p.cx, p.cy, p.hasOpen = x, y, true
}

func (p *path) closePath() {
	if !p.hasCur {
		return
	}
	p.cmds = append(p.cmds, cmdClose)
	p.cx, p.cy, p.hasOpen = p.sx, p.sy, false
	// cairo: after close_path the current point is the subpath start,
	// and a following segment starts a new subpath there.
	p.cmds = append(p.cmds, cmdMove)
	p.pts = append(p.pts, p.sx, p.sy)
}

func (p *path) closeIfOpen() {
	if p.hasOpen {
		p.cmds = append(p.cmds, cmdClose)
		p.hasOpen = false
		p.cx, p.cy = p.sx, p.sy
	}
}

func (p *path) rectangle(x, y, w, h float64) {
	p.moveTo(x, y)
	p.lineTo(x+w, y)
	p.lineTo(x+w, y+h)
	p.lineTo(x, y+h)
	p.closePath()
}

// arc appends a circular arc from angle a1 to a2 (a2 >= a1, radians,
// clockwise on screen as cairo's arc), with a line from the current point.
func (p *path) arc(xc, yc, r, a1, a2 float64) {
	for a2 < a1 {
		a2 += 2 * math.Pi
	}
	p.lineTo(xc+r*math.Cos(a1), yc+r*math.Sin(a1))
	// cubic segments of at most a quarter turn
	n := int(math.Ceil((a2 - a1) / (math.Pi / 2)))
	if n < 1 {
		n = 1
	}
	step := (a2 - a1) / float64(n)
	k := 4.0 / 3 * math.Tan(step/4)
	for i := 0; i < n; i++ {
		t0 := a1 + float64(i)*step
		t1 := t0 + step
		c0, s0, c1, s1 := math.Cos(t0), math.Sin(t0), math.Cos(t1), math.Sin(t1)
		p.cubeTo(xc+r*(c0-k*s0), yc+r*(s0+k*c0), xc+r*(c1+k*s1), yc+r*(s1-k*c1), xc+r*c1, yc+r*s1)
	}
}

// appendPath appends q (cairo's append_path).
func (p *path) appendPath(q *path) {
	j := 0
	for _, c := range q.cmds {
		switch c {
		case cmdMove:
			p.moveTo(q.pts[j], q.pts[j+1])
			j += 2
		case cmdLine:
			p.lineTo(q.pts[j], q.pts[j+1])
			j += 2
		case cmdQuad:
			p.quadTo(q.pts[j], q.pts[j+1], q.pts[j+2], q.pts[j+3])
			j += 4
		case cmdCube:
			p.cubeTo(q.pts[j], q.pts[j+1], q.pts[j+2], q.pts[j+3], q.pts[j+4], q.pts[j+5])
			j += 6
		case cmdClose:
			p.closeIfOpen()
			p.hasOpen = false
		}
	}
}

// appendTransformed appends q mapped by x' = a*x + c*y + e,
// y' = b*x + d*y + f.
func (p *path) appendTransformed(q *path, a, b, c, d, e, f float64) {
	j := 0
	t := func(i int) (float64, float64) {
		x, y := q.pts[i], q.pts[i+1]
		return a*x + c*y + e, b*x + d*y + f
	}
	for _, cmd := range q.cmds {
		switch cmd {
		case cmdMove:
			x, y := t(j)
			p.moveTo(x, y)
			j += 2
		case cmdLine:
			x, y := t(j)
			p.lineTo(x, y)
			j += 2
		case cmdQuad:
			x1, y1 := t(j)
			x, y := t(j + 2)
			p.quadTo(x1, y1, x, y)
			j += 4
		case cmdCube:
			x1, y1 := t(j)
			x2, y2 := t(j + 2)
			x, y := t(j + 4)
			p.cubeTo(x1, y1, x2, y2, x, y)
			j += 6
		case cmdClose:
			p.cmds = append(p.cmds, cmdClose)
			p.hasOpen = false
		}
	}
}

// axisRect reports whether p is one axis-aligned rectangle (a move,
// three lines and a close, as rectangle makes), and its corners.
func (p *path) axisRect() (x0, y0, x1, y1 float64, ok bool) {
	n := len(p.cmds)
	if n < 5 || n > 6 || p.cmds[0] != cmdMove || p.cmds[1] != cmdLine || p.cmds[2] != cmdLine || p.cmds[3] != cmdLine || p.cmds[4] != cmdClose ||
		(n == 6 && p.cmds[5] != cmdMove) {
		return 0, 0, 0, 0, false
	}
	pts := p.pts[:8]
	if !(pts[2] == pts[4] && pts[3] == pts[1] && pts[6] == pts[0] && pts[7] == pts[5]) &&
		!(pts[2] == pts[0] && pts[3] == pts[5] && pts[6] == pts[4] && pts[7] == pts[1]) {
		return 0, 0, 0, 0, false
	}
	x0, y0 = min(pts[0], pts[4]), min(pts[1], pts[5])
	x1, y1 = max(pts[0], pts[4]), max(pts[1], pts[5])
	if !(x0 <= x1 && y0 <= y1) { // NaN
		return 0, 0, 0, 0, false
	}
	return x0, y0, x1, y1, true
}

// copyPath returns a copy of p (cairo's copy_path).
func (p *path) copyPath() path {
	q := *p
	q.cmds = append([]uint8(nil), p.cmds...)
	q.pts = append([]float64(nil), p.pts...)
	return q
}

// polyline is one flattened subpath.
type polyline struct {
	pts      []float64 // x0,y0,x1,y1,...
	closed   bool
	off, end int // pts within flatten's buffer
}

// flatten turns p into polylines, curves split into segments at most
// tol off the curve. The points of all polylines share buf (returned
// grown), so that a path's flattening allocates nothing once the
// buffers are warm.
func (p *path) flatten(tol float64, out []polyline, buf []float64) ([]polyline, []float64) {
	first := len(out)
	buf = buf[:0]
	open := false
	j := 0
	lastX, lastY := 0.0, 0.0
	end := func() {
		if open {
			out[len(out)-1].end = len(buf)
			open = false
		}
	}
	for _, c := range p.cmds {
		switch c {
		case cmdMove:
			lastX, lastY = p.pts[j], p.pts[j+1]
			end()
			j += 2
			continue
		case cmdClose:
			if open {
				out[len(out)-1].closed = true
				end()
			}
			continue
		}
		if !open {
			out = append(out, polyline{off: len(buf)})
			buf = append(buf, lastX, lastY)
			open = true
		}
		switch c {
		case cmdLine:
			lastX, lastY = p.pts[j], p.pts[j+1]
			buf = append(buf, lastX, lastY)
			j += 2
		case cmdQuad:
			x0, y0 := lastX, lastY
			x1, y1, x2, y2 := p.pts[j], p.pts[j+1], p.pts[j+2], p.pts[j+3]
			d := math.Hypot(x0-2*x1+x2, y0-2*y1+y2)
			n := int(math.Ceil(math.Sqrt(d / (4 * tol))))
			n = max(1, min(n, 100))
			for i := 1; i <= n; i++ {
				t := float64(i) / float64(n)
				u := 1 - t
				buf = append(buf, u*u*x0+2*u*t*x1+t*t*x2, u*u*y0+2*u*t*y1+t*t*y2)
			}
			lastX, lastY = x2, y2
			j += 4
		case cmdCube:
			x0, y0 := lastX, lastY
			x1, y1, x2, y2, x3, y3 := p.pts[j], p.pts[j+1], p.pts[j+2], p.pts[j+3], p.pts[j+4], p.pts[j+5]
			d := math.Max(math.Hypot(x0-2*x1+x2, y0-2*y1+y2), math.Hypot(x1-2*x2+x3, y1-2*y2+y3))
			n := int(math.Ceil(math.Sqrt(3 * d / (4 * tol))))
			n = max(1, min(n, 100))
			for i := 1; i <= n; i++ {
				t := float64(i) / float64(n)
				u := 1 - t
				a, b, cc, dd := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
				buf = append(buf, a*x0+b*x1+cc*x2+dd*x3, a*y0+b*y1+cc*y2+dd*y3)
			}
			lastX, lastY = x3, y3
			j += 6
		}
	}
	end()
	for i := first; i < len(out); i++ {
		out[i].pts = buf[out[i].off:out[i].end:out[i].end]
	}
	return out, buf
}
