package graph

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on the picture, checked before anything is allocated.
const (
	MaxSide   = 8192     // width and height, pixels
	MaxPixels = 16 << 20 // width × height (64 MiB of RGBA)
)

// ParamError is an invalid graph parameter; the message names it.
type ParamError struct{ Param, Msg string }

func (e *ParamError) Error() string { return "invalid " + e.Param + ": " + e.Msg }

func perr(name, format string, a ...any) error {
	return &ParamError{name, fmt.Sprintf(format, a...)}
}

// optFloat is a number parameter that may be absent.
type optFloat struct {
	v   float64
	set bool
}

// Params are graphite-web 1.1's graph options, validated.
type Params struct {
	Format    string // png, svg or pdf
	GraphType string // line or pie

	Width, Height int
	Margin        int
	Template      string

	background, foreground  string
	majorLine, minorLine    string
	colorList               []string
	fontName                string
	fontSize                float64
	fontBold, fontItalic    bool
	majorGridSet, minorGSet bool

	MinorY                          int
	Title, VTitle, VTitleRight      string
	hideLegend                      *bool
	HideAxes, HideXAxis, HideYAxis  bool
	HideGrid, HideNullFromLegend    bool
	GraphOnly, UniqueLegend         bool
	yMin, yLimit, yStep             optFloat
	yMax                            optFloat
	yMaxIsMax                       bool
	yMinL, yMaxL, yLimitL, yStepL   optFloat
	yMinR, yMaxR, yLimitR, yStepR   optFloat
	yMaxLIsMax, yMaxRIsMax          bool
	YUnitSystem                     string
	logBase                         float64 // 0 = linear
	AreaMode, LineMode              string
	areaAlpha                       optFloat
	lineWidth                       float64
	ConnectedLimit                  float64
	DrawNullAsZero                  bool
	leftColor, rightColor           string
	leftDashed, rightDashed         optFloat
	leftWidth, rightWidth           optFloat
	XFormat                         string
	xFormatSet                      bool
	minXStep                        float64
	tz                              *time.Location
	YAxisSide                       string
	yDivisors                       []int
	PieMode, PieLabels, ValueLabels string
	valueLabelsMin                  float64
	valueLabelsColor                string
	leftDashedBool                  bool
	rightDashedBool                 bool
}

// Getter returns a request parameter's last value and whether it was given.
type Getter func(name string) (string, bool)

// ParseParams reads and validates the graph parameters (graphite-web's
// parseOptions and glyph.py's option handling); defaultLoc is the
// request's time zone (tz), used for the x axis. Unknown or invalid
// values fail with a *ParamError naming the parameter.
func ParseParams(get Getter, format string) (*Params, error) {
	p := &Params{Format: format, Width: 330, Height: 250, Margin: 10, MinorY: 1,
		YUnitSystem: "si", AreaMode: "none", LineMode: "slope", lineWidth: 1.2,
		ConnectedLimit: math.Inf(1), minXStep: 1, tz: time.UTC, YAxisSide: "left",
		yDivisors: []int{4, 5, 6}, PieMode: "average", PieLabels: "horizontal",
		ValueLabels: "percent", valueLabelsMin: 5, valueLabelsColor: "black"}
	switch format {
	case "", "png":
		p.Format = "png"
	case "svg", "pdf":
	default:
		return nil, perr("format", "%q is not png, svg or pdf", format)
	}
	// value returns the parameter unless absent, empty or "default"
	// (graphite-web skips those).
	value := func(name string) (string, bool) {
		v, ok := get(name)
		if !ok || v == "" || strings.ToLower(v) == "default" {
			return "", false
		}
		return v, true
	}
	var err error
	num := func(name string, dst *optFloat) {
		if v, ok := value(name); ok && err == nil {
			f, e := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if e != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				err = perr(name, "%q is not a finite number", v)
				return
			}
			*dst = optFloat{f, true}
		}
	}
	intp := func(name string, dst *int, lo, hi int) {
		if v, ok := value(name); ok && err == nil {
			n, e := strconv.Atoi(strings.TrimSpace(v))
			if e != nil {
				f, e2 := strconv.ParseFloat(v, 64)
				if e2 != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
					err = perr(name, "%q is not an integer", v)
					return
				}
				n = int(math.Max(math.Min(f, 1e9), -1e9))
			}
			if n < lo || n > hi {
				err = perr(name, "%d is outside %d..%d", n, lo, hi)
				return
			}
			*dst = n
		}
	}
	boolp := func(name string, dst *bool) bool {
		if v, ok := value(name); ok && err == nil {
			switch strings.ToLower(v) {
			case "true", "1", "yes", "on":
				*dst = true
			case "false", "0", "no", "off":
				*dst = false
			default:
				err = perr(name, "%q is not true or false", v)
				return false
			}
			return true
		}
		return false
	}
	enum := func(name string, dst *string, lower bool, allowed ...string) {
		if v, ok := value(name); ok && err == nil {
			if lower {
				v = strings.ToLower(v)
			}
			for _, a := range allowed {
				if v == a {
					*dst = v
					return
				}
			}
			err = perr(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
		}
	}
	colorp := func(name string, dst *string) bool {
		if v, ok := value(name); ok && err == nil {
			if _, e := parseColor(v, 1, false); e != nil {
				err = perr(name, "%s", e.Error())
				return false
			}
			*dst = v
			return true
		}
		return false
	}
	str := func(name string, dst *string) bool {
		if v, ok := value(name); ok {
			*dst = v
			return true
		}
		return false
	}

	if gt, ok := get("graphType"); ok {
		p.GraphType = gt
	} else {
		p.GraphType = "line"
	}
	if p.GraphType != "line" && p.GraphType != "pie" {
		return nil, perr("graphType", "%q is not line or pie", p.GraphType)
	}
	intp("width", &p.Width, 1, MaxSide)
	intp("height", &p.Height, 1, MaxSide)
	if err == nil && p.Width*p.Height > MaxPixels {
		err = perr("width", "%d×%d is more than %d pixels", p.Width, p.Height, MaxPixels)
	}
	intp("margin", &p.Margin, -1e6, MaxSide)
	if p.Margin < 0 {
		p.Margin = 10
	}
	str("template", &p.Template)
	if p.Template == "" {
		p.Template = "default"
	}
	t := templateFor(p.Template)
	p.background, p.foreground, p.majorLine, p.minorLine = t.background, t.foreground, t.majorLine, t.minorLine
	p.colorList, p.fontName, p.fontSize, p.fontBold, p.fontItalic = t.colors, t.fontName, t.fontSize, t.fontBold, t.fontItalic
	colorp("bgcolor", &p.background)
	colorp("fgcolor", &p.foreground)
	p.majorGridSet = colorp("majorGridLineColor", &p.majorLine)
	p.minorGSet = colorp("minorGridLineColor", &p.minorLine)
	if v, ok := value("colorList"); ok && err == nil {
		list := strings.Split(unquotePlus(v), ",")
		for _, c := range list {
			if _, e := parseColor(c, 1, false); e != nil {
				err = perr("colorList", "%s", e.Error())
			}
		}
		p.colorList = list
	}
	str("fontName", &p.fontName)
	fs := optFloat{}
	num("fontSize", &fs)
	if fs.set {
		if fs.v < 1 || fs.v > 1000 {
			err = perr("fontSize", "%g is outside 1..1000", fs.v)
		}
		p.fontSize = fs.v
	}
	boolp("fontBold", &p.fontBold)
	boolp("fontItalic", &p.fontItalic)
	intp("minorY", &p.MinorY, -1e6, 100)
	str("title", &p.Title)
	str("vtitle", &p.VTitle)
	str("vtitleRight", &p.VTitleRight)
	var hl bool
	if boolp("hideLegend", &hl) {
		p.hideLegend = &hl
	}
	boolp("hideAxes", &p.HideAxes)
	boolp("hideXAxis", &p.HideXAxis)
	boolp("hideYAxis", &p.HideYAxis)
	boolp("hideGrid", &p.HideGrid)
	boolp("hideNullFromLegend", &p.HideNullFromLegend)
	boolp("graphOnly", &p.GraphOnly)
	boolp("uniqueLegend", &p.UniqueLegend)
	boolp("drawNullAsZero", &p.DrawNullAsZero)
	maxp := func(name string, dst *optFloat, isMax *bool) {
		if v, ok := value(name); ok && v == "max" {
			*isMax = true
			return
		}
		num(name, dst)
	}
	num("min", &p.yMin)
	num("yMin", &p.yMin)
	maxp("max", &p.yMax, &p.yMaxIsMax)
	if _, ok := value("yMax"); ok {
		p.yMax, p.yMaxIsMax = optFloat{}, false
		maxp("yMax", &p.yMax, &p.yMaxIsMax)
	}
	num("yLimit", &p.yLimit)
	num("yStep", &p.yStep)
	num("yMinLeft", &p.yMinL)
	maxp("yMaxLeft", &p.yMaxL, &p.yMaxLIsMax)
	num("yLimitLeft", &p.yLimitL)
	num("yStepLeft", &p.yStepL)
	num("yMinRight", &p.yMinR)
	maxp("yMaxRight", &p.yMaxR, &p.yMaxRIsMax)
	num("yLimitRight", &p.yLimitR)
	num("yStepRight", &p.yStepR)
	for _, s := range []struct {
		name string
		v    optFloat
	}{{"yStep", p.yStep}, {"yStepLeft", p.yStepL}, {"yStepRight", p.yStepR}} {
		if s.v.set && s.v.v <= 0 && err == nil {
			err = perr(s.name, "must be positive")
		}
	}
	enum("yUnitSystem", &p.YUnitSystem, true, "si", "binary", "sec", "msec", "none")
	if v, ok := value("logBase"); ok && err == nil {
		if v == "e" {
			p.logBase = math.E
		} else {
			f, e := strconv.ParseFloat(v, 64)
			switch {
			case e != nil || math.IsNaN(f) || math.IsInf(f, 0):
				err = perr("logBase", "%q is not a number or e", v)
			case f == 1:
				err = perr("logBase", "must be greater than one")
			case f > 1:
				p.logBase = f
			}
		}
	}
	enum("areaMode", &p.AreaMode, true, "none", "first", "all", "stacked")
	enum("lineMode", &p.LineMode, true, "slope", "staircase", "connected")
	num("areaAlpha", &p.areaAlpha)
	lw := optFloat{}
	num("thickness", &lw)
	num("lineWidth", &lw)
	if lw.set {
		if lw.v < 0 || lw.v > 1000 {
			err = perr("lineWidth", "%g is outside 0..1000", lw.v)
		}
		if lw.v != 0 {
			p.lineWidth = lw.v
		}
	}
	cl := optFloat{}
	num("connectedLimit", &cl)
	if cl.set {
		p.ConnectedLimit = cl.v
	}
	colorp("leftColor", &p.leftColor)
	colorp("rightColor", &p.rightColor)
	dashp := func(name string, dst *optFloat, isBool *bool) {
		if v, ok := value(name); ok && err == nil {
			switch strings.ToLower(v) {
			case "true":
				*dst, *isBool = optFloat{1, true}, true
				return
			case "false":
				*dst, *isBool = optFloat{0, true}, true
				return
			}
			num(name, dst)
			if dst.set && dst.v < 0 {
				err = perr(name, "must not be negative")
			}
		}
	}
	dashp("leftDashed", &p.leftDashed, &p.leftDashedBool)
	dashp("rightDashed", &p.rightDashed, &p.rightDashedBool)
	num("leftWidth", &p.leftWidth)
	num("rightWidth", &p.rightWidth)
	p.xFormatSet = str("xFormat", &p.XFormat)
	ms := optFloat{}
	num("minXStep", &ms)
	if ms.set {
		if ms.v <= 0 {
			err = perr("minXStep", "must be positive")
		}
		p.minXStep = ms.v
	}
	if v, ok := value("tz"); ok && err == nil {
		loc, e := time.LoadLocation(v)
		if e != nil {
			err = perr("tz", "unknown time zone %q", v)
		} else {
			p.tz = loc
		}
	}
	enum("yAxisSide", &p.YAxisSide, false, "left", "right")
	if v, ok := value("yDivisors"); ok && err == nil {
		p.yDivisors = nil
		for _, d := range strings.Split(v, ",") {
			n, e := strconv.Atoi(strings.TrimSpace(d))
			if e != nil || n < 1 || n > 1000 {
				err = perr("yDivisors", "%q is not a list of integers 1..1000", v)
				break
			}
			p.yDivisors = append(p.yDivisors, n)
		}
	}
	if v, ok := get("pieMode"); ok && err == nil {
		switch v {
		case "average", "maximum", "minimum":
			p.PieMode = v
		default:
			err = perr("pieMode", "%q is not average, maximum or minimum", v)
		}
	}
	enum("pieLabels", &p.PieLabels, false, "horizontal", "rotated")
	enum("valueLabels", &p.ValueLabels, false, "none", "number", "percent")
	vm := optFloat{}
	num("valueLabelsMin", &vm)
	if vm.set {
		p.valueLabelsMin = vm.v
	}
	colorp("valueLabelsColor", &p.valueLabelsColor)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// unquotePlus is Python's urllib.parse.unquote_plus (graphite-web applies
// it to titles, series names and colorList once more).
func unquotePlus(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		// Python leaves invalid escapes as they are
		return strings.ReplaceAll(s, "+", " ")
	}
	return u
}
