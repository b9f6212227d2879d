package graph

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// pngBuffers are the encoder's reusable buffers.
type pngBuffers struct {
	z     rleZlib
	zbuf  []byte
	masks []uint64 // a row's diffMask, 64 pixels each
}

// encodePNG writes the picture as an 8-bit PNG: RGB when every pixel is
// opaque, else RGBA (straight alpha), each row with the Sub filter (or,
// opaque, the Up filter unless more than half its pixels differ from
// the row above and upBetter finds Sub leaves fewer literals)
// and compressed by rleZlib. graphite-web's pictures are mostly flat colour,
// which Sub turns into runs of zeros: a pixel equal to its left
// neighbour is bpp zero bytes, written as one run without looking at
// the bytes.
func encodePNG(r *raster) ([]byte, error) {
	defer r.release()
	r.clearOnce()
	img := r.img
	w, h := img.Rect.Dx(), img.Rect.Dy()
	opaque := r.opaque
	if !opaque {
		opaque = true
		for i := 3; i < len(img.Pix); i += 4 {
			if img.Pix[i] != 255 {
				opaque = false
				break
			}
		}
	}
	bpp := 4
	ctype := byte(6)
	if opaque {
		bpp, ctype = 3, 2
	}
	pb := &r.png
	pb.z.reset(pb.zbuf, h*(w*bpp+1))
	if nm := (w + 63) / 64; cap(pb.masks) < nm {
		pb.masks = make([]uint64, nm)
	}
	masks := pb.masks[:(w+63)/64]
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		if opaque && y > 0 {
			// Up unless more than half the pixels differ from the row
			// above (a horizontal line) and upBetter prefers Sub
			above := img.Pix[(y-1)*img.Stride : (y-1)*img.Stride+w*4]
			if d := upMasks(row, above, masks); 2*d <= w || upBetter(row, above) {
				pb.z.rowUp(row, above, masks)
				continue
			}
		}
		pb.z.row(row, bpp)
	}
	pb.zbuf = pb.z.finish()
	out := bytes.NewBuffer(make([]byte, 0, len(pb.zbuf)+64))
	out.WriteString("\x89PNG\r\n\x1a\n")
	var hdr [13]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(w))
	binary.BigEndian.PutUint32(hdr[4:], uint32(h))
	hdr[8], hdr[9] = 8, ctype
	writeChunk(out, "IHDR", hdr[:])
	writeChunk(out, "IDAT", pb.zbuf)
	writeChunk(out, "IEND", nil)
	return out.Bytes(), nil
}

func unpre(c, a uint8) uint8 { return uint8((uint32(c)*255 + uint32(a)/2) / uint32(a)) }

func writeChunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}
