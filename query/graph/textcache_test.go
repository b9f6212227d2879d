package graph

import (
	"bytes"
	"testing"
)

// TestTextCacheSamePixels: text drawn through the coverage cache, on a
// miss and on a hit, leaves exactly the pixels that filling its outlines
// leaves (fill), upright and rotated, at fractional pen positions, in a
// translucent colour, cut by the picture's edge and through a clip.
func TestTextCacheSamePixels(t *testing.T) {
	if err := loadFaces(); err != nil {
		t.Fatal(err)
	}
	textRasters = textCache{}
	spec := fontSpec{family: familySans, size: 10, hinted: true}
	bold := fontSpec{family: familySerif, size: 13, bold: true, hinted: true}
	keys := []textKey{
		{spec: spec, text: "bench.s000", x: 37, y: 580.5},
		{spec: spec, text: "12:00", x: 101.25, y: 12.75},
		{spec: bold, text: "Title gÿ", x: 3.5, y: 40},
		{spec: spec, text: "vertical", x: 20, y: 90, angle: -1.5707963267948966},
		{spec: spec, text: "cut at the edge", x: 150, y: 6},
		{spec: spec, text: "", x: 1, y: 1},
	}
	draw := func(useCache bool) []byte {
		clip := &clipState{}
		clip.p.rectangle(10, 10, 120, 50)
		r := newRaster(200, 100)
		defer r.release()
		c := newCanvas(r)
		c.setColor(rgba{1, 1, 1, 1})
		c.rectangle(0, 0, 200, 100)
		c.fill()
		for i, k := range keys {
			col := rgba{0.2, 0.4, 0.9, 0.7}
			var cl *clipState
			if i == 1 {
				cl = clip
			}
			if useCache {
				r.fillText(k, col, cl)
				continue
			}
			var p path
			k.spec.appendText(&p, k.text, k.x, k.y, k.angle)
			r.fill(&p, col, cl)
		}
		return append([]byte(nil), r.img.Pix...)
	}
	want := draw(false)
	inked := 0
	for i := 0; i < len(want); i += 4 {
		if want[i] != 255 {
			inked++
		}
	}
	if inked < 300 {
		t.Fatalf("only %d pixels of text drawn", inked)
	}
	if miss := draw(true); !bytes.Equal(miss, want) {
		t.Fatal("text drawn on cache misses differs from its filled outlines")
	}
	if n := len(textRasters.m); n != len(keys) {
		t.Fatalf("%d cached strings, want %d", n, len(keys))
	}
	if hit := draw(true); !bytes.Equal(hit, want) {
		t.Fatal("text drawn from the cache differs from its filled outlines")
	}
	if n := len(textRasters.m); n != len(keys) {
		t.Fatalf("%d cached strings after the hits, want %d", n, len(keys))
	}
}

// TestTextCacheBounded: the cache empties itself rather than grow past
// textCacheBytes, and keeps no coverage larger than textCoverageMax.
func TestTextCacheBounded(t *testing.T) {
	c := textCache{}
	cov := make([]uint8, 1000)
	for i := 0; i < 10000; i++ {
		c.put(textKey{text: "x", x: float64(i)}, textCoverage{cov: cov})
		if c.bytes > textCacheBytes {
			t.Fatalf("after %d entries the cache holds %d bytes, over %d", i+1, c.bytes, textCacheBytes)
		}
	}
	if want := textCacheBytes / (1000 + 1 + textEntryBytes); len(c.m) > want {
		t.Fatalf("%d entries, want at most %d", len(c.m), want)
	}
	c.put(textKey{text: "huge"}, textCoverage{cov: make([]uint8, textCoverageMax+1)})
	if _, ok := c.get(textKey{text: "huge"}); ok {
		t.Fatal("a coverage over textCoverageMax was kept")
	}
}
