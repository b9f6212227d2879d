package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// maxWorst is the PNG distance limit (worst 8×8 block, mean L* difference).
const maxWorst = 8.0

var update = flag.Bool("update", false, "re-record the golden outputs from graphite-web and regenerate the docs gallery")

// galleryCase is one request of the gallery: query is everything after
// /render? except now and format.
type galleryCase struct {
	name, query string
	// maxDist is the allowed PNG distance when larger than the default
	maxDist float64
	// status is Plumbago's answer where it deliberately differs from
	// graphite-web's (a 400 naming the problem for graphite-web's 500)
	status int
}

var gallery = []galleryCase{
	{name: "basic", query: "target=web.*.requests&from=-1d"},
	{name: "single-6h", query: "target=web.alpha.requests&from=-6h"},
	{name: "size-800x600", query: "target=web.*.requests&from=-12h&width=800&height=600"},
	{name: "title-vtitle", query: "target=web.*.requests&from=-3h&title=Requests%20per%20minute&vtitle=req/min"},
	{name: "colors", query: "target=web.*.requests&from=-2h&bgcolor=black&fgcolor=white&majorGridLineColor=ff0000&minorGridLineColor=%23333333"},
	{name: "colorlist", query: "target=web.*.requests&from=-4h&colorList=ff0000,00aa00,0000ff80,%23999999"},
	{name: "template-solarized-dark", query: "target=web.*.requests&from=-4h&template=solarized-dark"},
	{name: "template-noc-many", query: "target=many.*&from=-1h&template=noc"},
	{name: "many-legend", query: "target=many.*&from=-1h&hideLegend=false&width=500&height=400"},
	{name: "hide-axes", query: "target=web.alpha.requests&from=-6h&hideAxes=true"},
	{name: "hide-x-y-axis", query: "target=web.alpha.requests&from=-6h&hideXAxis=true&hideYAxis=true"},
	{name: "hide-grid-minory", query: "target=web.*.requests&from=-6h&hideGrid=true&minorY=3"},
	{name: "minory-3", query: "target=web.alpha.requests&from=-6h&minorY=3"},
	{name: "graph-only", query: "target=web.*.requests&from=-6h&graphOnly=true"},
	{name: "unique-legend", query: "target=alias(web.*.requests,'same')&target=sys.load&from=-2h&uniqueLegend=true"},
	{name: "hide-null-from-legend", query: "target=web.alpha.requests&target=removeAboveValue(sys.load,0)&from=-2h&hideNullFromLegend=true"},
	{name: "ymin-ymax-ystep", query: "target=web.*.requests&from=-3h&yMin=0&yMax=200&yStep=25"},
	{name: "ylimit", query: "target=web.*.requests&from=-3h&yLimit=60"},
	{name: "ymax-max-min", query: "target=web.alpha.requests&from=-3h&max=max&min=10"},
	{name: "ydivisors", query: "target=web.alpha.requests&from=-3h&yDivisors=3,7"},
	{name: "units-binary", query: "target=sys.mem.used&from=-1d&yUnitSystem=binary"},
	{name: "units-si-big", query: "target=sys.big&from=-1h"},
	{name: "units-none", query: "target=sys.big&from=-1h&yUnitSystem=none"},
	{name: "units-sec", query: "target=scale(sys.load,100000)&from=-1h&yUnitSystem=sec"},
	{name: "units-msec", query: "target=scale(sys.load,1000)&from=-1h&yUnitSystem=msec"},
	{name: "small-values", query: "target=sys.load&from=-3h"},
	{name: "negative", query: "target=sys.temp&from=-1d"},
	{name: "logbase", query: "target=sys.mem.used&target=sys.big&from=-1d&logBase=10"},
	{name: "area-stacked", query: "target=web.*.requests&from=-6h&areaMode=stacked"},
	{name: "area-first-alpha", query: "target=web.*.requests&from=-6h&areaMode=first&areaAlpha=0.5"},
	{name: "area-all-alpha", query: "target=web.alpha.requests&target=web.beta.requests&from=-6h&areaMode=all&areaAlpha=0.3"},
	{name: "staircase-linewidth", query: "target=web.alpha.requests&from=-1h&lineMode=staircase&lineWidth=2"},
	{name: "connected", query: "target=sys.sparse&from=-3h&lineMode=connected&connectedLimit=3"},
	{name: "null-as-zero", query: "target=sys.sparse&from=-3h&drawNullAsZero=true"},
	{name: "second-y-axis", query: "target=web.alpha.requests&target=secondYAxis(sys.mem.used)&from=-6h&vtitle=req&vtitleRight=bytes&leftColor=red&rightColor=blue&leftDashed=3&rightWidth=3"},
	{name: "second-y-limits", query: "target=web.*.requests&target=secondYAxis(sys.load)&from=-6h&yMinLeft=0&yMaxLeft=150&yStepLeft=50&yMinRight=0&yMaxRight=1&yStepRight=0.2&leftWidth=2"},
	{name: "second-y-max-right-max", query: "target=web.alpha.requests&target=secondYAxis(sys.load)&from=-3h&yMaxRight=max&yMinRight=0&yMaxLeft=max"},
	{name: "second-y-limit-dashed", query: "target=web.alpha.requests&target=secondYAxis(web.beta.requests)&from=-3h&yLimitLeft=80&yLimitRight=70&rightDashed=true&rightColor=green&fontName=Sans"},
	{name: "fonts", query: "target=web.*.requests&from=-3h&fontSize=14&fontBold=true&fontItalic=true&title=Bold"},
	{name: "font-serif", query: "target=web.*.requests&from=-3h&fontName=Serif&title=Serif&vtitle=req"},
	{name: "font-mono-bold", query: "target=web.*.requests&from=-3h&fontName=Courier%20New&fontBold=true&fontSize=9"},
	{name: "font-serif-italic", query: "target=web.alpha.requests&from=-3h&fontName=times&fontItalic=true&fontSize=12"},
	{name: "font-unknown", query: "target=web.*.requests&from=-3h&fontName=NoSuchFont&title=fallback"},
	{name: "xformat-minxstep", query: "target=web.*.requests&from=-12h&xFormat=%25H:%25M&minXStep=3"},
	{name: "tz-new-york", query: "target=web.alpha.requests&from=-1d&tz=America/New_York"},
	{name: "span-5min", query: "target=web.*.requests&from=-5min"},
	{name: "span-7d", query: "target=web.alpha.requests&from=-7d"},
	{name: "style-functions", query: "target=color(web.alpha.requests,'orange')&target=alpha(web.beta.requests,0.4)&target=lineWidth(web.gamma.requests,3)&target=dashed(web.delta.requests,4)&from=-3h"},
	{name: "stacked-function", query: "target=stacked(web.*.requests)&from=-3h"},
	{name: "draw-as-infinite", query: "target=sys.load&target=drawAsInfinite(removeBelowValue(sys.sparse,35))&from=-3h"},
	{name: "area-between", query: "target=areaBetween(web.{alpha,beta}.requests)&from=-3h&areaMode=stacked"},
	{name: "legend-value", query: "target=legendValue(web.*.requests,'avg','max')&from=-3h&width=600"},
	{name: "cacti-style", query: "target=cactiStyle(web.*.requests)&from=-3h&width=700"},
	{name: "threshold", query: "target=web.alpha.requests&target=threshold(80,'limit','red')&from=-3h"},
	{name: "margin-thickness", query: "target=web.alpha.requests&from=-3h&margin=30&thickness=3"},
	{name: "y-axis-right", query: "target=web.*.requests&from=-3h&yAxisSide=right&title=right"},
	{name: "no-data", query: "target=nonexistent.*&from=-3h"},
	{name: "pie", query: "target=web.*.requests&from=-3h&graphType=pie"},
	{name: "pie-options", query: "target=web.*.requests&from=-3h&graphType=pie&pieMode=maximum&pieLabels=rotated&valueLabels=number&valueLabelsMin=1&valueLabelsColor=white&title=Pie"},
	{name: "pie-literal", query: "target=a:10&target=b:30&target=c:5.5&graphType=pie&valueLabels=percent&areaAlpha=0.6&hideLegend=true"},
	{name: "bad-log-negative", query: "target=sys.temp&from=-1d&logBase=10", status: 400},
}

func galleryURI(c galleryCase, format string) string {
	return fmt.Sprintf("/render?%s&now=%d&format=%s", c.query, fixtureNow, format)
}

var metadataRE = regexp.MustCompile(`(?s)<script>\s*<!\[CDATA\[\s*metadata = (.*?)\s*\]\]>\s*</script>\s*</svg>\s*$`)

// svgMetadata extracts the metadata object from an SVG answer.
func svgMetadata(svg []byte) (any, error) {
	m := metadataRE.FindSubmatch(svg)
	if m == nil {
		return nil, fmt.Errorf("no metadata script at the end of the SVG")
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(bytes.ReplaceAll(bytes.ReplaceAll(m[1], []byte("NaN"), []byte("null")), []byte("Infinity"), []byte("1e999"))))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("metadata JSON: %w", err)
	}
	return v, nil
}

// sameJSON compares decoded JSON, numbers within 1e-9 relative (true and
// false equal 1 and 0: graphite-web keeps fontBold=1 as the integer).
func sameJSON(path string, a, b any, diffs *[]string) {
	num := func(v any) (float64, bool) {
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			return f, err == nil || strings.Contains(err.Error(), "range")
		case bool:
			if x {
				return 1, true
			}
			return 0, true
		}
		return 0, false
	}
	if fa, ok := num(a); ok {
		if fb, ok := num(b); ok {
			if fa == fb || math.Abs(fa-fb) <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb)) {
				return
			}
		}
		*diffs = append(*diffs, fmt.Sprintf("%s: %v != %v", path, a, b))
		return
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v != %v", path, a, b))
			return
		}
		var keys []string
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			sameJSON(path+"."+k, x[k], y[k], diffs)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %.300v != %.300v", path, a, b))
			return
		}
		for i := range x {
			sameJSON(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], diffs)
		}
	default:
		if a != b {
			*diffs = append(*diffs, fmt.Sprintf("%s: %#v != %#v", path, a, b))
		}
	}
}

func goldenPath(name, ext string) string { return filepath.Join("testdata", "golden", name+ext) }

// TestGalleryOracle renders every gallery request through Plumbago and
// compares with graphite-web (live when installed, else the recorded
// golden outputs): SVG metadata equal, PNG within the distance.
func TestGalleryOracle(t *testing.T) {
	dir, a := fixture(t)
	live := haveGraphiteWeb(t)
	var uris []string
	for _, c := range gallery {
		uris = append(uris, galleryURI(c, "svg"), galleryURI(c, "png"))
	}
	var want []response
	if live {
		want, _ = graphiteWeb(t, dir, uris, 0)
	}
	if *update {
		defer writeGalleryDoc(t)
	}
	for i, c := range gallery {
		t.Run(c.name, func(t *testing.T) {
			var wsvg, wpng response
			if live {
				wsvg, wpng = want[2*i], want[2*i+1]
			} else {
				wsvg, wpng = readGolden(t, c.name)
			}
			if *update {
				writeGolden(t, c.name, wsvg, wpng)
			}
			gsvg := plumbago(a, galleryURI(c, "svg"))
			gpng := plumbago(a, galleryURI(c, "png"))
			if c.status != 0 {
				if gsvg.Status != c.status || gpng.Status != c.status {
					t.Fatalf("status svg %d png %d, want %d (graphite-web %d)", gsvg.Status, gpng.Status, c.status, wsvg.Status)
				}
				return
			}
			if gsvg.Status != wsvg.Status || gpng.Status != wpng.Status {
				t.Fatalf("status svg %d png %d, graphite-web %d %d: %.300s", gsvg.Status, gpng.Status, wsvg.Status, wpng.Status, gsvg.Body)
			}
			if wsvg.Status != 200 {
				return
			}
			wm, err := svgMetadata(wsvg.Body)
			if err != nil {
				t.Fatalf("graphite-web: %v", err)
			}
			gm, err := svgMetadata(gsvg.Body)
			if err != nil {
				t.Fatalf("plumbago: %v", err)
			}
			var diffs []string
			sameJSON("metadata", wm, gm, &diffs)
			if len(diffs) > 0 {
				t.Errorf("metadata differs:\n%s", strings.Join(diffs[:min(len(diffs), 20)], "\n"))
			}
			wi, err := png.Decode(bytes.NewReader(wpng.Body))
			if err != nil {
				t.Fatal(err)
			}
			gi, err := png.Decode(bytes.NewReader(gpng.Body))
			if err != nil {
				t.Fatal(err)
			}
			if os.Getenv("GRAPH_DUMP") != "" {
				os.WriteFile(filepath.Join(os.Getenv("GRAPH_DUMP"), c.name+"-graphite.png"), wpng.Body, 0o644)
				os.WriteFile(filepath.Join(os.Getenv("GRAPH_DUMP"), c.name+"-plumbago.png"), gpng.Body, 0o644)
				os.WriteFile(filepath.Join(os.Getenv("GRAPH_DUMP"), c.name+"-graphite.svg"), wsvg.Body, 0o644)
				if b, err := sideBySide(wi, gi); err == nil {
					os.WriteFile(filepath.Join(os.Getenv("GRAPH_DUMP"), c.name+"-both.png"), b, 0o644)
				}
				os.WriteFile(filepath.Join(os.Getenv("GRAPH_DUMP"), c.name+"-plumbago.svg"), gsvg.Body, 0o644)
			}
			worst, mean := pngDistance(wi, gi)
			if *update {
				writeGalleryImage(t, c, wi, gi, worst)
			}
			limit := maxWorst
			if c.maxDist > 0 {
				limit = c.maxDist
			}
			t.Logf("png distance: worst block %.2f (limit %.1f), mean %.3f", worst, limit, mean)
			if worst > limit {
				t.Errorf("png distance: worst block %.2f > %.1f (mean %.3f)", worst, limit, mean)
			}
		})
	}
}

func readGolden(t *testing.T, name string) (svg, pngr response) {
	t.Helper()
	meta, err := os.ReadFile(goldenPath(name, ".json"))
	if err != nil {
		t.Fatalf("golden missing (re-record with go test ./query/graph -run TestGalleryOracle -update): %v", err)
	}
	var g struct {
		Status int `json:"status"`
	}
	if err := json.Unmarshal(meta[:bytes.IndexByte(meta, '\n')+1], &g); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	svg.Status, pngr.Status = g.Status, g.Status
	if g.Status != 200 {
		return
	}
	svg.Body = []byte("<svg><script>\n  <![CDATA[\n    metadata = " + string(meta[bytes.IndexByte(meta, '\n')+1:]) + "\n  ]]>\n</script>\n</svg>")
	if pngr.Body, err = os.ReadFile(goldenPath(name, ".png")); err != nil {
		t.Fatal(err)
	}
	return
}

func writeGolden(t *testing.T, name string, svg, pngr response) {
	t.Helper()
	os.MkdirAll(filepath.Join("testdata", "golden"), 0o755)
	body := fmt.Sprintf("{\"status\": %d}\n", svg.Status)
	if svg.Status == 200 {
		m := metadataRE.FindSubmatch(svg.Body)
		if m == nil {
			t.Fatal("graphite-web SVG has no metadata")
		}
		body += string(m[1])
		if err := os.WriteFile(goldenPath(name, ".png"), pngr.Body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(goldenPath(name, ".json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

var galleryScores = map[string]float64{}

// writeGalleryImage writes docs/graphs/<name>.png: graphite-web's picture
// beside Plumbago's.
func writeGalleryImage(t *testing.T, c galleryCase, want, got image.Image, worst float64) {
	b, err := sideBySide(want, got)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "graphs")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, c.name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	galleryScores[c.name] = worst
}

// writeGalleryDoc rewrites the gallery section of docs/graphs.md.
func writeGalleryDoc(t *testing.T) {
	p := filepath.Join("..", "..", "docs", "graphs.md")
	doc, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- gallery begin -->\n", "<!-- gallery end -->\n"
	i, j := bytes.Index(doc, []byte(begin)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatal("docs/graphs.md has no gallery markers")
	}
	var b strings.Builder
	b.WriteString(begin)
	for _, c := range gallery {
		fmt.Fprintf(&b, "\n### %s\n\n`/render?%s`", c.name, strings.ReplaceAll(c.query, "`", ""))
		if score, ok := galleryScores[c.name]; ok {
			fmt.Fprintf(&b, " (distance %.2f)\n\n![%s: graphite-web left, Plumbago right](graphs/%s.png)\n", score, c.name, c.name)
		} else if c.status != 0 {
			fmt.Fprintf(&b, ": graphite-web fails (500); Plumbago answers %d naming the problem.\n", c.status)
		} else {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n" + end)
	out := append(append(append([]byte(nil), doc[:i]...), b.String()...), doc[j+len(end):]...)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
