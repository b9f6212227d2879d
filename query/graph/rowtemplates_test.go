package graph

import (
	"bytes"
	"testing"
)

// TestRowTemplatesSamePixels: a background, grid lines (vertical ones
// over the same rows and others, more than the templates allow), a
// legend box, text-like fills and a stroke draw the same bytes whether
// the rows wait on templates or are written from the start (the
// background written at once by clearOnce).
func TestRowTemplatesSamePixels(t *testing.T) {
	draw := func(r *raster, writeFirst bool) []uint8 {
		c := newCanvas(r)
		c.setColor(rgba{0.1, 0.2, 0.3, 1})
		c.rectangle(0, 0, float64(r.w), float64(r.h))
		c.fill()
		if writeFirst {
			r.clearOnce()
		}
		if got := r.tmpl.pending; writeFirst != (got == 0) {
			t.Fatalf("pending rows %d after the background (written first: %v)", got, writeFirst)
		}
		// a legend box: filled, then outlined (a closed path, not an
		// axis line)
		c.setColor(rgba{1, 0, 0, 1})
		c.rectangle(10, 170, 8, 8)
		c.fill()
		c.setColor(rgba{0.6, 0.6, 0.6, 1})
		c.rectangle(10.5, 170.5, 7.5, 7.5)
		c.stroke()
		// horizontal grid lines, then vertical ones: most from the
		// plot's top to its bottom, some shorter, 40 in all (past
		// maxRowTemplates), translucent too
		for y := 20.0; y < 150; y += 13.3 {
			c.setLineWidth(0.4)
			c.setColor(rgba{1, 1, 1, 1})
			c.moveTo(15, y)
			c.lineTo(190, y)
			c.stroke()
		}
		for i := 0; i < 40; i++ {
			x := 15 + float64(i)*4.37
			c.setLineWidth(0.25 + float64(i%3)*0.1)
			c.setColor(rgba{0.9, 0.8, 0.2, 0.5 + float64(i%2)/2})
			bottom := 150.0
			if i%5 == 0 {
				bottom = 90 + float64(i)
			}
			c.moveTo(x, bottom)
			c.lineTo(x, 10)
			c.stroke()
		}
		// text-like fills through the rasteriser, then a line across
		c.setColor(rgba{0, 0, 0, 1})
		c.moveTo(2, 30)
		c.lineTo(12, 31)
		c.lineTo(7, 45)
		c.closePath()
		c.fill()
		c.setLineWidth(1.5)
		c.setColor(rgba{0.2, 0.9, 0.4, 1})
		c.moveTo(15, 140)
		for x := 16.0; x < 190; x += 3 {
			c.lineTo(x, 80+50*float64(int(x)%7)/7)
		}
		c.stroke()
		r.clearOnce()
		return append([]uint8(nil), r.img.Pix...)
	}
	a := draw(newRaster(200, 190), false)
	b := draw(newRaster(200, 190), true)
	if !bytes.Equal(a, b) {
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("pixel %d,%d differs: %v with templates, %v written first", i/4%200, i/4/200, a[i/4*4:i/4*4+4], b[i/4*4:i/4*4+4])
			}
		}
	}
}

// BenchmarkBackgroundGrid: an 800×600 picture's background and a grid
// like the 10-series graph's (15 horizontal and 38 vertical lines),
// then the rows written (as before the first stroke), with the rows on
// templates and with the background written first.
func BenchmarkBackgroundGrid(b *testing.B) {
	for _, bc := range []struct {
		name       string
		writeFirst bool
	}{{"templates", false}, {"written", true}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := newRaster(800, 600)
				c := newCanvas(r)
				c.setColor(rgba{0, 0, 0, 1})
				c.rectangle(0, 0, 800, 600)
				c.fill()
				if bc.writeFirst {
					r.clearOnce()
				}
				c.setColor(rgba{0.25, 0.25, 0.25, 1})
				for k := 0; k < 15; k++ {
					c.setLineWidth(0.3 + float64(k%2)*0.1)
					c.moveTo(50, 15.3+float64(k)*36.6)
					c.lineTo(790, 15.3+float64(k)*36.6)
					c.stroke()
				}
				for k := 0; k < 38; k++ {
					c.setLineWidth(0.25 + float64(k%6/5)*0.08)
					c.moveTo(50+float64(k)*19.4, 560)
					c.lineTo(50+float64(k)*19.4, 10)
					c.stroke()
				}
				r.clearOnce()
				r.release()
			}
		})
	}
}
