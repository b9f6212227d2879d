package graph

import (
	"math"
	"net/url"
	"testing"

	"github.com/plumbago/plumbago/query"
)

// FuzzParams feeds arbitrary graph parameters (a URL query string) to
// ParseParams and draws what it accepts in every format: no panics, and
// every refusal is a *ParamError or a data error.
func FuzzParams(f *testing.F) {
	for _, seed := range []string{
		"", "width=100&height=80", "format=svg&areaMode=stacked&areaAlpha=0.5",
		"lineMode=staircase&lineWidth=3&yMin=0&yMax=5&yStep=1", "logBase=e&yUnitSystem=binary",
		"graphOnly=true", "hideLegend=false&uniqueLegend=true&hideNullFromLegend=true",
		"yAxisSide=right&title=a%0Ab&vtitle=v", "graphType=pie&valueLabels=number&pieLabels=rotated",
		"template=noc&colorList=ff0000,%2300ff00,blue", "tz=Europe/Paris&xFormat=%25a %25H",
		"minXStep=0.5&connectedLimit=2&lineMode=connected", "yDivisors=2,3&minorY=4",
		"fontSize=14&fontBold=1&fontItalic=true&fontName=Serif", "format=pdf&margin=0",
		"yMinLeft=0&yMaxRight=3&leftDashed=true&rightWidth=2&leftColor=red&vtitleRight=r",
		"drawNullAsZero=true&yLimit=2&max=max", "width=8192&height=1",
	} {
		f.Add(seed)
	}
	if err := loadFaces(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 2000 {
			return
		}
		vals, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		get := func(k string) (string, bool) {
			v, ok := vals[k]
			if !ok || len(v) == 0 {
				return "", false
			}
			return v[len(v)-1], true
		}
		format, _ := get("format")
		p, err := ParseParams(get, format)
		if err != nil {
			if _, ok := err.(*ParamError); !ok {
				t.Fatalf("ParseParams(%q): %T %v", q, err, err)
			}
			return
		}
		if p.Width*p.Height > 1<<20 {
			return // big pictures are valid but slow to fuzz
		}
		a := query.NewSeries("a.b", 1000, 1600, 60, []float64{1, 2, math.NaN(), 4, 5, -1, 0, 3, 2, 1}, 0)
		b := query.NewSeries("secondYAxis(c)", 1000, 1600, 60, []float64{10, 20, 30, math.NaN(), 50, 60, 70, 80, 90, 100}, 0)
		b.Graph.SecondYAxis = true
		c := query.NewSeries("d", 1000, 1600, 60, []float64{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, 0)
		c.Graph.Stacked, c.Color = true, "aa00bb80"
		_, err = Render(nil, []*query.Series{a, b, c}, p)
		if err != nil && !IsDataError(err) {
			if _, ok := err.(*ParamError); !ok {
				t.Fatalf("Render(%q): %T %v", q, err, err)
			}
		}
	})
}
