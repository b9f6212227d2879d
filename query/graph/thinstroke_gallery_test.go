package graph_test

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/plumbago/plumbago/query/graph"
)

// TestThinStrokeGallery draws every gallery picture with and without the
// thin-stroke path and reports how far apart the two are (channel values
// that differ, their mean and largest difference) and how far each is
// from graphite-web's picture (the gallery's perceptual distance). With
// the thin-stroke path no picture may be farther from graphite-web's
// than without it (0.05 of slack for the sampling).
func TestThinStrokeGallery(t *testing.T) {
	_, a := fixture(t)
	for _, c := range gallery {
		if c.status != 0 {
			continue
		}
		uri := galleryURI(c, "png")
		restore := graph.SetThinStrokes(false)
		old := plumbago(a, uri)
		restore()
		cur := plumbago(a, uri)
		if old.Status != 200 || cur.Status != 200 {
			t.Fatalf("%s: status %d / %d", c.name, old.Status, cur.Status)
		}
		_, want := readGolden(t, c.name)
		var pics [3]image.Image
		for i, body := range [][]byte{want.Body, old.Body, cur.Body} {
			var err error
			if pics[i], err = png.Decode(bytes.NewReader(body)); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		n, sum, most := channelDiff(pics[1], pics[2])
		mdiff := 0.0
		if n > 0 {
			mdiff = float64(sum) / float64(n)
		}
		oldDist, _ := pngDistance(pics[0], pics[1])
		newDist, _ := pngDistance(pics[0], pics[2])
		t.Logf("%-24s %6d channel values differ (mean %5.2f, max %3d); distance to graphite-web %.2f general, %.2f thin",
			c.name, n, mdiff, most, oldDist, newDist)
		if newDist > oldDist+0.05 {
			t.Errorf("%s: with thin strokes %.2f from graphite-web's picture, without %.2f", c.name, newDist, oldDist)
		}
	}
}

// channelDiff counts the channel values that differ between two
// pictures of one size, with the sum and largest of their differences.
func channelDiff(a, b image.Image) (n, sum, most int) {
	pa, pb := pixels(a), pixels(b)
	if len(pa) != len(pb) {
		return -1, 0, 0
	}
	for i := range pa {
		d := int(pa[i]) - int(pb[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			n++
			sum += d
			most = max(most, d)
		}
	}
	return n, sum, most
}

// pixels are a decoded picture's bytes (the PNG decoder answers RGBA or
// NRGBA).
func pixels(m image.Image) []uint8 {
	switch p := m.(type) {
	case *image.RGBA:
		return p.Pix
	case *image.NRGBA:
		return p.Pix
	}
	return nil
}
