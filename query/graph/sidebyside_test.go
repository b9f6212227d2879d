package graph_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
)

// sideBySide puts graphite-web's picture (left) beside Plumbago's
// (right) with an 8 pixel grey gutter, as one PNG.
func sideBySide(left, right image.Image) ([]byte, error) {
	lb, rb := left.Bounds(), right.Bounds()
	w := lb.Dx() + 8 + rb.Dx()
	h := max(lb.Dy(), rb.Dy())
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.RGBA{200, 200, 200, 255}}, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(0, 0, lb.Dx(), lb.Dy()), left, lb.Min, draw.Src)
	draw.Draw(out, image.Rect(lb.Dx()+8, 0, w, rb.Dy()), right, rb.Min, draw.Src)
	var buf bytes.Buffer
	err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out)
	return buf.Bytes(), err
}
