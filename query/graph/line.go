package graph

import (
	"math"
	"strings"

	"github.com/plumbago/plumbago/query"
)

// maxMinorLines bounds the horizontal minor grid lines (labels × minorY).
const maxMinorLines = 10000

// legendMaxItems is graphite-web's LEGEND_MAX_ITEMS: more series than this
// hide the legend unless hideLegend says otherwise.
const legendMaxItems = 10

// gseries is one series as the graph draws it: its raw values (copied,
// stacking changes them), consolidation and glyph.py's series.options.
type gseries struct {
	src    *query.Series
	name   string
	start  int64
	end    int64
	step   int64
	values []float64
	vpp    int
	xStep  float64
	color  string
	opts   seriesOpts
	// cons is consolidated's result for consVpp (nil: not made, or
	// values changed since)
	cons    []float64
	consVpp int
}

// seriesOpts are graphite-web's series.options.
type seriesOpts struct {
	stacked, invisible, secondYAxis, drawAsInfinite bool
	alpha                                           optFloat
	lineWidth                                       optFloat
	dashed                                          optFloat
	dashedBool                                      bool
}

// consolidated is the values consolidated vpp to a point, made once
// (the axes and the drawing both read them); the caller must not change
// them, and whoever changes values drops them (cons = nil).
func (s *gseries) consolidated() []float64 {
	if s.vpp <= 1 {
		return s.values
	}
	if s.cons == nil || s.consVpp != s.vpp {
		c := query.Series{Values: s.values, ValuesPerPoint: s.vpp, ConsolidationFunc: s.src.ConsolidationFunc, XFilesFactor: s.src.XFilesFactor}
		s.cons, s.consVpp = c.Consolidated(), s.vpp
	}
	return s.cons
}

// area is the plot area.
type area struct{ xmin, xmax, ymin, ymax float64 }

// lineGraph is one LineGraph drawing.
type lineGraph struct {
	*base
	data, dataLeft, dataRight []*gseries
	secondYAxis               bool
	lineWidth                 float64
	lineMode                  string
	areaMode                  string
	yAxisSide                 string

	startTime, endTime, timeRange int64
	graphWidth                    float64
	drawn                         bool // past "No Data": metadata has content

	// y axis (single)
	yStep, yBottom, yTop, ySpan float64
	yStepSet                    bool
	yLabelValues                []float64
	yLabels                     []string
	yLabelWidth                 float64
	// two y axes
	yBottomL, yTopL, yBottomR, yTopR float64
	yLabelValuesL, yLabelValuesR     []float64
	yLabelsL, yLabelsR               []string
	yLabelWidthL, yLabelWidthR       float64

	clock        wallClock
	xScaleFactor float64
	xConf        xAxisConfig
}

func (g *lineGraph) draw(list []*query.Series) error {
	p := g.p
	if err := g.addSeries(list); err != nil {
		return err
	}
	if len(g.data) > 0 {
		st, en := g.data[0].start, g.data[0].end
		for _, s := range g.data {
			st, en = min(st, s.start), max(en, s.end)
		}
		if en-st == 0 {
			g.noData()
			return nil
		}
	} else {
		g.noData()
		return nil
	}
	for _, s := range g.data {
		if s.opts.secondYAxis {
			g.dataRight = append(g.dataRight, s)
		} else {
			g.dataLeft = append(g.dataLeft, s)
		}
	}
	g.secondYAxis = len(g.dataRight) > 0

	title, vtitle := p.Title, p.VTitle
	hideLegend := len(g.data) > legendMaxItems
	if p.hideLegend != nil {
		hideLegend = *p.hideLegend
	}
	hideGrid, hideAxes, hideXAxis, hideYAxis := p.HideGrid, p.HideAxes, p.HideXAxis, p.HideYAxis
	g.yAxisSide = p.YAxisSide
	if p.GraphOnly {
		hideLegend, hideGrid, hideAxes, hideXAxis, hideYAxis = true, true, true, false, false
		g.yAxisSide = "left"
		title, vtitle = "", ""
		g.margin = 0
		g.area = area{0, g.width, 0, g.height}
	}
	g.hideAxes, g.hideGrid, g.hideXAxis, g.hideYAxis = hideAxes, hideGrid, hideXAxis, hideYAxis
	if g.secondYAxis {
		g.yAxisSide = "left"
	}
	if g.yAxisSide == "right" {
		g.margin = g.width
	}
	g.lineWidth = p.lineWidth
	g.lineMode = p.LineMode
	g.areaMode = p.AreaMode
	if g.lineMode == "slope" {
		for _, s := range g.data {
			if len(s.values) == 1 {
				g.lineMode = "staircase"
				break
			}
		}
	}
	g.styleSeries()
	g.drawTitles(title, vtitle)

	if !hideLegend {
		g.drawSeriesLegend()
	}
	if !hideAxes && !hideXAxis {
		g.area.ymax -= g.cur.extents().ascent * 2
	}
	g.setTimeRange()
	g.drawn = true
	if g.timeRange <= 0 {
		return graphErr("the time range holds a single point in lineMode %s", g.lineMode)
	}
	if err := g.consolidate(); err != nil {
		return err
	}
	if err := g.fitAxes(); err != nil {
		return err
	}
	g.setupXAxis()
	if n := max(len(g.yLabelValues), len(g.yLabelValuesL)) * max(g.p.MinorY, 0); !hideAxes && !hideGrid && n > maxMinorLines {
		return graphErr("%d minor grid lines, at most %d (fewer y labels or a smaller minorY)", n, maxMinorLines)
	}
	if !hideAxes {
		g.drawLabels()
		if !hideGrid {
			g.c.header("grid")
			g.drawGridLines()
		}
	}
	g.c.header("lines")
	g.drawLines()
	return nil
}

// styleSeries gives each series the line width, dash and colour of its
// axis (leftWidth, rightColor... when there are two y axes), then a
// colour from the palette to those still without one.
func (g *lineGraph) styleSeries() {
	p := g.p
	if g.secondYAxis {
		for _, s := range g.data {
			w, d, c := p.leftWidth, p.leftDashed, p.leftColor
			if s.opts.secondYAxis {
				w, d, c = p.rightWidth, p.rightDashed, p.rightColor
			}
			if w.set {
				s.opts.lineWidth = w
			}
			if d.set {
				s.opts.dashed = d
				s.opts.dashedBool = (s.opts.secondYAxis && p.rightDashedBool) || (!s.opts.secondYAxis && p.leftDashedBool)
			}
			if c != "" {
				s.color = c
			}
		}
	}
	for _, s := range g.data {
		if s.color == "" {
			s.color = g.nextColor()
		}
	}
}

// addSeries adds the series of list to g.data with their graph options,
// refusing a colour that does not parse.
func (g *lineGraph) addSeries(list []*query.Series) error {
	for _, s := range list {
		gs := &gseries{src: s, name: s.Name, start: s.Start, end: s.End, step: s.Step,
			values: append([]float64(nil), s.Values...), vpp: max(s.ValuesPerPoint, 1), color: s.Color}
		o := s.Graph
		gs.opts = seriesOpts{stacked: o.Stacked, invisible: o.Invisible, secondYAxis: o.SecondYAxis, drawAsInfinite: o.DrawAsInfinite}
		if o.HasAlpha {
			gs.opts.alpha = optFloat{o.Alpha, true}
		}
		if o.HasLineWidth {
			gs.opts.lineWidth = optFloat{o.LineWidth, true}
		}
		if o.Dashed != 0 {
			gs.opts.dashed = optFloat{o.Dashed, true}
		}
		if gs.color != "" {
			if _, err := parseColor(gs.color, 1, false); err != nil {
				return perr("color", "%s", err.Error())
			}
		}
		if gs.step <= 0 {
			gs.step = 1
		}
		g.data = append(g.data, gs)
	}
	return nil
}

// drawTitles draws the title and the vertical titles in the title font.
func (g *lineGraph) drawTitles(title, vtitle string) {
	p := g.p
	titleFont := g.font
	titleFont.size = g.font.size + math.Floor(math.Log(g.font.size))
	g.cur = titleFont
	g.setColor(g.fg, 1)
	if title != "" {
		g.drawTitle(unquotePlus(title), g.yAxisSide == "right")
	}
	if vtitle != "" {
		g.drawVTitle(unquotePlus(vtitle), false)
	}
	if g.secondYAxis && p.VTitleRight != "" {
		g.drawVTitle(unquotePlus(p.VTitleRight), true)
	}
	g.cur = g.font
}

// drawSeriesLegend draws the legend of the named series.
func (g *lineGraph) drawSeriesLegend() {
	p := g.p
	var elems []legendElem
	for _, s := range g.data {
		if s.name == "" {
			continue
		}
		if p.HideNullFromLegend && allNaN(s.consolidated()) {
			continue
		}
		elems = append(elems, legendElem{unquotePlus(s.name), s.color, s.opts.secondYAxis})
	}
	if len(elems) > 0 {
		g.drawLegend(elems, p.UniqueLegend, g.secondYAxis)
	}
}

// setTimeRange sets the time range the series span (to the last point
// in the slope and connected modes, past it in staircase).
func (g *lineGraph) setTimeRange() {
	g.startTime = g.data[0].start
	g.endTime = math.MinInt64
	for _, s := range g.data {
		g.startTime = min(g.startTime, s.start)
		if g.lineMode == "staircase" {
			g.endTime = max(g.endTime, s.end)
		} else {
			g.endTime = max(g.endTime, s.end-s.step)
		}
	}
	g.timeRange = g.endTime - g.startTime
}

// fitAxes sets the y axes up, again after each consolidation while the
// labels change the plot's width.
func (g *lineGraph) fitAxes() error {
	g.c.header("axes")
	curMin, curMax := g.area.xmin, g.area.xmax
	if err := g.setupYAxes(); err != nil {
		return err
	}
	for i := 0; curMin != g.area.xmin || curMax != g.area.xmax; i++ {
		if i > 100 {
			return graphErr("the y axis labels do not fit")
		}
		if err := g.consolidate(); err != nil {
			return err
		}
		curMin, curMax = g.area.xmin, g.area.xmax
		if err := g.setupYAxes(); err != nil {
			return err
		}
	}
	return nil
}

func allNaN(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

func (g *lineGraph) setupYAxes() error {
	if g.secondYAxis {
		return g.setupTwoYAxes()
	}
	return g.setupYAxis()
}

func (g *lineGraph) drawVTitle(text string, right bool) {
	lh := g.cur.extents().height
	if right {
		g.c.header("vtitleRight")
		x := g.area.xmax - lh
		y := g.height / 2
		for _, line := range strings.Split(text, "\n") {
			g.drawText(line, x, y, "center", "baseline", 90)
			x -= lh
		}
		g.area.xmax = x - g.margin - lh
		return
	}
	g.c.header("vtitle")
	x := g.area.xmin + lh
	y := g.height / 2
	for _, line := range strings.Split(text, "\n") {
		g.drawText(line, x, y, "center", "baseline", 270)
		x += lh
	}
	g.area.xmin = x + g.margin + lh
}

// consolidate is consolidateDataPoints: fit the points to the pixels.
func (g *lineGraph) consolidate() error {
	n := g.area.xmax - g.area.xmin - (g.lineWidth + 1)
	g.graphWidth = n
	for _, s := range g.data {
		points := float64(g.timeRange) / float64(s.step)
		best := n / points
		if best < g.p.minXStep {
			drawable := math.Trunc(n / g.p.minXStep)
			if drawable <= 0 {
				return graphErr("the graph is too narrow to draw")
			}
			ppp := math.Ceil(points / drawable)
			s.vpp = int(math.Min(ppp, 1e9))
			s.xStep = n * ppp / points
		} else {
			s.xStep = best
		}
	}
	return nil
}

// dataLimits is glyph.py's dataLimits over data. The nulls are looked
// for only where drawNullAsZero reads them; the extremes start at the
// infinities, which any finite value passes (the first one found is
// taken, as glyph.py's "is None" tests do), and a value is finite where
// its magnitude is at most the largest float (one compare: false for
// NaN and the infinities).
func (g *lineGraph) dataLimits(data []*gseries) (float64, float64) {
	drawNullAsZero, stacked := g.p.DrawNullAsZero, g.areaMode == "stacked"
	missing := false
	for _, s := range data {
		if !drawNullAsZero {
			break
		}
		for _, v := range s.values {
			if math.IsNaN(v) {
				missing = true
				break
			}
		}
	}
	var finite []*gseries
	for _, s := range data {
		if !s.opts.drawAsInfinite {
			finite = append(finite, s)
		}
	}
	yMin, yMax := math.Inf(1), math.Inf(-1)
	for _, s := range finite {
		for _, v := range s.consolidated() {
			if math.Abs(v) <= math.MaxFloat64 {
				if v < yMin {
					yMin = v
				}
				if v > yMax {
					yMax = v
				}
			}
		}
	}
	haveMin, haveMax := !math.IsInf(yMin, 1), !stacked && !math.IsInf(yMax, -1)
	if !haveMax {
		yMax = 0
	}
	if !haveMin {
		return 0, 1
	}
	if yMin > 0 && drawNullAsZero && missing {
		yMin = 0
	}
	if stacked {
		length := -1
		for _, s := range finite {
			if length < 0 || len(s.values) < length {
				length = len(s.values)
			}
		}
		for i := 0; i < length; i++ {
			sum := 0.0
			for _, s := range finite {
				if v := s.values[i]; !math.IsNaN(v) && !math.IsInf(v, 0) {
					sum += v
				}
			}
			if !haveMax || sum > yMax {
				yMax, haveMax = sum, true
			}
		}
	}
	if yMax < 0 && drawNullAsZero && missing {
		yMax = 0
	}
	return yMin, yMax
}

func (g *lineGraph) newAxis(data []*gseries, yMin, yMax optFloat, maxIsMax bool, yLimit, yStep optFloat) (*axisTics, error) {
	lo, hi := g.dataLimits(data)
	t, err := newTics(lo, hi, g.p.YUnitSystem, g.p.logBase)
	if err != nil {
		return nil, err
	}
	if err := t.applySettings(yMin, yMax, maxIsMax, yLimit); err != nil {
		return nil, err
	}
	if yStep.set {
		t.setStep(yStep.v)
	} else {
		t.chooseStep(g.p.yDivisors, g.p.YUnitSystem == "binary")
	}
	if err := t.chooseLimits(); err != nil {
		return nil, err
	}
	return t, nil
}

func (g *lineGraph) labelsFor(t *axisTics) ([]float64, []string, float64, error) {
	vals, err := t.labelValues()
	if err != nil {
		return nil, nil, 0, err
	}
	labels := make([]string, len(vals))
	w := math.Inf(-1)
	for i, v := range vals {
		labels[i] = t.makeLabel(v)
		w = math.Max(w, g.cur.width(labels[i]))
	}
	if len(vals) == 0 {
		return nil, nil, 0, graphErr("no y axis labels")
	}
	return vals, labels, w, nil
}

func (g *lineGraph) setupYAxis() error {
	p := g.p
	t, err := g.newAxis(g.data, p.yMin, p.yMax, p.yMaxIsMax, p.yLimit, p.yStep)
	if err != nil {
		return err
	}
	g.yStep, g.yStepSet, g.yBottom, g.yTop, g.ySpan = t.step, t.hasStep && !t.log, t.bottom, t.to, t.span
	if g.hideAxes {
		g.yLabelValues, g.yLabels, g.yLabelWidth = nil, nil, 0
		return nil
	}
	if g.yLabelValues, g.yLabels, g.yLabelWidth, err = g.labelsFor(t); err != nil {
		return err
	}
	if t.step != g.yStep {
		// labelValues re-chose an insane step
		g.yStep = t.step
	}
	if !g.hideYAxis {
		if g.yAxisSide == "left" {
			if xMin := g.margin + g.yLabelWidth*1.02; g.area.xmin < xMin {
				g.area.xmin = xMin
			}
		} else {
			if xMax := g.margin - g.yLabelWidth*1.02; g.area.xmax >= xMax {
				g.area.xmax = xMax
			}
		}
	}
	return nil
}

func (g *lineGraph) setupTwoYAxes() error {
	p := g.p
	tl, err := g.newAxis(g.dataLeft, p.yMinL, p.yMaxL, p.yMaxLIsMax, p.yLimitL, p.yStepL)
	if err != nil {
		return err
	}
	tr, err := g.newAxis(g.dataRight, p.yMinR, p.yMaxR, p.yMaxRIsMax, p.yLimitR, p.yStepR)
	if err != nil {
		return err
	}
	g.yBottomL, g.yTopL, g.yBottomR, g.yTopR = tl.bottom, tl.to, tr.bottom, tr.to
	if g.yLabelValuesL, g.yLabelsL, g.yLabelWidthL, err = g.labelsFor(tl); err != nil {
		return err
	}
	if g.yLabelValuesR, g.yLabelsR, g.yLabelWidthR, err = g.labelsFor(tr); err != nil {
		return err
	}
	if xMin := g.margin + g.yLabelWidthL*1.02; g.area.xmin < xMin {
		g.area.xmin = xMin
	}
	if xMax := g.width - g.yLabelWidthR*1.02; g.area.xmax >= xMax {
		g.area.xmax = xMax
	}
	return nil
}

func (g *lineGraph) setupXAxis() {
	g.clock = newWallClock(g.startTime, g.endTime, g.p.tz)
	spp := float64(g.timeRange) / g.graphWidth
	g.xScaleFactor = g.graphWidth / float64(g.timeRange)
	g.xConf = chooseXConfig(spp, g.timeRange)
}

// yCoord is getYCoord; ok is false where the log scale has no place
// for value.
func (g *lineGraph) yCoord(value float64, side int) (float64, bool) {
	ys := g.yScaleOf(side)
	return ys.at(value)
}

// yScale maps values to y coordinates on one side's axis: getYCoord's
// arithmetic with what does not depend on the value (the extent of the
// axis' labels, the logarithms of its ends) worked out once, so that a
// series' points cost a subtraction and a multiplication each, the
// same operations in the same order (the same coordinates).
type yScale struct {
	ymax    float64 // the plot's bottom
	k       float64 // pixels per value (or per unit of log)
	lo      float64 // the value at the bottom (or its log)
	logBase float64 // > 0 on a log scale
}

func (g *lineGraph) yScaleOf(side int) yScale {
	vals, top, bottom := g.yLabelValues, g.yTop, g.yBottom
	switch side {
	case sideLeft:
		vals, top, bottom = g.yLabelValuesL, g.yTopL, g.yBottomL
	case sideRight:
		vals, top, bottom = g.yLabelValuesR, g.yTopR, g.yBottomR
	}
	hi, lo := top, bottom
	if len(vals) > 0 {
		hi, lo = vals[0], vals[0]
		for _, v := range vals {
			hi, lo = max(hi, v), min(lo, v) // as math.Max and Min, inline
		}
	}
	pixelRange := g.area.ymax - g.area.ymin
	valueRange := hi - lo
	if b := g.p.logBase; b > 0 {
		lo = pyLog(lo, b)
		valueRange = pyLog(hi, b) - lo
	}
	return yScale{ymax: g.area.ymax, k: pixelRange / valueRange, lo: lo, logBase: g.p.logBase}
}

// at is value's y coordinate; ok is false where the log scale has no
// place for it.
func (ys *yScale) at(value float64) (float64, bool) {
	rel := value - ys.lo
	if ys.logBase > 0 {
		if value <= 0 {
			return 0, false
		}
		rel = pyLog(value, ys.logBase) - ys.lo
	}
	return ys.ymax - ys.k*rel, true
}

const (
	sideNone = iota
	sideLeft
	sideRight
)

func (g *lineGraph) seriesSide(s *gseries) int {
	if !g.secondYAxis {
		return sideNone
	}
	if s.opts.secondYAxis {
		return sideRight
	}
	return sideLeft
}

func (g *lineGraph) drawLabels() {
	if !g.hideYAxis {
		if !g.secondYAxis {
			for i, v := range g.yLabelValues {
				var x float64
				if g.yAxisSide == "left" {
					x = g.area.xmin - g.yLabelWidth*0.02
				} else {
					x = g.area.xmax + g.yLabelWidth*0.02
				}
				y, ok := g.yCoord(v, sideNone)
				if !ok {
					continue
				}
				y = math.Max(y, 0)
				if g.yAxisSide == "left" {
					g.drawText(g.yLabels[i], x, y, "right", "middle", 0)
				} else {
					g.drawText(g.yLabels[i], x, y, "left", "middle", 0)
				}
			}
		} else {
			for i, v := range g.yLabelValuesL {
				x := g.area.xmin - g.yLabelWidthL*0.02
				y, ok := g.yCoord(v, sideLeft)
				if !ok {
					continue
				}
				g.drawText(g.yLabelsL[i], x, math.Max(y, 0), "right", "middle", 0)
			}
			for i, v := range g.yLabelValuesR {
				x := g.area.xmax + g.yLabelWidthR*0.02 + 3
				y, ok := g.yCoord(v, sideRight)
				if !ok {
					continue
				}
				g.drawText(g.yLabelsR[i], x, math.Max(y, 0), "left", "middle", 0)
			}
		}
	}
	if !g.hideXAxis {
		dt, delta := g.clock.firstTick(g.xConf.labelUnit, g.xConf.labelStep)
		format := g.xConf.format
		if g.p.xFormatSet {
			format = g.p.XFormat
		}
		for n := 0; g.clock.before(dt) && n < 10000; n++ {
			label := g.clock.strftime(format, dt)
			x := g.area.xmin + math.Trunc(dt-float64(g.clock.start))*g.xScaleFactor
			y := g.area.ymax + g.cur.extents().ascent
			g.drawText(label, x, y, "center", "top", 0)
			dt += delta
		}
	}
}

func (g *lineGraph) drawGridLines() {
	left, right := g.area.xmin, g.area.xmax
	labels := g.yLabelValues
	side := sideNone
	top := g.yTop
	if g.secondYAxis {
		labels, side, top = g.yLabelValuesL, sideLeft, g.yTopL
	}
	for i, v := range labels {
		g.c.setLineWidth(0.4)
		g.setColor(g.majorLine, 1)
		y, ok := g.yCoord(v, side)
		if !ok || y < 0 {
			continue
		}
		g.c.moveTo(left, y)
		g.c.lineTo(right, y)
		g.c.stroke()
		if g.p.MinorY >= 1 && i < len(labels)-1 {
			lo, hi := v, labels[i+1]
			if lo > hi {
				lo, hi = hi, lo
			}
			dist := (hi - lo) / float64(1+g.p.MinorY)
			for m := 0; m < g.p.MinorY; m++ {
				g.c.setLineWidth(0.3)
				g.setColor(g.minorLine, 1)
				val := lo + float64(1+m)*dist
				f := 1.0
				if g.p.logBase > 0 {
					f = g.p.logBase * g.p.logBase
				}
				if val >= f*top {
					continue
				}
				y, ok := g.yCoord(val, side)
				if !ok || y < 0 {
					continue
				}
				g.c.moveTo(left, y)
				g.c.lineTo(right, y)
				g.c.stroke()
			}
		}
	}
	top2, bottom := g.area.ymin, g.area.ymax
	vertical := func(unit int64, step float64) {
		dt, delta := g.clock.firstTick(unit, step)
		for n := 0; g.clock.before(dt) && n < 100000; n++ {
			x := g.area.xmin + math.Trunc(dt-float64(g.clock.start))*g.xScaleFactor
			if x < g.area.xmax {
				g.c.moveTo(x, bottom)
				g.c.lineTo(x, top2)
				g.c.stroke()
			}
			dt += delta
		}
	}
	g.c.setLineWidth(0.25)
	g.setColor(g.minorLine, 1)
	vertical(g.xConf.minorUnit, g.xConf.minorStep)
	g.c.setLineWidth(0.33)
	g.setColor(g.majorLine, 1)
	vertical(g.xConf.majorUnit, g.xConf.majorStep)
	g.c.setLineWidth(0.5)
	g.c.moveTo(g.area.xmax, bottom)
	g.c.lineTo(g.area.xmax, top2)
	g.c.moveTo(g.area.xmin, bottom)
	g.c.lineTo(g.area.xmin, top2)
	g.c.stroke()
}

func (g *lineGraph) drawLines() {
	c := g.c
	width := g.lineWidth
	c.setLineWidth(width)
	c.setDash(nil, 0)
	g.stackSeries()
	c.setLineWidth(1)
	c.rectangle(g.area.xmin, g.area.ymin, g.area.xmax-g.area.xmin, g.area.ymax-g.area.ymin)
	c.clip()
	c.setLineWidth(width)
	c.save()
	restored := false
	for _, s := range g.data {
		if !s.opts.stacked && !restored {
			restored = true
			c.restore()
		}
		g.setSeriesStyle(s)
		g.drawSeries(s, width)
	}
}

// stackSeries orders the stacked series first, stacks them as areaMode
// says and, with areaAlpha, adds each area's outline as a series of
// its own.
func (g *lineGraph) stackSeries() {
	single := false
	for _, s := range g.data {
		if s.opts.stacked {
			single = true
		}
	}
	if single {
		var st, rest []*gseries
		for _, s := range g.data {
			if s.opts.stacked {
				st = append(st, s)
			} else {
				rest = append(rest, s)
			}
		}
		g.data = append(st, rest...)
	}
	switch {
	case g.areaMode == "stacked" && !g.secondYAxis:
		var total []float64
		for _, s := range g.data {
			if s.opts.drawAsInfinite {
				continue
			}
			s.opts.stacked = true
			s.cons = nil
			for i := range s.values {
				if len(total) <= i {
					total = append(total, 0)
				}
				if v := s.values[i]; !math.IsNaN(v) {
					s.values[i] += total[i]
					total[i] += v
				}
			}
		}
	case g.areaMode == "first":
		g.data[0].opts.stacked = true
	case g.areaMode == "all":
		for _, s := range g.data {
			if !s.opts.drawAsInfinite {
				s.opts.stacked = true
			}
		}
	}
	if g.p.areaAlpha.set && g.p.areaAlpha.v != 0 {
		alpha := g.p.areaAlpha.v
		var strokes []*gseries
		for _, s := range g.data {
			if !s.opts.stacked {
				continue
			}
			s.opts.alpha = optFloat{alpha, true}
			ns := &gseries{src: s.src, name: s.name, start: s.start, end: s.end, step: s.step * int64(s.vpp),
				values: append([]float64(nil), s.consolidated()...), vpp: 1, xStep: s.xStep, color: s.color}
			ns.src = &query.Series{ConsolidationFunc: s.src.ConsolidationFunc, XFilesFactor: s.src.XFilesFactor}
			ns.opts.secondYAxis = s.opts.secondYAxis
			strokes = append(strokes, ns)
		}
		g.data = append(g.data, strokes...)
	}
}

// setSeriesStyle sets the line width, dash and colour of series s.
func (g *lineGraph) setSeriesStyle(s *gseries) {
	c := g.c
	if s.opts.lineWidth.set {
		c.setLineWidth(s.opts.lineWidth.v)
	}
	if s.opts.dashed.set && s.opts.dashed.v > 0 {
		c.setDash([]float64{s.opts.dashed.v}, 1)
	} else {
		c.setDash(nil, 0)
	}
	if s.opts.invisible {
		c.setColor(mustColor(s.color, 0, true))
	} else {
		a := 1.0
		if s.opts.alpha.set && s.opts.alpha.v != 0 {
			a = s.opts.alpha.v
		}
		c.setColor(mustColor(s.color, a, false))
	}
}

// drawSeries draws series s as a line (its gaps where values are missing
// or have no place on the scale) or, stacked, as a filled area; the line
// width is width again afterwards.
func (g *lineGraph) drawSeries(s *gseries, width float64) {
	c := g.c
	missing := float64(s.start-g.startTime) / float64(s.step)
	shift := s.xStep * (missing / float64(s.vpp))
	x := g.area.xmin + shift + g.lineWidth/2
	y := g.area.ymin
	startX := x
	side := g.seriesSide(s)
	ys := g.yScaleOf(side)
	mode := lineModeOf(g.lineMode)
	nones := 0
	for idx, v := range s.consolidated() {
		if math.IsNaN(v) && g.p.DrawNullAsZero {
			v = 0
		}
		if math.IsNaN(v) {
			if nones == 0 {
				c.lineTo(x, y)
				if s.opts.stacked {
					y0, ok := g.yCoord(0, side)
					if !ok {
						y0 = 0
					}
					g.fillAreaAndClip(x, y, startX, y0)
				}
			}
			x += s.xStep
			nones++
			continue
		}
		yy, ok := ys.at(v)
		if !ok {
			// no place on a log scale: a gap
			if nones == 0 {
				c.lineTo(x, y)
			}
			x += s.xStep
			nones++
			continue
		}
		y = max(yy, 0)
		if s.opts.drawAsInfinite && v > 0 {
			c.moveTo(x, g.area.ymax)
			c.lineTo(x, g.area.ymin)
			c.stroke()
			x += s.xStep
			continue
		}
		if nones > 0 {
			startX = x
		}
		switch mode {
		case modeStaircase:
			if nones > 0 {
				c.moveTo(x, y)
			} else {
				c.lineTo(x, y)
			}
			x += s.xStep
			c.lineTo(x, y)
		case modeSlope:
			if nones > 0 {
				c.moveTo(x, y)
			}
			c.lineTo(x, y)
			x += s.xStep
		case modeConnected:
			if float64(nones) > g.p.ConnectedLimit || nones == idx {
				c.moveTo(x, y)
			}
			c.lineTo(x, y)
			x += s.xStep
		}
		nones = 0
	}
	if s.opts.stacked {
		xPos := x
		if g.lineMode != "staircase" {
			xPos = x - s.xStep
		}
		y0, ok := g.yCoord(0, side)
		if !ok {
			y0 = 0
		}
		g.fillAreaAndClip(xPos, y, startX, y0)
	} else {
		c.stroke()
	}
	c.setLineWidth(width)
}

// The line modes, as drawSeries switches on them per point.
const (
	modeSlope = iota
	modeStaircase
	modeConnected
)

func lineModeOf(mode string) int {
	switch mode {
	case "staircase":
		return modeStaircase
	case "connected":
		return modeConnected
	}
	return modeSlope
}

// fillAreaAndClip fills the area under the current path down to
// areaYFrom and clips further drawing to outside it (glyph.py's way of
// stacking areas without overdrawing them).
func (g *lineGraph) fillAreaAndClip(x, y, startX, areaYFrom float64) {
	c := g.c
	if startX == 0 {
		startX = g.area.xmin
	}
	if areaYFrom == 0 {
		areaYFrom = g.area.ymax
	}
	pattern := c.copyPath()
	c.lineTo(x, areaYFrom)
	c.lineTo(startX, areaYFrom)
	c.closePath()
	c.fill()
	c.appendPath(&pattern)
	a := g.area
	for _, pt := range [][2]float64{
		{x, areaYFrom}, {a.xmax, areaYFrom}, {a.xmax, a.ymin}, {a.xmin, a.ymin}, {a.xmin, areaYFrom}, {startX, areaYFrom},
		{x, areaYFrom}, {a.xmax, areaYFrom}, {a.xmax, a.ymax}, {a.xmin, a.ymax}, {a.xmin, areaYFrom}, {startX, areaYFrom},
	} {
		c.lineTo(pt[0], pt[1])
	}
	c.closePath()
	c.clip()
}
