package graph

import (
	"math"
	"strconv"

	"github.com/plumbago/plumbago/query"
)

// PieSlice is a literal slice from a name:value target.
func PieSlice(name string, v float64) *query.Series {
	return query.NewSeries(name, 0, 1, 1, []float64{v}, 0)
}

type pieSlice struct {
	name     string
	value    float64
	percent  float64
	color    string
	alpha    float64
	midAngle float64
}

// pieGraph is glyph.py's PieGraph.
type pieGraph struct {
	*base
	slices    []*pieSlice
	x0, y0, r float64
}

// pieValue is graphite-web's PieFunction: the series' average, maximum or
// minimum over its non-null values, 0 when it has none.
func pieValue(mode string, vals []float64) float64 {
	n, sum := 0, 0.0
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		n++
		sum += v
		mn, mx = math.Min(mn, v), math.Max(mx, v)
	}
	if n == 0 {
		return 0
	}
	switch mode {
	case "maximum":
		return mx
	case "minimum":
		return mn
	}
	return sum / float64(n)
}

func (g *pieGraph) draw(list []*query.Series) error {
	p := g.p
	total := 0.0
	var vals []float64
	for _, s := range list {
		v := pieValue(p.PieMode, s.Values)
		vals = append(vals, v)
		total += v
	}
	if len(list) == 0 {
		g.noData()
		return nil
	}
	if total == 0 {
		return graphErr("the pie's values sum to zero")
	}
	alpha := 1.0
	if p.areaAlpha.set && p.areaAlpha.v != 0 {
		alpha = p.areaAlpha.v
	}
	for i, s := range list {
		g.slices = append(g.slices, &pieSlice{name: s.Name, value: vals[i], percent: vals[i] / total, color: g.nextColor(), alpha: alpha})
	}
	titleFont := g.font
	titleFont.size = g.font.size + math.Floor(math.Log(g.font.size))
	g.cur = titleFont
	g.setColor(g.fg, 1)
	if p.Title != "" {
		g.drawTitle(unquotePlus(p.Title), p.YAxisSide == "right")
	}
	g.cur = g.font
	if p.hideLegend == nil || !*p.hideLegend {
		var elems []legendElem
		for _, s := range g.slices {
			elems = append(elems, legendElem{name: s.name, color: s.color})
		}
		if len(elems) > 0 {
			g.drawLegend(elems, false, false)
		}
	}
	g.drawSlices()
	if p.ValueLabels != "none" {
		g.drawLabels()
	}
	return nil
}

func (g *pieGraph) drawSlices() {
	theta := 3 * math.Pi / 2
	halfX := (g.area.xmax - g.area.xmin) / 2
	halfY := (g.area.ymax - g.area.ymin) / 2
	g.x0, g.y0 = g.area.xmin+halfX, g.area.ymin+halfY
	g.r = math.Min(halfX, halfY) * 0.95
	for _, s := range g.slices {
		g.setColor(s.color, s.alpha)
		g.c.moveTo(g.x0, g.y0)
		phi := theta + 2*math.Pi*s.percent
		if g.r > 0 && phi > theta {
			g.c.arc(g.x0, g.y0, g.r, theta, phi)
		}
		g.c.lineTo(g.x0, g.y0)
		g.c.fill()
		s.midAngle = math.Mod((theta+phi)/2, 2*math.Pi)
		if s.midAngle < 0 {
			s.midAngle += 2 * math.Pi
		}
		theta = phi
	}
}

func (g *pieGraph) drawLabels() {
	g.cur = g.font
	g.setColor(g.p.valueLabelsColor, 1)
	for _, s := range g.slices {
		var label string
		if g.p.ValueLabels == "percent" {
			if s.percent*100 < g.p.valueLabelsMin {
				continue
			}
			label = "%" + strconv.FormatFloat(s.percent*100, 'f', 2, 64)
		} else {
			if s.value < g.p.valueLabelsMin {
				continue
			}
			if s.value < 10 && s.value != math.Trunc(s.value) {
				label = strconv.FormatFloat(s.value, 'f', 2, 64)
			} else {
				label = strconv.FormatInt(int64(s.value), 10)
			}
		}
		theta := s.midAngle
		x := g.x0 + g.r/2*math.Cos(theta)
		y := g.y0 + g.r/2*math.Sin(theta)
		if g.p.PieLabels == "rotated" {
			if theta > math.Pi/2 && theta <= 3*math.Pi/2 {
				theta -= math.Pi
			}
			g.drawText(label, x, y, "center", "middle", theta*180/math.Pi)
		} else {
			g.drawText(label, x, y, "center", "middle", 0)
		}
	}
}

func renderPie(dst []byte, list []*query.Series, p *Params) ([]byte, error) {
	w, h := float64(p.Width), float64(p.Height)
	switch p.Format {
	case "svg":
		sv := newSVG(w, h)
		sv.noHeaders = true
		g := &pieGraph{base: newBase(p, sv, w, h)}
		if err := g.draw(list); err != nil {
			return nil, err
		}
		return appendOut(dst, sv.finish([]byte("{}"))), nil
	case "pdf":
		w, h = w/300*72, h/300*72
		pd := newPDF(w, h)
		g := &pieGraph{base: newBase(p, pd, w, h)}
		if err := g.draw(list); err != nil {
			return nil, err
		}
		return appendOut(dst, pd.finish()), nil
	}
	r := newRaster(p.Width, p.Height)
	g := &pieGraph{base: newBase(p, r, w, h)}
	if err := g.draw(list); err != nil {
		return nil, err
	}
	return encodePNG(r, dst)
}
