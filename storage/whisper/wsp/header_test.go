package wsp

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// file builds a whisper file as whisper.create lays it out: archives of
// (step, points), finest first, with the given header overrides.
func file(method uint32, xff float32, archives ...[2]uint32) []byte {
	n := MetaSize + ArchiveInfoSize*len(archives)
	var maxRet uint32
	size := n
	for _, a := range archives {
		maxRet = max(maxRet, a[0]*a[1])
		size += int(a[1]) * PointSize
	}
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b[0:], method)
	binary.BigEndian.PutUint32(b[4:], maxRet)
	binary.BigEndian.PutUint32(b[8:], math.Float32bits(xff))
	binary.BigEndian.PutUint32(b[12:], uint32(len(archives)))
	off := uint32(n)
	for i, a := range archives {
		p := b[MetaSize+ArchiveInfoSize*i:]
		binary.BigEndian.PutUint32(p[0:], off)
		binary.BigEndian.PutUint32(p[4:], a[0])
		binary.BigEndian.PutUint32(p[8:], a[1])
		off += a[1] * PointSize
	}
	return b
}

func TestParseHeader(t *testing.T) {
	b := file(1, 0.5, [2]uint32{10, 6}, [2]uint32{60, 10})
	h, err := ParseHeader(b, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := []ArchiveInfo{{Offset: 40, Step: 10, Points: 6}, {Offset: 40 + 72, Step: 60, Points: 10}}
	if h.Method != 1 || h.MaxRetention != 600 || h.XFilesFactor != 0.5 || h.Archives != 2 ||
		len(h.Infos) != 2 || h.Infos[0] != want[0] || h.Infos[1] != want[1] {
		t.Fatalf("header = %+v; want method 1, maxRetention 600, xff 0.5, archives %+v", h, want)
	}
}

// TestParseHeaderRejects: every way a header can be wrong is ErrCorrupt,
// and so is a file of 65 archives (the importer used to cap at 64, the
// backend at 1024: one rule now accepts it).
func TestParseHeaderRejects(t *testing.T) {
	good := file(1, 0.5, [2]uint32{10, 6})
	set := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	for name, b := range map[string][]byte{
		"short":            good[:20],
		"method 0":         set(0, 0),
		"method 9":         set(0, 9),
		"xff > 1":          set(8, math.Float32bits(1.5)),
		"xff NaN":          set(8, math.Float32bits(float32(math.NaN()))),
		"no archives":      set(12, 0),
		"too many":         set(12, MaxArchives+1),
		"header past file": set(12, 100),
		"offset in header": set(16, 10),
		"archive past end": set(24, 7),
		"step 0":           set(20, 0),
		"maxRet > span":    set(4, 61),
	} {
		if _, err := ParseHeader(b, int64(len(b))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v; want ErrCorrupt", name, err)
		}
	}
	var many [][2]uint32
	for i := range 65 {
		many = append(many, [2]uint32{uint32(i + 1), 1})
	}
	b := file(1, 0, many...)
	if h, err := ParseHeader(b, int64(len(b))); err != nil || len(h.Infos) != 65 {
		t.Fatalf("65 archives: %v", err)
	}
}

// FuzzParseHeader: any bytes parse without panicking, and an accepted
// header's archives lie inside the file.
func FuzzParseHeader(f *testing.F) {
	f.Add(file(1, 0.5, [2]uint32{10, 6}, [2]uint32{60, 10}))
	f.Add(file(4, 0, [2]uint32{1, 900}, [2]uint32{60, 1440}))
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b, int64(len(b)))
		if err != nil {
			return
		}
		for _, a := range h.Infos {
			if a.Offset < h.HeaderSize() || a.Offset+a.Size() > int64(len(b)) || a.Step <= 0 || a.Points <= 0 {
				t.Fatalf("accepted archive %+v outside a %d-byte file", a, len(b))
			}
		}
	})
}
