package graph

import (
	"bytes"
	"math"
	"strconv"
)

// svgWriter writes the picture as SVG 1.1 the way cairo's SVG surface
// lays it out for graphite-web: a <g class="graphite"> holding the
// drawing, split into <g class="..."> parts at glyph.py's headers.
type svgWriter struct {
	b         bytes.Buffer
	nclip     int
	inGroup   bool
	noHeaders bool // pie graphs: graphite-web leaves their headers unmarked
}

func newSVG(w, h float64) *svgWriter {
	s := &svgWriter{}
	s.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	s.b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="`)
	s.num(w)
	s.b.WriteString(`px" height="`)
	s.num(h)
	s.b.WriteString(`px" viewBox="0 0 `)
	s.num(w)
	s.b.WriteByte(' ')
	s.num(h)
	s.b.WriteString(`" version="1.1">` + "\n" + `<g class="graphite">` + "\n")
	return s
}

func (s *svgWriter) num(v float64) {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		s.b.WriteString(strconv.FormatInt(int64(v), 10))
		return
	}
	b := strconv.AppendFloat(s.b.AvailableBuffer(), v, 'f', 6, 64)
	b = bytes.TrimRight(b, "0")
	b = bytes.TrimSuffix(b, []byte("."))
	s.b.Write(b)
}

func (s *svgWriter) header(name string) {
	if s.noHeaders {
		return
	}
	if s.inGroup {
		s.b.WriteString("</g>\n")
	}
	s.b.WriteString(`<g class="` + name + `">` + "\n")
	s.inGroup = true
}

func (s *svgWriter) pathData(p *path) {
	j := 0
	pt := func(i int) {
		s.num(p.pts[i])
		s.b.WriteByte(' ')
		s.num(p.pts[i+1])
	}
	for i, c := range p.cmds {
		if i > 0 {
			s.b.WriteByte(' ')
		}
		switch c {
		case cmdMove:
			s.b.WriteString("M ")
			pt(j)
			j += 2
		case cmdLine:
			s.b.WriteString("L ")
			pt(j)
			j += 2
		case cmdQuad:
			s.b.WriteString("Q ")
			pt(j)
			s.b.WriteByte(' ')
			pt(j + 2)
			j += 4
		case cmdCube:
			s.b.WriteString("C ")
			pt(j)
			s.b.WriteByte(' ')
			pt(j + 2)
			s.b.WriteByte(' ')
			pt(j + 4)
			j += 6
		case cmdClose:
			s.b.WriteString("Z")
		}
	}
}

func (s *svgWriter) color(c rgba) {
	s.b.WriteString("rgb(")
	s.num(math.Round(c.r * 255))
	s.b.WriteByte(',')
	s.num(math.Round(c.g * 255))
	s.b.WriteByte(',')
	s.num(math.Round(c.b * 255))
	s.b.WriteByte(')')
}

// clipRef defines clip's clipPath (and its parents') once and returns
// its id.
func (s *svgWriter) clipRef(c *clipState) int {
	if c.id != 0 {
		return c.id
	}
	parent := 0
	if c.parent != nil {
		parent = s.clipRef(c.parent)
	}
	s.nclip++
	c.id = s.nclip
	s.b.WriteString(`<clipPath id="clip` + strconv.Itoa(c.id) + `"`)
	if parent != 0 {
		s.b.WriteString(` clip-path="url(#clip` + strconv.Itoa(parent) + `)"`)
	}
	s.b.WriteString(`><path d="`)
	s.pathData(&c.p)
	s.b.WriteString(`"/></clipPath>` + "\n")
	return c.id
}

func (s *svgWriter) open(clip *clipState) {
	id := 0
	if clip != nil {
		id = s.clipRef(clip)
	}
	s.b.WriteString("<path")
	if id != 0 {
		s.b.WriteString(` clip-path="url(#clip` + strconv.Itoa(id) + `)"`)
	}
}

func (s *svgWriter) fill(p *path, c rgba, clip *clipState) {
	s.open(clip)
	s.b.WriteString(` style="stroke:none;fill-rule:nonzero;fill:`)
	s.color(c)
	s.b.WriteString(";fill-opacity:")
	s.num(c.a)
	s.b.WriteString(`;" d="`)
	s.pathData(p)
	s.b.WriteString(`"/>` + "\n")
}

func (s *svgWriter) stroke(p *path, st *strokeStyle, c rgba, clip *clipState) {
	s.open(clip)
	s.b.WriteString(` style="fill:none;stroke-width:`)
	s.num(st.width)
	s.b.WriteString(";stroke-linecap:butt;stroke-linejoin:miter;stroke:")
	s.color(c)
	s.b.WriteString(";stroke-opacity:")
	s.num(c.a)
	s.b.WriteString(";stroke-miterlimit:10;")
	if len(st.dash) > 0 {
		s.b.WriteString("stroke-dasharray:")
		for i, d := range st.dash {
			if i > 0 {
				s.b.WriteByte(',')
			}
			s.num(d)
		}
		s.b.WriteString(";stroke-dashoffset:")
		s.num(st.dashOffset)
		s.b.WriteByte(';')
	}
	s.b.WriteString(`" d="`)
	s.pathData(p)
	s.b.WriteString(`"/>` + "\n")
}

// finish closes the drawing and appends graphite-web's metadata script.
func (s *svgWriter) finish(meta []byte) []byte {
	if s.inGroup {
		s.b.WriteString("</g>\n")
	}
	s.b.WriteString("</g>\n<script>\n  <![CDATA[\n    metadata = ")
	s.b.Write(meta)
	s.b.WriteString("\n  ]]>\n</script>\n</svg>")
	return s.b.Bytes()
}
