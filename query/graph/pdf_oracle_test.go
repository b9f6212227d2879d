package graph_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

// pdfGallery are the gallery requests whose PDFs are compared with
// graphite-web's (layout, text, fills with alpha, dashes, two y axes, a
// pie), at the default size and at pdfSize: graphite-web's PDF page is
// the pixel size × 72/300 points while the layout stays in points, so
// the default 330×250 is a 79×60 pt page that only the legend fits (as
// graphite-web draws it), and a readable PDF asks for a larger size.
var pdfGallery = []string{"basic", "title-vtitle", "colors", "area-stacked", "area-first-alpha",
	"second-y-axis", "style-functions", "fonts", "pie-options"}

const pdfSize = "&width=1400&height=1000"

// pdfCases are pdfGallery's requests at pdfSize, and three of them at
// the default size.
func pdfCases() []galleryCase {
	byName := map[string]galleryCase{}
	for _, c := range gallery {
		byName[c.name] = c
	}
	var out []galleryCase
	for _, name := range []string{"basic", "area-stacked", "pie-options"} {
		out = append(out, byName[name])
	}
	for _, name := range pdfGallery {
		c := byName[name]
		c.name, c.query = name+"-large", c.query+pdfSize
		if name == "second-y-axis" {
			// one dash of the 1,000-segment dashed line falls elsewhere
			// (12.5; the same request as a 330×250 PNG scores 1.03)
			c.maxDist = 16
		}
		out = append(out, c)
	}
	return out
}

// maxPDFWorst is the distance limit between the two PDFs rasterised by
// pdftoppm (the PNG gallery's metric and limit).
const maxPDFWorst = 8.0

var pageSizeRE = regexp.MustCompile(`(?m)^Page size:\s+(.*)$`)

// TestPDFOracle renders some gallery requests as PDF through Plumbago and
// graphite-web (live when installed, else the recorded PDFs in
// testdata/golden), checks that pdfinfo reads one page of the same size
// from both, and rasterises both with poppler's pdftoppm to compare them
// with the PNG gallery's distance. graphite-web's PDF holds its text as
// fonts and Plumbago's as outlines, so the words are compared as pixels.
func TestPDFOracle(t *testing.T) {
	pdftoppm := testenv.Command(t, "pdftoppm", "apt poppler-utils")
	pdfinfo := testenv.Command(t, "pdfinfo", "apt poppler-utils")
	dir, a := fixture(t)
	live := haveGraphiteWeb(t)
	cases := pdfCases()
	var want []response
	if live {
		var uris []string
		for _, c := range cases {
			uris = append(uris, galleryURI(c, "pdf"))
		}
		want, _ = graphiteWeb(t, dir, uris, 0)
	}
	tmp := t.TempDir()
	for i, c := range cases {
		name := c.name
		t.Run(name, func(t *testing.T) {
			golden := goldenPath(name, ".pdf")
			var wpdf []byte
			if live {
				if want[i].Status != 200 {
					t.Fatalf("graphite-web: %d %.300s", want[i].Status, want[i].Body)
				}
				wpdf = want[i].Body
				if *update {
					if err := os.WriteFile(golden, wpdf, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				var err error
				if wpdf, err = os.ReadFile(golden); err != nil {
					t.Fatalf("golden missing (re-record with go test ./query/graph -run TestPDFOracle -update): %v", err)
				}
			}
			got := plumbago(a, galleryURI(c, "pdf"))
			if got.Status != 200 || got.ContentType != "application/x-pdf" {
				t.Fatalf("plumbago: %d %s %.300s", got.Status, got.ContentType, got.Body)
			}
			wf, gf := filepath.Join(tmp, name+"-graphite.pdf"), filepath.Join(tmp, name+"-plumbago.pdf")
			if err := os.WriteFile(wf, wpdf, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(gf, got.Body, 0o644); err != nil {
				t.Fatal(err)
			}
			wsize, err := pdfPageSize(pdfinfo, wf)
			if err != nil {
				t.Fatalf("graphite-web's PDF: %v", err)
			}
			gsize, err := pdfPageSize(pdfinfo, gf)
			if err != nil {
				t.Fatalf("Plumbago's PDF: %v", err)
			}
			if wsize != gsize {
				t.Errorf("page size %q, graphite-web %q", gsize, wsize)
			}
			// the large pages at 150 dpi (700×500 pixels), the default
			// ones at 300 dpi (330×250, the PNG's size)
			dpi := "300"
			if strings.HasSuffix(name, "-large") {
				dpi = "150"
			}
			wi, err := rasterisePDF(pdftoppm, wf, dpi)
			if err != nil {
				t.Fatalf("graphite-web's PDF: %v", err)
			}
			gi, err := rasterisePDF(pdftoppm, gf, dpi)
			if err != nil {
				t.Fatalf("Plumbago's PDF: %v", err)
			}
			if d := os.Getenv("GRAPH_DUMP"); d != "" {
				wb, _ := os.ReadFile(wf[:len(wf)-4] + ".png")
				gb, _ := os.ReadFile(gf[:len(gf)-4] + ".png")
				os.WriteFile(filepath.Join(d, name+"-graphite-pdf.png"), wb, 0o644)
				os.WriteFile(filepath.Join(d, name+"-plumbago-pdf.png"), gb, 0o644)
			}
			worst, mean := pngDistance(wi, gi)
			t.Logf("page %s, distance worst %.2f mean %.3f", gsize, worst, mean)
			limit := maxPDFWorst
			if c.maxDist > 0 {
				limit = c.maxDist
			}
			if worst > limit {
				t.Errorf("pdf distance: worst block %.2f > %.1f (mean %.3f)", worst, limit, mean)
			}
		})
	}
}

// pdfPageSize is pdfinfo's "Page size" line, after checking the file has
// one page.
func pdfPageSize(pdfinfo, file string) (string, error) {
	out, err := exec.Command(pdfinfo, file).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pdfinfo: %v: %s", err, out)
	}
	if !bytes.Contains(out, []byte("\nPages:           1\n")) {
		return "", fmt.Errorf("not one page: %s", out)
	}
	m := pageSizeRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no page size: %s", out)
	}
	return string(m[1]), nil
}

// rasterisePDF draws file's page at dpi with pdftoppm (anti-aliased)
// into file.png and decodes it.
func rasterisePDF(pdftoppm, file, dpi string) (image.Image, error) {
	base := strings.TrimSuffix(file, ".pdf")
	if out, err := exec.Command(pdftoppm, "-r", dpi, "-png", "-singlefile", file, base).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdftoppm: %v: %s", err, out)
	}
	b, err := os.ReadFile(base + ".png")
	if err != nil {
		return nil, err
	}
	return png.Decode(bytes.NewReader(b))
}
