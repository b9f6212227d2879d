package graph

import (
	"math"
	"sort"
	"unicode/utf8"
)

// base is what line and pie graphs share: glyph.py's Graph.
type base struct {
	p             *Params
	c             *canvas
	width, height float64
	margin        float64
	area          area
	font          fontSpec // defaultFontParams
	cur           fontSpec // the current font
	fg, bg        string
	majorLine     string
	minorLine     string
	colors        []string
	nextIdx       int
	hinted        bool

	hideAxes, hideGrid, hideXAxis, hideYAxis bool
}

func newBase(p *Params, be backend, width, height float64) *base {
	b := &base{p: p, c: newCanvas(be), width: width, height: height, margin: float64(p.Margin),
		fg: p.foreground, bg: p.background, majorLine: p.majorLine, minorLine: p.minorLine,
		colors: p.colorList, hinted: p.Format == "png"}
	b.area = area{b.margin + 10, b.width - b.margin, b.margin, b.height - b.margin}
	b.font = fontSpec{family: fontFamily(p.fontName), size: math.Trunc(p.fontSize), bold: p.fontBold, italic: p.fontItalic, hinted: b.hinted}
	b.cur = b.font
	b.setColor(b.bg, 1)
	b.c.rectangle(0, 0, b.width, b.height)
	b.c.fill()
	return b
}

func (b *base) setColor(v string, alpha float64) { b.c.setColor(mustColor(v, alpha, false)) }

func (b *base) nextColor() string {
	c := b.colors[b.nextIdx%len(b.colors)]
	b.nextIdx++
	return c
}

// drawText is glyph.py's drawText: text aligned on (x, y), rotated by
// rotate degrees, drawn as filled glyph outlines in the current colour.
func (b *base) drawText(text string, x, y float64, align, valign string, rotate float64) {
	e := b.cur.extents()
	w := b.cur.width(text)
	var h, v float64
	switch align {
	case "center":
		h = w / 2
	case "right":
		h = w
	}
	switch valign {
	case "top":
		v = e.ascent
	case "middle":
		v = e.height/2 - e.descent
	case "bottom":
		v = -e.descent
	}
	a := rotate * math.Pi / 180
	sn, cs := math.Sin(a), math.Cos(a)
	ox := x + sn*-v - cs*h
	oy := y + cs*v - sn*h
	b.c.fillText(textKey{spec: b.cur, text: text, x: ox, y: oy, angle: a})
}

func (b *base) drawTitle(text string, rightSide bool) {
	b.c.header("title")
	y := b.area.ymin
	x := b.width / 2
	lh := b.cur.extents().height
	for _, line := range splitLines(text) {
		b.drawText(line, x, y, "center", "top", 0)
		y += lh
	}
	if rightSide {
		b.area.ymin = y
	} else {
		b.area.ymin = y + b.margin
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func (b *base) noData() {
	b.setColor("red", 1)
	b.cur = b.font
	b.cur.size = math.Log(b.width * b.height)
	b.drawText("No Data", b.width/2, b.height/2, "center", "top", 0)
}

type legendElem struct {
	name      string
	color     string
	rightSide bool
}

func (b *base) legendBox(x, y, size float64, color string) {
	b.setColor(color, 1)
	b.c.rectangle(x, y, size, size)
	b.c.fill()
	b.setColor("darkgrey", 1)
	// an unfilled rectangle is offset by half the line width
	o := b.c.lineWidth() / 2
	b.c.rectangle(x+o, y+o, size-o, size-o)
	b.c.setDash(nil, 0)
	b.c.stroke()
	b.setColor(b.fg, 1)
}

// drawLegend is glyph.py's drawLegend.
func (b *base) drawLegend(elems []legendElem, unique, secondYAxis bool) {
	b.c.header("legend")
	if unique {
		seen := map[string]bool{}
		var out []legendElem
		for _, e := range elems {
			if !seen[e.name] {
				seen[e.name] = true
				out = append(out, e)
			}
		}
		elems = out
	}
	// the longest name; the last of equals, as Python's stable sort
	names := make([]string, len(elems))
	for i, e := range elems {
		names[i] = e.name
	}
	sort.SliceStable(names, func(i, j int) bool {
		return utf8.RuneCountInString(names[i]) < utf8.RuneCountInString(names[j])
	})
	longest := names[len(names)-1]
	padding := 5.0
	test := longest + " " + longest
	ext := b.cur.extents()
	testBox := ext.height - 1
	testWidth := b.cur.width(test) + 2*(testBox+padding)
	rightSideLabels := testWidth+50 < b.width
	b.c.setLineWidth(1)
	boxSize := ext.height - 1
	lineHeight := ext.height + 1
	labelWidth := b.cur.width(longest) + 2*(boxSize+padding)
	if secondYAxis && rightSideLabels {
		columns := math.Max(1, math.Floor((b.width-b.area.xmin)/labelWidth))
		numRight := 0
		for _, e := range elems {
			if e.rightSide {
				numRight++
			}
		}
		lines := math.Max(float64(len(elems)-numRight), float64(numRight))
		columns = math.Floor(columns / 2)
		if columns < 1 {
			columns = 1
		}
		legendHeight := math.Max(1, lines/columns)*lineHeight + padding
		b.area.ymax -= legendHeight
		b.c.setLineWidth(1)
		x := b.area.xmin
		y := b.area.ymax + 2*padding
		n, nRight := 0, 0
		xRight := b.area.xmax - b.area.xmin
		yRight := y
		for _, e := range elems {
			if e.rightSide {
				nRight++
				b.legendBox(xRight-padding, yRight, boxSize, e.color)
				b.drawText(e.name, xRight-boxSize, yRight, "right", "top", 0)
				xRight -= labelWidth
				if math.Mod(float64(nRight), columns) == 0 {
					xRight = b.area.xmax - b.area.xmin
					yRight += lineHeight
				}
			} else {
				n++
				b.legendBox(x, y, boxSize, e.color)
				b.drawText(e.name, x+boxSize+padding, y, "left", "top", 0)
				x += labelWidth
				if math.Mod(float64(n), columns) == 0 {
					x = b.area.xmin
					y += lineHeight
				}
			}
		}
		return
	}
	columns := math.Floor(b.width / labelWidth)
	if columns < 1 {
		columns = 1
	}
	lines := math.Ceil(float64(len(elems)) / columns)
	b.area.ymax -= lines*lineHeight + padding
	b.c.setLineWidth(1)
	x := b.area.xmin
	y := b.area.ymax + 2*padding
	for i, e := range elems {
		if e.rightSide {
			b.legendBox(x+labelWidth+padding, y, boxSize, e.color)
			b.drawText(e.name, x+labelWidth, y, "right", "top", 0)
		} else {
			b.legendBox(x, y, boxSize, e.color)
			b.drawText(e.name, x+boxSize+padding, y, "left", "top", 0)
		}
		x += labelWidth
		if math.Mod(float64(i+1), columns) == 0 {
			x = b.area.xmin
			y += lineHeight
		}
	}
}
