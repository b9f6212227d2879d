package graph_test

import (
	"image"
	"math"
)

// pngDistance is the gallery's perceptual distance between two pictures
// of one size: both are turned into CIE L* lightness (0..100), blurred
// with a 3×3 box (so a line one pixel off costs little), and compared in
// 8×8 blocks at a 4 pixel stride. It returns the mean absolute L*
// difference of the worst block (a wrong or missing axis label, a
// misplaced line) and of the whole picture.
func pngDistance(a, b image.Image) (worst, mean float64) {
	ra, rb := a.Bounds(), b.Bounds()
	if ra.Dx() != rb.Dx() || ra.Dy() != rb.Dy() {
		return math.Inf(1), math.Inf(1)
	}
	w, h := ra.Dx(), ra.Dy()
	la, lb := lightness(a), lightness(b)
	ba, bb := blur3(la, w, h), blur3(lb, w, h)
	d := make([]float64, w*h)
	sum := 0.0
	for i := range d {
		d[i] = math.Abs(ba[i] - bb[i])
		sum += d[i]
	}
	mean = sum / float64(w*h)
	for y := 0; y+8 <= h; y += 4 {
		for x := 0; x+8 <= w; x += 4 {
			s := 0.0
			for yy := y; yy < y+8; yy++ {
				for xx := x; xx < x+8; xx++ {
					s += d[yy*w+xx]
				}
			}
			worst = math.Max(worst, s/64)
		}
	}
	return worst, mean
}

// lightness is CIE L* of each pixel composited over white.
func lightness(img image.Image) []float64 {
	r := img.Bounds()
	out := make([]float64, 0, r.Dx()*r.Dy())
	lin := func(c float64) float64 {
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, pa := img.At(x, y).RGBA() // premultiplied 16 bit
			white := 65535 - float64(pa)
			R, G, B := (float64(pr)+white)/65535, (float64(pg)+white)/65535, (float64(pb)+white)/65535
			Y := 0.2126*lin(R) + 0.7152*lin(G) + 0.0722*lin(B)
			var L float64
			if Y > 216.0/24389 {
				L = 116*math.Cbrt(Y) - 16
			} else {
				L = Y * 24389 / 27
			}
			out = append(out, L)
		}
	}
	return out
}

func blur3(v []float64, w, h int) []float64 {
	out := make([]float64, len(v))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s, n := 0.0, 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx >= 0 && yy >= 0 && xx < w && yy < h {
						s += v[yy*w+xx]
						n++
					}
				}
			}
			out[y*w+x] = s / float64(n)
		}
	}
	return out
}
