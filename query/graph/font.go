package graph

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// The DejaVu Sans, Serif and Sans Mono faces, what fontconfig resolves
// cairo's "Sans", "Serif" and "Mono" to on Debian (the licence is
// fonts/LICENSE).
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
	//go:embed fonts/DejaVuSans-Oblique.ttf
	fontOblique []byte
	//go:embed fonts/DejaVuSans-BoldOblique.ttf
	fontBoldOblique []byte
	//go:embed fonts/DejaVuSerif.ttf
	fontSerif []byte
	//go:embed fonts/DejaVuSerif-Bold.ttf
	fontSerifBold []byte
	//go:embed fonts/DejaVuSerif-Italic.ttf
	fontSerifItalic []byte
	//go:embed fonts/DejaVuSerif-BoldItalic.ttf
	fontSerifBoldItalic []byte
	//go:embed fonts/DejaVuSansMono.ttf
	fontMono []byte
	//go:embed fonts/DejaVuSansMono-Bold.ttf
	fontMonoBold []byte
	//go:embed fonts/DejaVuSansMono-Oblique.ttf
	fontMonoOblique []byte
	//go:embed fonts/DejaVuSansMono-BoldOblique.ttf
	fontMonoBoldOblique []byte
	// hintedMetrics are cairo's image-surface metrics of the faces
	// (FreeType hinting with antialias none, graphite-web's font options),
	// measured by testdata/hinting/gen.py: per family (sans, serif, mono),
	// face (regular, oblique, bold, bold oblique) and size 1..48, ascent,
	// descent and height, then the whole-pixel advance of runes 32..255.
	//go:embed fonts/hinted-metrics.bin
	hintedMetrics []byte
)

// The embedded font families.
const (
	familySans = iota
	familySerif
	familyMono
	families
)

// fontFamily is the embedded family that Debian's fontconfig matches
// fontName to, as cairo's select_font_face does for graphite-web: the
// generic names and the families its configuration (conf.d) aliases to
// DejaVu Serif or DejaVu Sans Mono, compared like fontconfig compares
// family names (ignoring case and blanks). Any other name, known or not,
// is DejaVu Sans, fontconfig's default: an unknown fontName is not an
// error in graphite-web, and is not here.
func fontFamily(name string) int {
	key := strings.ToLower(strings.Join(strings.Fields(name), ""))
	return fontFamilies[key]
}

// fontFamilies maps the normalised names that are not DejaVu Sans,
// measured with fc-match on Debian 12 (fontconfig 2.14, fonts-dejavu) over
// every family named in /etc/fonts/conf.d.
var fontFamilies = func() map[string]int {
	m := map[string]int{}
	for _, n := range strings.Split(strings.TrimSpace(serifFamilies), "\n") {
		m[strings.ToLower(strings.Join(strings.Fields(n), ""))] = familySerif
	}
	for _, n := range strings.Split(strings.TrimSpace(monoFamilies), "\n") {
		m[strings.ToLower(strings.Join(strings.Fields(n), ""))] = familyMono
	}
	return m
}()

const (
	hintedMaxSize = 48
	hintedFirst   = 32
	hintedLast    = 255
	hintedRecord  = 3 + hintedLast - hintedFirst + 1
)

// hintedRecordFor returns the metrics record of a face at an integer
// size, or nil where none was measured.
func hintedRecordFor(family int, bold, italic bool, size float64) []byte {
	if size != math.Trunc(size) || size < 1 || size > hintedMaxSize {
		return nil
	}
	i := 0
	if bold {
		i += 2
	}
	if italic {
		i++
	}
	off := ((family*4+i)*hintedMaxSize + int(size) - 1) * hintedRecord
	if off+hintedRecord > len(hintedMetrics) {
		return nil
	}
	return hintedMetrics[off : off+hintedRecord]
}

// glyphOutline is one glyph in font units (y down), flattened to
// polygons, with its advance.
type glyphOutline struct {
	advance float64
	path    path
}

// face is one parsed font face with a glyph cache.
type face struct {
	unitsPerEm      float64
	ascent, descent float64 // font units, both positive
	height          float64 // ascent+descent+lineGap
	mu              sync.Mutex
	glyphs          map[rune]*glyphOutline
	font            *sfnt.Font
	buf             sfnt.Buffer
}

var (
	facesOnce sync.Once
	faces     [families * 4]*face // index: family*4 + bold*2 + italic
	facesErr  error
)

func loadFaces() error {
	facesOnce.Do(func() {
		for i, b := range [][]byte{fontRegular, fontOblique, fontBold, fontBoldOblique,
			fontSerif, fontSerifItalic, fontSerifBold, fontSerifBoldItalic,
			fontMono, fontMonoOblique, fontMonoBold, fontMonoBoldOblique} {
			f, err := sfnt.Parse(b)
			if err != nil {
				facesErr = fmt.Errorf("graph: parse embedded font %d: %w", i, err)
				return
			}
			fc := &face{font: f, glyphs: map[rune]*glyphOutline{}}
			fc.unitsPerEm = float64(f.UnitsPerEm())
			m, err := f.Metrics(&fc.buf, fixed.I(int(f.UnitsPerEm())), font.HintingNone)
			if err != nil {
				facesErr = fmt.Errorf("graph: font metrics: %w", err)
				return
			}
			fc.ascent = float64(m.Ascent) / 64
			fc.descent = float64(m.Descent) / 64
			fc.height = float64(m.Height) / 64
			faces[i] = fc
		}
	})
	return facesErr
}

func faceFor(family int, bold, italic bool) *face {
	i := family * 4
	if bold {
		i += 2
	}
	if italic {
		i++
	}
	return faces[i]
}

// glyph returns r's outline (the .notdef box for runes the font lacks).
func (f *face) glyph(r rune) *glyphOutline {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, ok := f.glyphs[r]; ok {
		return g
	}
	g := &glyphOutline{}
	x, err := f.font.GlyphIndex(&f.buf, r)
	if err != nil {
		x = 0
	}
	ppem := fixed.I(int(f.unitsPerEm))
	if adv, err := f.font.GlyphAdvance(&f.buf, x, ppem, font.HintingNone); err == nil {
		g.advance = float64(adv) / 64
	}
	if segs, err := f.font.LoadGlyph(&f.buf, x, ppem, nil); err == nil {
		for _, s := range segs {
			a := s.Args
			switch s.Op {
			case sfnt.SegmentOpMoveTo:
				g.path.closeIfOpen()
				g.path.moveTo(float64(a[0].X)/64, float64(a[0].Y)/64)
			case sfnt.SegmentOpLineTo:
				g.path.lineTo(float64(a[0].X)/64, float64(a[0].Y)/64)
			case sfnt.SegmentOpQuadTo:
				g.path.quadTo(float64(a[0].X)/64, float64(a[0].Y)/64, float64(a[1].X)/64, float64(a[1].Y)/64)
			case sfnt.SegmentOpCubeTo:
				g.path.cubeTo(float64(a[0].X)/64, float64(a[0].Y)/64, float64(a[1].X)/64, float64(a[1].Y)/64, float64(a[2].X)/64, float64(a[2].Y)/64)
			}
		}
		g.path.closeIfOpen()
	}
	if len(f.glyphs) < 4096 {
		f.glyphs[r] = g
	}
	return g
}

// fontSpec is a face at a size; hinted selects cairo's image-surface
// metrics (whole-pixel advances and extents, what graphite-web's PNGs
// are laid out with) over the vector surfaces' exact font-unit metrics.
type fontSpec struct {
	family       int
	size         float64
	bold, italic bool
	hinted       bool
}

// fontExtents are cairo's font_extents: ascent, descent, height.
type fontExtents struct{ ascent, descent, height float64 }

func (s fontSpec) extents() fontExtents {
	f := faceFor(s.family, s.bold, s.italic)
	k := s.size / f.unitsPerEm
	e := fontExtents{f.ascent * k, f.descent * k, f.height * k}
	if s.hinted {
		if rec := hintedRecordFor(s.family, s.bold, s.italic, s.size); rec != nil {
			return fontExtents{float64(rec[0]), float64(rec[1]), float64(rec[2])}
		}
		// FreeType's scaled metrics with hinting: ascender rounded up,
		// descender down, height to the nearest pixel.
		e = fontExtents{math.Ceil(e.ascent), math.Ceil(e.descent), math.Round(e.height)}
	}
	return e
}

func (s fontSpec) advance(r rune, g *glyphOutline, f *face) float64 {
	a := g.advance * s.size / f.unitsPerEm
	if s.hinted {
		if rec := hintedRecordFor(s.family, s.bold, s.italic, s.size); rec != nil && r >= hintedFirst && r <= hintedLast {
			return float64(rec[3+r-hintedFirst])
		}
		a = math.Round(a)
	}
	return a
}

// width is cairo's text_extents x_advance of text (no kerning, as
// cairo's toy text API).
func (s fontSpec) width(text string) float64 {
	f := faceFor(s.family, s.bold, s.italic)
	w := 0.0
	for _, r := range text {
		w += s.advance(r, f.glyph(r), f)
	}
	return w
}

// appendText appends text's glyph outlines to p with the pen starting at
// (x, y) on the baseline, the advance direction rotated by angle radians.
func (s fontSpec) appendText(p *path, text string, x, y, angle float64) {
	f := faceFor(s.family, s.bold, s.italic)
	k := s.size / f.unitsPerEm
	c, sn := math.Cos(angle), math.Sin(angle)
	for _, r := range text {
		g := f.glyph(r)
		p.appendTransformed(&g.path, k*c, k*sn, -k*sn, k*c, x, y)
		adv := s.advance(r, g, f)
		x += adv * c
		y += adv * sn
	}
}
