package graph

// rgba is a colour with straight (not premultiplied) alpha, each 0..1.
type rgba struct{ r, g, b, a float64 }

// clipState is one clip path intersected with its parent's; backends
// cache what they derive from it (a raster mask, an SVG clipPath id).
type clipState struct {
	parent *clipState
	p      path
	mask   []uint8
	id     int
	// inner: the pixels wholly inside (raster backend), when innerSet
	inner    bbox
	innerSet bool
}

// backend is one output format's drawing surface.
type backend interface {
	fill(p *path, c rgba, clip *clipState)
	stroke(p *path, st *strokeStyle, c rgba, clip *clipState)
	// header marks the start of a named part of the picture (SVG groups).
	header(name string)
}

type gstate struct {
	color rgba
	style strokeStyle
	clip  *clipState
}

// canvas is the cairo-like drawing context glyph.py's logic talks to:
// a current path, a graphics state with save/restore, and a backend.
type canvas struct {
	be    backend
	p     path
	gs    gstate
	saved []gstate
}

func newCanvas(be backend) *canvas {
	return &canvas{be: be, gs: gstate{color: rgba{0, 0, 0, 1}, style: strokeStyle{width: 2}}}
}

func (c *canvas) setColor(col rgba)                { c.gs.color = col }
func (c *canvas) setLineWidth(w float64)           { c.gs.style.width = w }
func (c *canvas) lineWidth() float64               { return c.gs.style.width }
func (c *canvas) moveTo(x, y float64)              { c.p.moveTo(x, y) }
func (c *canvas) lineTo(x, y float64)              { c.p.lineTo(x, y) }
func (c *canvas) rectangle(x, y, w, h float64)     { c.p.rectangle(x, y, w, h) }
func (c *canvas) closePath()                       { c.p.closePath() }
func (c *canvas) arc(xc, yc, r, a1, a2 float64)    { c.p.arc(xc, yc, r, a1, a2) }
func (c *canvas) copyPath() path                   { return c.p.copyPath() }
func (c *canvas) appendPath(q *path)               { c.p.appendPath(q) }
func (c *canvas) header(name string)               { c.be.header(name) }
func (c *canvas) setDash(d []float64, off float64) { c.gs.style.dash, c.gs.style.dashOffset = d, off }

func (c *canvas) save() { c.saved = append(c.saved, c.gs) }

func (c *canvas) restore() {
	if n := len(c.saved); n > 0 {
		c.gs = c.saved[n-1]
		c.saved = c.saved[:n-1]
	}
}

func (c *canvas) fill() {
	if !c.p.empty() {
		c.be.fill(&c.p, c.gs.color, c.gs.clip)
	}
	c.p = path{cmds: c.p.cmds[:0], pts: c.p.pts[:0]}
}

// textFiller is a backend that draws text from a cache of its coverage
// (raster.fillText).
type textFiller interface {
	fillText(k textKey, c rgba, clip *clipState)
}

// fillText fills k's text (its outlines from the pen at k.x, k.y) as
// fill would, through the backend's text cache where it has one.
func (c *canvas) fillText(k textKey) {
	if tf, ok := c.be.(textFiller); ok && c.p.empty() {
		tf.fillText(k, c.gs.color, c.gs.clip)
		return
	}
	k.spec.appendText(&c.p, k.text, k.x, k.y, k.angle)
	c.fill()
}

func (c *canvas) stroke() {
	if !c.p.empty() {
		st := c.gs.style
		c.be.stroke(&c.p, &st, c.gs.color, c.gs.clip)
	}
	c.p = path{cmds: c.p.cmds[:0], pts: c.p.pts[:0]}
}

// clip intersects the clip region with the current path and clears it.
func (c *canvas) clip() {
	c.gs.clip = &clipState{parent: c.gs.clip, p: c.p.copyPath()}
	c.p.reset()
}
