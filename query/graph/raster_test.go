package graph

import (
	"math"
	"testing"
)

// TestTilesMatchWholeBounds: a stroke rasterised tile by tile (and, with
// pieces too large for tiles, as one tile) has the coverage of one pass
// over its whole bounds: every channel of every pixel within 1 (the
// float sums run in another order).
func TestTilesMatchWholeBounds(t *testing.T) {
	for _, width := range []float64{1.2, 3, 150} {
		var p path
		for i := 0; i <= 400; i++ {
			x := 5 + float64(i)*0.75
			y := 100 + 80*math.Sin(float64(i)/7) + 10*math.Sin(float64(i)*1.3)
			if i == 0 {
				p.moveTo(x, y)
			} else {
				p.lineTo(x, y)
			}
		}
		c := rgba{0.8, 0.1, 0.3, 1}
		st := &strokeStyle{width: width}
		tiled := newRaster(310, 200)
		tiled.stroke(&p, st, c, nil)
		got := append([]byte(nil), tiled.img.Pix...)
		tiled.release()
		whole := newRaster(310, 200)
		whole.clearOnce()
		whole.lines, whole.flatBuf = p.flatten(0.1, whole.lines[:0], whole.flatBuf)
		lines := whole.lines
		whole.paint(c, nil, func(add func([]float64)) { strokePolylines(lines, width, polygonSink(add)) })
		want := whole.img.Pix
		covered := 0
		for i := range want {
			if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
				t.Fatalf("width %g: byte %d (pixel %d,%d) is %d, one pass gives %d", width, i, i/4%310, i/4/310, got[i], want[i])
			}
			if i%4 == 3 && want[i] != 0 {
				covered++
			}
		}
		whole.release()
		if covered < 1000 {
			t.Fatalf("width %g: only %d pixels covered", width, covered)
		}
	}
}
