package graph

import (
	"math"
	"strconv"

	"github.com/plumbago/plumbago/query"
)

// ContentType is the media type graphite-web answers for format.
func ContentType(format string) string {
	switch format {
	case "svg":
		return "image/svg+xml"
	case "pdf":
		return "application/x-pdf"
	}
	return "image/png"
}

// Render draws the series as p asks and appends the picture to dst,
// returning the extended buffer: a PNG is written straight into dst's
// memory when it has room (pass a reused buffer to spare the copy and
// the fresh memory of a picture). Errors are *ParamError (a bad
// parameter or series colour) or a data error (IsDataError: glyph.py's
// GraphError, e.g. a log scale over values ≤ 0).
func Render(dst []byte, list []*query.Series, p *Params) ([]byte, error) {
	if err := loadFaces(); err != nil {
		return nil, err
	}
	if p.GraphType == "pie" {
		return renderPie(dst, list, p)
	}
	w, h := float64(p.Width), float64(p.Height)
	switch p.Format {
	case "svg":
		sv := newSVG(w, h)
		g := &lineGraph{base: newBase(p, sv, w, h)}
		if err := g.draw(list); err != nil {
			return nil, err
		}
		return appendOut(dst, sv.finish(g.metadata())), nil
	case "pdf":
		w, h = w/300*72, h/300*72
		pd := newPDF(w, h)
		g := &lineGraph{base: newBase(p, pd, w, h)}
		if err := g.draw(list); err != nil {
			return nil, err
		}
		return appendOut(dst, pd.finish()), nil
	}
	r := newRaster(p.Width, p.Height)
	g := &lineGraph{base: newBase(p, r, w, h)}
	if err := g.draw(list); err != nil {
		return nil, err
	}
	return encodePNG(r, dst)
}

// appendOut appends a finished picture b to dst, or returns b itself
// when dst is empty and could not hold it.
func appendOut(dst, b []byte) []byte {
	if len(dst) == 0 && cap(dst) < len(b) {
		return b
	}
	return append(dst, b...)
}

// jsonw appends Python json.dumps-style JSON.
type jsonw struct{ b []byte }

func (j *jsonw) raw(s string) { j.b = append(j.b, s...) }

func (j *jsonw) str(s string) { j.b = strconv.AppendQuoteToASCII(j.b, s) }

func (j *jsonw) num(f float64) {
	switch {
	case math.IsNaN(f):
		j.raw("NaN")
	case math.IsInf(f, 1):
		j.raw("Infinity")
	case math.IsInf(f, -1):
		j.raw("-Infinity")
	default:
		j.b = query.AppendFloatRepr(j.b, f)
	}
}

func (j *jsonw) int(n int64) { j.b = strconv.AppendInt(j.b, n, 10) }

func (j *jsonw) boolean(v bool) {
	if v {
		j.raw("true")
	} else {
		j.raw("false")
	}
}

func (j *jsonw) key(k string, first bool) {
	if !first {
		j.raw(", ")
	}
	j.str(k)
	j.raw(": ")
}

// metadata is glyph.py's SVG metadata object.
func (g *lineGraph) metadata() []byte {
	j := &jsonw{}
	if !g.drawn {
		j.raw("{}")
		return j.b
	}
	j.raw("{")
	j.key("x", true)
	j.raw("{")
	j.key("start", true)
	j.int(g.startTime)
	j.key("end", false)
	j.int(g.endTime)
	j.raw("}")
	j.key("options", false)
	j.raw("{")
	j.key("lineWidth", true)
	j.num(g.lineWidth)
	j.raw("}")
	j.key("font", false)
	j.raw("{")
	j.key("name", true)
	j.str(g.p.fontName)
	j.key("size", false)
	j.int(int64(g.font.size))
	j.key("bold", false)
	j.boolean(g.font.bold)
	j.key("italic", false)
	j.boolean(g.font.italic)
	j.raw("}")
	j.key("area", false)
	j.raw("{")
	j.key("xmin", true)
	j.num(g.area.xmin)
	j.key("xmax", false)
	j.num(g.area.xmax)
	j.key("ymin", false)
	j.num(g.area.ymin)
	j.key("ymax", false)
	j.num(g.area.ymax)
	j.raw("}")
	j.key("series", false)
	g.seriesJSON(j)
	if !g.secondYAxis {
		g.yAxisJSON(j)
	}
	j.raw("}")
	return j.b
}

// seriesJSON writes the metadata's series list: every series drawn but
// the stacked ones, with its consolidated values.
func (g *lineGraph) seriesJSON(j *jsonw) {
	j.raw("[")
	first := true
	for _, s := range g.data {
		if s.opts.stacked {
			continue
		}
		if !first {
			j.raw(", ")
		}
		first = false
		j.raw("{")
		j.key("name", true)
		j.str(s.name)
		j.key("start", false)
		j.int(s.start)
		j.key("end", false)
		j.int(s.end)
		j.key("step", false)
		j.int(s.step)
		j.key("valuesPerPoint", false)
		j.int(int64(s.vpp))
		j.key("color", false)
		j.str(s.color)
		j.key("data", false)
		j.raw("[")
		for i, v := range s.consolidated() {
			if i > 0 {
				j.raw(", ")
			}
			if math.IsNaN(v) {
				j.raw("null")
			} else {
				j.num(v)
			}
		}
		j.raw("]")
		j.key("options", false)
		s.opts.appendJSON(j)
		j.raw("}")
	}
	j.raw("]")
}

// yAxisJSON writes the metadata's y axis: its bounds, step and labels.
func (g *lineGraph) yAxisJSON(j *jsonw) {
	j.key("y", false)
	j.raw("{")
	j.key("top", true)
	j.num(g.yTop)
	j.key("bottom", false)
	j.num(g.yBottom)
	j.key("step", false)
	if g.yStepSet {
		j.num(g.yStep)
	} else {
		j.raw("null")
	}
	jsonList(j, "labels", g.yLabels, j.str)
	jsonList(j, "labelValues", g.yLabelValues, j.num)
	j.raw("}")
}

// jsonList writes the member key (not the object's first) with the
// array of xs, each written by item.
func jsonList[T any](j *jsonw, key string, xs []T, item func(T)) {
	j.key(key, false)
	j.raw("[")
	for i, x := range xs {
		if i > 0 {
			j.raw(", ")
		}
		item(x)
	}
	j.raw("]")
}

func (o *seriesOpts) appendJSON(j *jsonw) {
	j.raw("{")
	first := true
	flag := func(k string, v bool) {
		if v {
			j.key(k, first)
			first = false
			j.raw("true")
		}
	}
	numOpt := func(k string, v optFloat) {
		if v.set {
			j.key(k, first)
			first = false
			j.num(v.v)
		}
	}
	flag("secondYAxis", o.secondYAxis)
	flag("drawAsInfinite", o.drawAsInfinite)
	flag("invisible", o.invisible)
	numOpt("alpha", o.alpha)
	numOpt("lineWidth", o.lineWidth)
	numOpt("dashed", o.dashed)
	j.raw("}")
}
