package pebble

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
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
	// at is the schema's index in Store.schemaTab.
	at uint32
}

// schemaOf returns ser's schema.
func (s *Store) schemaOf(ser *series) *seriesSchema { return (*s.schemaTab.Load())[ser.sch] }

// addSchema gives sc the next index of Store.schemaTab. The table is
// copied on each addition (schemas are few) so readers load it without a
// lock; an index is never reused (a schema forgotten with a failed commit
// keeps its slot). Callers hold writeMu.
func (s *Store) addSchema(sc *seriesSchema) {
	var tab []*seriesSchema
	if p := s.schemaTab.Load(); p != nil {
		tab = *p
	}
	tab = append(slices.Clip(tab), sc)
	sc.at = uint32(len(tab) - 1)
	s.schemaTab.Store(&tab)
}

// series is one stored metric.
//
// It takes 32 bytes and holds no pointer (its schema and tails are 32-bit
// indexes), so the chunks of the name table (nametable.go) that hold one
// for every stored series are never scanned by the garbage collector.
type series struct {
	id uint32
	// sch is the index of the series' schema in Store.schemaTab
	// (Store.schemaOf).
	sch uint32
	// tails is 1 + the ref of the first of the writer's tails of this
	// series, one per lower archive (tail.go, writer.tailList); 0 until the
	// series is first written. A series' schema never changes, so their
	// count is known.
	tails uint32
	// fresh tells the series was created in generation gen (so there is
	// nothing to read back).
	fresh bool
	// gen is the Write generation that last staged this series in the
	// current pebble batch.
	gen uint64
	// written counts the writer's commits that staged blocks of this
	// series, bumped after each (writer.commit): the decoded-block cache
	// answers a block without reading it only while the count is the one
	// it was cached under (blockcache.go).
	written atomic.Uint64
}

// copyFrom makes s a copy of o (nametable.go's compaction).
func (s *series) copyFrom(o *series) {
	s.id, s.sch, s.tails, s.fresh, s.gen = o.id, o.sch, o.tails, o.fresh, o.gen
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
