package graph

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// pngBuffers are the encoder's reusable buffers.
type pngBuffers struct {
	z    rleZlib
	zbuf []byte
}

// encodePNG writes the picture as an 8-bit PNG: RGB when every pixel is
// opaque, else RGBA (straight alpha), each row with the Sub filter and
// compressed by rleZlib. graphite-web's pictures are mostly flat colour,
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
	pb.z.reset(pb.zbuf)
	var lit [8]byte
	for y := 0; y < h; y++ {
		src := img.Pix[y*img.Stride : y*img.Stride+w*4]
		pb.z.write(subFilter[:]) // the Sub filter
		var left [4]byte         // the previous pixel, straight alpha
		prev := uint32(0)        // the previous pixel as stored, 0 before the row
		zeros := 0
		for x := 0; x < w; x++ {
			p := binary.LittleEndian.Uint32(src[x*4:])
			if p == prev && x > 0 {
				zeros += bpp
				// the rest of a run two pixels at a time
				pp := uint64(p) | uint64(p)<<32
				for x+2 < w && binary.LittleEndian.Uint64(src[x*4+4:]) == pp {
					x += 2
					zeros += 2 * bpp
				}
				continue
			}
			if zeros > 0 {
				pb.z.zeros(zeros)
				zeros = 0
			}
			prev = p
			var cur [4]byte
			switch a := byte(p >> 24); {
			case a == 255:
				cur = [4]byte{byte(p), byte(p >> 8), byte(p >> 16), 255}
			case a == 0:
			default: // un-premultiply
				cur = [4]byte{unpre(byte(p), a), unpre(byte(p>>8), a), unpre(byte(p>>16), a), a}
			}
			for i := 0; i < bpp; i++ {
				lit[i] = cur[i] - left[i]
			}
			left = cur
			pb.z.literals(lit[:bpp])
		}
		if zeros > 0 {
			pb.z.zeros(zeros)
		}
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

var subFilter = [1]byte{1}
