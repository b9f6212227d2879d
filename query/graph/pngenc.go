package graph

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// encodePNG writes the picture as an 8-bit PNG: RGB when every pixel is
// opaque, else RGBA (straight alpha), each row with the Sub filter and
// compressed by rleZlib. graphite-web's pictures are mostly flat colour,
// which Sub turns into runs of zeros.
// pngBuffers are the encoder's reusable buffers.
type pngBuffers struct {
	z         rleZlib
	zbuf      []byte
	row, prev []byte
}

func encodePNG(r *raster) ([]byte, error) {
	defer r.release()
	img := r.img
	w, h := img.Rect.Dx(), img.Rect.Dy()
	opaque := true
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 255 {
			opaque = false
			break
		}
	}
	bpp := 4
	ctype := byte(6)
	if opaque {
		bpp, ctype = 3, 2
	}
	var out bytes.Buffer
	out.Grow(w * h / 4)
	out.WriteString("\x89PNG\r\n\x1a\n")
	var hdr [13]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(w))
	binary.BigEndian.PutUint32(hdr[4:], uint32(h))
	hdr[8], hdr[9] = 8, ctype
	writeChunk(&out, "IHDR", hdr[:])
	pb := &r.png
	pb.z.reset(pb.zbuf)
	if cap(pb.row) < 1+w*4 {
		pb.row, pb.prev = make([]byte, 1+w*4), make([]byte, w*4)
	}
	row := pb.row[:1+w*bpp]
	prev := pb.prev[:w*bpp] // this row unfiltered
	for y := 0; y < h; y++ {
		src := img.Pix[y*img.Stride : y*img.Stride+w*4]
		cur := prev[:0]
		for x := 0; x < w; x++ {
			p := src[x*4 : x*4+4 : x*4+4]
			a := p[3]
			if bpp == 3 {
				cur = append(cur, p[0], p[1], p[2])
				continue
			}
			switch a {
			case 0:
				cur = append(cur, 0, 0, 0, 0)
			case 255:
				cur = append(cur, p[0], p[1], p[2], 255)
			default: // un-premultiply
				cur = append(cur, unpre(p[0], a), unpre(p[1], a), unpre(p[2], a), a)
			}
		}
		row[0] = 1 // Sub
		for i := 0; i < len(cur); i++ {
			left := byte(0)
			if i >= bpp {
				left = cur[i-bpp]
			}
			row[1+i] = cur[i] - left
		}
		pb.z.write(row)
	}
	pb.zbuf = pb.z.finish()
	writeChunk(&out, "IDAT", pb.zbuf)
	writeChunk(&out, "IEND", nil)
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
