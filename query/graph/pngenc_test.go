package graph

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"math/rand"
	"os"
	"testing"
)

// TestEncodePNGRoundTrip: image/png decodes our PNGs (with their runs
// and literals) to exactly the pixels drawn, opaque (RGB) and translucent
// (RGBA, un-premultiplied).
func TestEncodePNGRoundTrip(t *testing.T) {
	for _, opaque := range []bool{true, false} {
		r := newRaster(301, 45)
		r.cleared = true // the pixels are written here
		rnd := rand.New(rand.NewSource(1))
		for i := range r.img.Pix {
			if rnd.Intn(7) == 0 {
				r.img.Pix[i] = byte(rnd.Intn(256))
			}
		}
		for i := 3; i < len(r.img.Pix); i += 4 {
			if opaque || i%40 < 20 {
				r.img.Pix[i] = 255
			}
			for k := 1; k <= 3; k++ { // premultiplied: colour ≤ alpha
				r.img.Pix[i-k] = min(r.img.Pix[i-k], r.img.Pix[i])
			}
		}
		src := append([]byte(nil), r.img.Pix...)
		b, err := encodePNG(r)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < 45; y++ {
			for x := 0; x < 301; x++ {
				p := src[(y*301+x)*4:]
				var want [4]uint8
				switch a := p[3]; a {
				case 0:
				case 255:
					want = [4]uint8{p[0], p[1], p[2], 255}
				default:
					want = [4]uint8{unpre(p[0], a), unpre(p[1], a), unpre(p[2], a), a}
				}
				var got [4]uint8
				switch m := img.(type) {
				case *image.RGBA:
					copy(got[:], m.Pix[m.PixOffset(x, y):])
				case *image.NRGBA:
					copy(got[:], m.Pix[m.PixOffset(x, y):])
				default:
					t.Fatalf("decoded %T", img)
				}
				if got != want {
					t.Fatalf("opaque %v pixel %d,%d: %v, want %v", opaque, x, y, got, want)
				}
			}
		}
	}
}

// BenchmarkEncodePNG: the PNG writer alone on a dense 800×600 line graph
// (testdata/bench-10x1000.png, drawn by BenchmarkGraph10x1000PNG's request).
func BenchmarkEncodePNG(b *testing.B) {
	f, err := os.ReadFile("testdata/bench-10x1000.png")
	if err != nil {
		b.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(f))
	if err != nil {
		b.Fatal(err)
	}
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	pix := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(pix, pix.Rect, src, image.Point{}, draw.Src)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := newRaster(w, h)
		copy(r.img.Pix, pix.Pix)
		r.cleared = true
		if _, err := encodePNG(r); err != nil {
			b.Fatal(err)
		}
	}
}
