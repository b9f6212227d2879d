package pebble

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/plumbago/plumbago/storage/schema"
)

// ring is one distinct archive shape; its data lives under 'D' ring.
type ring struct {
	id        uint16
	step      int64 // seconds per point
	points    int64
	retention int64 // step * points
	// keep is how long past its retention the ring's data is kept: the
	// largest step of an archive fed from this ring, so propagation into
	// a lower archive still sees every slot of the interval it aggregates,
	// as whisper's ring buffer does.
	keep int64
	// cut is the block start below which data was already range-deleted.
	cut int64
}

// archive is one archive of a schema.
type archive struct {
	step      int64
	points    int64
	retention int64
	ring      *ring
}

// seriesSchema is a persisted (retentions, aggregation) combination; series
// refer to it by id.
type seriesSchema struct {
	id       uint32
	archives []archive
	method   schema.Method
	// xff is the xFilesFactor rounded to float32, as whisper stores it in
	// the file header (so 0.1 compares like whisper's 0.10000000149).
	xff          float64
	maxRetention int64
	key          string // encoded record, for deduplication
}

// series is one stored metric.
//
// Its fields are ordered so that it takes 40 bytes (id and fresh share a
// word, and the tails are one pointer): one of these lives for every
// stored series.
type series struct {
	id uint32
	// fresh tells the series was created in generation gen (so there is
	// nothing to read back).
	fresh  bool
	schema *seriesSchema
	// gen is the Write generation that last staged this series in the
	// current pebble batch.
	gen uint64
	// tails points at the first of the writer's tails of this series, one
	// per lower archive (tail.go, tailList); nil until the series is first
	// written. A series' schema never changes, so its count is known.
	tails *tail
	// written counts the writer's commits that staged blocks of this
	// series, bumped after each (writer.commit): the decoded-block cache
	// answers a block without reading it only while the count is the one
	// it was cached under (blockcache.go).
	written atomic.Uint64
}

// copyFrom makes s a copy of o (nametable.go's compaction).
func (s *series) copyFrom(o *series) {
	s.id, s.fresh, s.schema, s.gen, s.tails = o.id, o.fresh, o.schema, o.gen, o.tails
	s.written.Store(o.written.Load())
}

// encodeSchema encodes a schema record: method:u8 xff:f32 n:uvarint then
// n ring ids as uvarints.
func encodeSchema(method schema.Method, xff float64, rings []uint16) []byte {
	b := []byte{byte(method)}
	b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(xff)))
	b = binary.AppendUvarint(b, uint64(len(rings)))
	for _, r := range rings {
		b = binary.AppendUvarint(b, uint64(r))
	}
	return b
}

func decodeSchema(b []byte) (method schema.Method, xff float64, rings []uint16, err error) {
	if len(b) < 6 {
		return 0, 0, nil, fmt.Errorf("decoding schema record %x: too short", b)
	}
	method = schema.Method(b[0])
	if !method.Valid() {
		return 0, 0, nil, fmt.Errorf("decoding schema record %x: bad method", b)
	}
	xff = float64(math.Float32frombits(binary.BigEndian.Uint32(b[1:])))
	if !(xff >= 0 && xff <= 1) {
		return 0, 0, nil, fmt.Errorf("decoding schema record %x: xFilesFactor %v", b, xff)
	}
	p := 5
	n, k := binary.Uvarint(b[p:])
	if k <= 0 || n == 0 || n > 64 {
		return 0, 0, nil, fmt.Errorf("decoding schema record %x: archive count", b)
	}
	p += k
	for i := uint64(0); i < n; i++ {
		r, k := binary.Uvarint(b[p:])
		if k <= 0 || r > math.MaxUint16 {
			return 0, 0, nil, fmt.Errorf("decoding schema record %x: ring id", b)
		}
		p += k
		rings = append(rings, uint16(r))
	}
	return method, xff, rings, nil
}
