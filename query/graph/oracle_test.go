package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
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
const maxWorst = 4.0

var update = flag.Bool("update", false, "re-record the golden outputs from graphite-web and regenerate the docs gallery")

// galleryCase is one request of the gallery: query is everything after
// /render? except now and format.
type galleryCase struct {
	name, query string
	// maxDist is the allowed PNG distance when larger than the default
	maxDist float64
}

var gallery = []galleryCase{
	{name: "basic", query: "target=web.*.requests&from=-1d"},
	{name: "single-6h", query: "target=web.alpha.requests&from=-6h"},
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
				os.WriteFile(filepath.Join(os.Getenv("GRAPH_DUMP"), c.name+"-plumbago.svg"), gsvg.Body, 0o644)
			}
			worst, mean := pngDistance(wi, gi)
			limit := maxWorst
			if c.maxDist > 0 {
				limit = c.maxDist
			}
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
