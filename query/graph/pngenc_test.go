package graph

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math/rand"
	"os"
	"syscall"
	"testing"
	"time"
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
		encodeDecodes(t, r)
	}
}

// encodeDecodes encodes r and checks that image/png decodes the PNG to
// exactly r's pixels, un-premultiplied; it returns the PNG.
func encodeDecodes(t *testing.T, r *raster) []byte {
	t.Helper()
	w, h := r.w, r.h
	src := append([]byte(nil), r.img.Pix...)
	opaque := r.opaque
	// appended after a caller's bytes in a buffer too small for it
	// (the stream grows it), then in its own
	prefix := make([]byte, 3, 40)
	copy(prefix, "abc")
	r2 := newRaster(w, h)
	copy(r2.img.Pix, src)
	r2.cleared, r2.opaque = true, opaque
	after, err := encodePNG(r2, prefix)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodePNG(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(after[:3]) != "abc" || !bytes.Equal(after[3:], b) {
		t.Fatalf("%dx%d: the PNG appended to 3 bytes differs from the PNG alone", w, h)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := src[(y*w+x)*4:]
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
				t.Fatalf("%dx%d (opaque %v) pixel %d,%d: %v, want %v", w, h, opaque, x, y, got, want)
			}
		}
	}
	return b
}

// TestEncodePNGUpFilter: an opaque picture whose rows repeat the row
// above where vertical stripes cross them (a plot's grid) is written with
// the Up filter on those rows and Sub on the others (the rows of a
// horizontal line and the rows after them), and image/png
// decodes it to exactly the pixels drawn (the dense graph picture too).
func TestEncodePNGUpFilter(t *testing.T) {
	const w, h = 203, 40
	r := newRaster(w, h)
	r.cleared, r.opaque = true, true
	rnd := rand.New(rand.NewSource(2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := r.img.Pix[(y*w+x)*4:]
			p[0], p[1], p[2], p[3] = 250, 250, 250, 255
			if x%9 < 2 { // a vertical stripe, in two shades
				p[0], p[1] = byte(100+x%9*20), 90
			}
			if y%5 == 3 { // a horizontal line, dithered in places
				p[0], p[1], p[2] = 30, 60, 200
				if x > 50 && x < 60 {
					p[0], p[1], p[2] = byte(rnd.Intn(256)), byte(rnd.Intn(256)), byte(rnd.Intn(256))
				}
			}
		}
	}
	b := encodeDecodes(t, r)
	// the filter byte of every row: IDAT (after the signature and IHDR)
	zr, err := zlib.NewReader(bytes.NewReader(b[8+25+8 : len(b)-12-4]))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var filters []byte
	for y := 0; y < h; y++ {
		filters = append(filters, raw[y*(w*3+1)])
	}
	for y, f := range filters {
		want := byte(2)
		if y == 0 || y%5 == 3 || y%5 == 4 {
			want = 1
		}
		if f != want {
			t.Fatalf("row %d has filter %d, want %d (all rows: %v)", y, f, want, filters)
		}
	}

	r = denseGraph(t)
	r.cleared, r.opaque = true, true
	encodeDecodes(t, r)
}

// denseGraph is a raster holding testdata/bench-10x1000.png, a dense
// 800×600 line graph.
func denseGraph(t *testing.T) *raster {
	f, err := os.ReadFile("testdata/bench-10x1000.png")
	if err != nil {
		t.Fatal(err)
	}
	dense, err := png.Decode(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	r := newRaster(dense.Bounds().Dx(), dense.Bounds().Dy())
	draw.Draw(r.img, r.img.Rect, dense, image.Point{}, draw.Src)
	return r
}

// TestEncodePNGExactStream: the deflate block of an opaque picture is
// exactly the one a plain coder of the same scheme writes from the
// filtered rows (the filter byte and each pixel's three bytes a literal
// each, a pixel of three zero bytes part of a run of zeros, coded by
// zeroRunCode in runs of at most 258 bytes): the fast Up and Sub row
// coders cut runs and choose codes as documented, which decoding alone
// does not show (a longer coding of the same bytes decodes the same).
// Pictures: the striped one of TestEncodePNGUpFilter (Up and Sub rows,
// short runs; a long run after a zero byte) and the dense graph (rows of 800 pixels: runs longer than
// 86 pixels, whole rows repeating the row above).
func TestEncodePNGExactStream(t *testing.T) {
	const w, h = 203, 40
	striped := newRaster(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := striped.img.Pix[(y*w+x)*4:]
			p[0], p[1], p[2], p[3] = 250, 250, 250, 255
			if x%9 < 2 {
				p[0], p[1] = byte(100+x%9*20), 90
			}
			if y%5 == 3 {
				p[0], p[1], p[2] = 30, 60, byte(x)
			}
			if y == 21 && (x == 4 || x == 150) { // the last byte differs by 0, then runs of 145 and 52 pixels
				p[0], p[1] = 10, 20
			}
		}
	}
	for _, r := range []*raster{striped, denseGraph(t)} {
		r.cleared, r.opaque = true, true
		w := r.w
		b, err := encodePNG(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		idat := b[8+25+8 : len(b)-12-4] // zlib header, deflate, Adler-32
		raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(idat[2:])))
		if err != nil {
			t.Fatal(err)
		}
		got, want := idat[2:len(idat)-4], plainBlock(raw, 1+3*w)
		if !bytes.Equal(got, want) {
			n := 0
			for n < min(len(got), len(want)) && got[n] == want[n] {
				n++
			}
			t.Fatalf("%dx%d: the block is %d bytes, the plain coder's %d; they differ from byte %d", w, r.h, len(got), len(want), n)
		}
	}
}

// plainBlock codes raw, filtered rows of rowLen bytes (RGB), as
// encodePNG's deflate block, one bit at a time.
func plainBlock(raw []byte, rowLen int) []byte {
	bw := &bitWriter{}
	for i := uint(0); i < headerBits; i++ {
		bw.put(uint32(blockHeader[i/8]>>(i%8)), 1)
	}
	for ; len(raw) >= rowLen; raw = raw[rowLen:] {
		row := raw[:rowLen]
		bw.put(litCode[row[0]], litBits) // the filter byte (1 or 2: not 0)
		last, zeros := row[0], 0
		run := func() {
			for zeros > 0 {
				n := min(zeros, 258)
				z := 0
				if last == 0 {
					z = 1
				}
				c := zeroRunCode[z][n]
				bw.put(uint32(c), uint(c>>32))
				zeros -= n
				last = 0
			}
		}
		for px := row[1:]; len(px) >= 3; px = px[3:] {
			if px[0]|px[1]|px[2] == 0 {
				zeros += 3
				continue
			}
			run()
			for _, c := range px[:3] {
				bw.put(litCode[c], litBits)
			}
			last = px[2]
		}
		run()
	}
	bw.put(eobCode&0xffff, uint(eobCode>>16))
	return bw.b
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
	b.ResetTimer()
	var cpu0, cpu1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)
	var out []byte // reused, as query/api reuses the response's buffer
	for i := 0; i < b.N; i++ {
		r := newRaster(w, h)
		r.img.Pix = pix.Pix              // read only: encodePNG does not write the picture
		r.cleared, r.opaque = true, true // as a graph's background fill leaves it
		if out, err = encodePNG(r, out[:0]); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpu1)
	cpu := time.Duration(cpu1.Utime.Nano() + cpu1.Stime.Nano() - cpu0.Utime.Nano() - cpu0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// FuzzEncodePNG: any picture (width 1..300, height 1..8, the pixels
// from the input, opaque or not) round-trips through encodePNG and
// image/png to exactly its pixels. The input is stretched over the
// picture a byte per pixel so that runs (of equal pixels, long and
// short, across the 64-pixel masks of an Up row) and literals mix; the
// first bytes choose the size.
func FuzzEncodePNG(f *testing.F) {
	f.Add([]byte{200, 3, 1, 0, 0, 0, 9, 9, 9, 9, 1, 2, 3, 0})
	f.Add([]byte{64, 4, 1, 5, 5, 5, 5, 5, 7, 5, 5, 5, 5})
	f.Add([]byte{255, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})
	f.Add([]byte{1, 1, 1, 42})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 4 {
			return
		}
		w, h, opaque := 1+int(in[0])%300, 1+int(in[1])%8, in[2]&1 == 1
		data := in[3:]
		r := newRaster(w, h)
		r.cleared, r.opaque = true, opaque
		for i := 0; i < w*h; i++ {
			// four pixels per input byte, so that runs are common
			v := data[(i/4)%len(data)]
			px := r.img.Pix[i*4 : i*4+4]
			px[0], px[1], px[2], px[3] = v, v*7, v^0x5a, 255
			if !opaque && v%3 == 0 {
				px[3] = v
				px[0], px[1], px[2] = min(px[0], v), min(px[1], v), min(px[2], v)
			}
		}
		encodeDecodes(t, r)
	})
}

// TestDynamicCodes: the block header and every code the writer uses
// (the 256 literals, the distance-1 match of each length 3..258 and the
// end of block) decode with compress/flate to the bytes meant: a block
// of every literal, then every match length repeating the last byte.
func TestDynamicCodes(t *testing.T) {
	w := &bitWriter{}
	for i := uint(0); i < headerBits; i++ {
		w.put(uint32(blockHeader[i/8]>>(i%8)), 1)
	}
	var want []byte
	for s := 0; s < 256; s++ {
		w.put(litCode[s], litBits)
		want = append(want, byte(s))
	}
	for l := 3; l <= 258; l++ {
		w.put(matchCode[l], uint(matchLen[l]))
		want = append(want, bytes.Repeat([]byte{255}, l)...)
	}
	w.put(eobCode&0xffff, uint(eobCode>>16))
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(w.b)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decoded %d bytes, want %d", len(got), len(want))
	}
}
