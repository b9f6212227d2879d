package pebble

import (
	"slices"
	"testing"

	"github.com/plumbago/plumbago/storage/schema"
)

func TestSchemaRecord(t *testing.T) {
	b := encodeSchema(schema.AbsMin, 0.3, []uint16{0, 7, 300})
	m, xff, rings, err := decodeSchema(b)
	if err != nil || m != schema.AbsMin || xff != float64(float32(0.3)) || !slices.Equal(rings, []uint16{0, 7, 300}) {
		t.Fatalf("decodeSchema(%x) = %v %v %v %v", b, m, xff, rings, err)
	}
	for _, bad := range [][]byte{nil, {1, 0, 0, 0, 0}, {9, 0, 0, 0, 0, 1, 0}, {1, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 1, 0xff, 0xff, 0x7f}} {
		if _, _, _, err := decodeSchema(bad); err == nil {
			t.Errorf("decodeSchema(%x) accepted a bad record", bad)
		}
	}
}

func FuzzDecodeSchema(f *testing.F) {
	f.Add(encodeSchema(schema.Average, 0.5, []uint16{0, 1}))
	f.Add(encodeSchema(schema.Sum, 0, []uint16{65535}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, xff, rings, err := decodeSchema(b)
		if err != nil {
			return
		}
		back := encodeSchema(m, xff, rings)
		m2, xff2, rings2, err := decodeSchema(back)
		if err != nil || m2 != m || xff2 != xff || !slices.Equal(rings, rings2) {
			t.Fatalf("schema record %x does not round-trip: %x", b, back)
		}
	})
}
