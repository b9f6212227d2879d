package graph

import (
	"encoding/binary"
	"hash/crc32"
)

// pngBuffers are the encoder's reusable buffers.
type pngBuffers struct {
	z     rleZlib
	masks []uint64 // a row's upMasks, 64 pixels each
}

const pngSignature = "\x89PNG\r\n\x1a\n"

// encodePNG appends the picture to dst as an 8-bit PNG: RGB when every
// pixel is opaque, else RGBA (straight alpha), each row with the Sub
// filter (or, opaque, the Up filter unless more than half its pixels
// differ from the row above and upBetter finds Sub leaves fewer
// literals) and compressed by rleZlib straight into dst, which grows
// only when it lacks room (no copy of the stream when dst is a
// reused buffer of a previous picture's size). graphite-web's
// pictures are mostly flat colour, which Sub turns into runs of zeros:
// a pixel equal to its left neighbour is bpp zero bytes, written as one
// run without looking at the bytes.
func encodePNG(r *raster, dst []byte) ([]byte, error) {
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
	dst = append(dst, pngSignature...)
	var hdr [13]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(w))
	binary.BigEndian.PutUint32(hdr[4:], uint32(h))
	hdr[8], hdr[9] = 8, ctype
	dst = appendChunk(dst, "IHDR", hdr[:])
	idat := len(dst) // the IDAT chunk's length, then its type and data
	dst = append(dst, 0, 0, 0, 0, 'I', 'D', 'A', 'T')
	pb := &r.png
	rowLen := 1 + w*bpp
	pb.z.reset(dst, h*rowLen)
	if nm := (w + 63) / 64; cap(pb.masks) < nm {
		pb.masks = make([]uint64, nm)
	}
	masks := pb.masks[:(w+63)/64]
	for y := 0; y < h; y++ {
		pb.z.room(rowLen)
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
	out := pb.z.finish()
	pb.z.out = nil // dst's memory is the caller's
	binary.BigEndian.PutUint32(out[idat:], uint32(len(out)-idat-8))
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[idat+4:]))
	return appendChunk(out, "IEND", nil), nil
}

func unpre(c, a uint8) uint8 { return uint8((uint32(c)*255 + uint32(a)/2) / uint32(a)) }

// appendChunk appends a PNG chunk of type typ holding data.
func appendChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(append(out, typ...), data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}
