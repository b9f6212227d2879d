package wsp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/plumbago/plumbago/storage/schema"
)

const (
	MetaSize        = 16 // aggregation, maxRetention, xFilesFactor, archive count
	ArchiveInfoSize = 12 // offset, seconds per point, points
	PointSize       = 12 // interval u32, value f64
	// MaxArchives bounds the archive count accepted from a header.
	MaxArchives = 1024
)

// ErrCorrupt marks a file whose header cannot be a whisper header, or whose
// archives lie outside the file.
var ErrCorrupt = errors.New("corrupt whisper file")

// Meta is a header's fixed part.
type Meta struct {
	Method       schema.Method
	MaxRetention int64
	XFilesFactor float64 // the header's float32, widened as Python does
	Archives     int64   // archive count
}

// HeaderSize is the size of the whole header: metadata and archive infos.
func (m Meta) HeaderSize() int64 { return MetaSize + ArchiveInfoSize*m.Archives }

// ArchiveInfo is one archive's entry in the header.
type ArchiveInfo struct {
	Offset int64 // byte offset of the first slot
	Step   int64 // seconds per point
	Points int64
}

// Size is the archive's size in bytes.
func (a ArchiveInfo) Size() int64 { return a.Points * PointSize }

// Retention is the seconds the archive covers.
func (a ArchiveInfo) Retention() int64 { return a.Step * a.Points }

// ParseMeta validates the metadata in b (at least MetaSize bytes) of a file
// of fileSize bytes.
func ParseMeta(b []byte, fileSize int64) (Meta, error) {
	if fileSize < MetaSize+ArchiveInfoSize || len(b) < MetaSize {
		return Meta{}, fmt.Errorf("file of %d bytes: %w", fileSize, ErrCorrupt)
	}
	agg := binary.BigEndian.Uint32(b[0:])
	xff := math.Float32frombits(binary.BigEndian.Uint32(b[8:]))
	m := Meta{
		Method:       schema.Method(agg),
		MaxRetention: int64(binary.BigEndian.Uint32(b[4:])),
		XFilesFactor: float64(xff),
		Archives:     int64(binary.BigEndian.Uint32(b[12:])),
	}
	if !m.Method.Valid() {
		return m, fmt.Errorf("aggregation type %d: %w", agg, ErrCorrupt)
	}
	if !(xff >= 0 && xff <= 1) {
		return m, fmt.Errorf("xFilesFactor %v: %w", xff, ErrCorrupt)
	}
	if m.Archives == 0 || m.Archives > MaxArchives {
		return m, fmt.Errorf("%d archives: %w", m.Archives, ErrCorrupt)
	}
	if hs := m.HeaderSize(); hs > fileSize {
		return m, fmt.Errorf("header of %d bytes in a %d-byte file: %w", hs, fileSize, ErrCorrupt)
	}
	return m, nil
}

// ParseArchive validates archive i's info in b (which holds the whole
// header m describes) against the file size.
func ParseArchive(b []byte, m Meta, i int64, fileSize int64) (ArchiveInfo, error) {
	p := b[MetaSize+ArchiveInfoSize*i:]
	a := ArchiveInfo{
		Offset: int64(binary.BigEndian.Uint32(p[0:])),
		Step:   int64(binary.BigEndian.Uint32(p[4:])),
		Points: int64(binary.BigEndian.Uint32(p[8:])),
	}
	if a.Step == 0 || a.Points == 0 || a.Offset < m.HeaderSize() || a.Offset+a.Size() > fileSize {
		return a, fmt.Errorf("archive %d (offset %d, %d s x %d points) in a %d-byte file: %w",
			i, a.Offset, a.Step, a.Points, fileSize, ErrCorrupt)
	}
	return a, nil
}

// CheckSpan rejects a maxRetention beyond the archives' longest span:
// whisper.create writes that span, and a larger value would let a fetch
// return more slots than the file holds.
func CheckSpan(m Meta, span int64) error {
	if m.MaxRetention > span {
		return fmt.Errorf("maxRetention %d beyond the archives' %d s: %w", m.MaxRetention, span, ErrCorrupt)
	}
	return nil
}

// Header is a whole parsed header.
type Header struct {
	Meta
	Infos []ArchiveInfo // finest first, as written
}

// ParseHeader parses and validates the header at the start of b, a whole
// file or at least its header, of a file of fileSize bytes.
func ParseHeader(b []byte, fileSize int64) (*Header, error) {
	m, err := ParseMeta(b, fileSize)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) < m.HeaderSize() {
		return nil, fmt.Errorf("%d header bytes of %d: %w", len(b), m.HeaderSize(), ErrCorrupt)
	}
	h := &Header{Meta: m, Infos: make([]ArchiveInfo, 0, m.Archives)}
	var span int64
	for i := range m.Archives {
		a, err := ParseArchive(b, m, i, fileSize)
		if err != nil {
			return nil, err
		}
		span = max(span, a.Retention())
		h.Infos = append(h.Infos, a)
	}
	if err := CheckSpan(m, span); err != nil {
		return nil, err
	}
	return h, nil
}
