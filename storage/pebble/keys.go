package pebble

import "encoding/binary"

// Key layout (see docs/pebble.md, "Key layout"). All integers big-endian so
// that keys sort numerically.
//
//	'D' ring:u16 blockStart:u32 series:u32  -> block (merge operands)
//	'N' name                                -> uvarint series id, uvarint schema id
//	'S' schema:u32                          -> schema record
//	'R' ring:u16                            -> uvarint step, uvarint points
//	'V'                                     -> format version (one byte)
//	'C'                                     -> uvarint next series id (= series count; a sizing hint)
//	'T' name                                -> empty: a tagged name registered through the API (tagreg.go)
//
// A ring is one distinct archive shape (step, points) shared by every series
// whose schema contains it. Putting the block start before the series id
// groups each ring's data by time, so retention enforcement is a single
// range deletion per ring: ['D' ring 0, 'D' ring cutoff).
const (
	prefixData    = 'D'
	prefixName    = 'N'
	prefixSchema  = 'S'
	prefixRing    = 'R'
	prefixVersion = 'V'
	prefixCount   = 'C'
	prefixTagReg  = 'T'

	dataKeyLen    = 1 + 2 + 4 + 4
	formatVersion = 1
)

type dataKey [dataKeyLen]byte

func makeDataKey(ring uint16, blockStart uint32, series uint32) dataKey {
	var k dataKey
	k[0] = prefixData
	binary.BigEndian.PutUint16(k[1:], ring)
	binary.BigEndian.PutUint32(k[3:], blockStart)
	binary.BigEndian.PutUint32(k[7:], series)
	return k
}

// ringBound returns the smallest data key of ring at or after blockStart.
func ringBound(ring uint16, blockStart uint32) []byte {
	k := makeDataKey(ring, blockStart, 0)
	return k[:7]
}

func parseDataKey(k []byte) (ring uint16, blockStart uint32, series uint32, ok bool) {
	if len(k) != dataKeyLen || k[0] != prefixData {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint16(k[1:]), binary.BigEndian.Uint32(k[3:]), binary.BigEndian.Uint32(k[7:]), true
}

func nameKey(dst []byte, name string) []byte {
	dst = append(dst[:0], prefixName)
	return append(dst, name...)
}

func schemaKey(id uint32) []byte {
	k := []byte{prefixSchema, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(k[1:], id)
	return k
}

func ringKey(id uint16) []byte {
	k := []byte{prefixRing, 0, 0}
	binary.BigEndian.PutUint16(k[1:], id)
	return k
}

// prefixEnd returns the first key after every key starting with p.
func prefixEnd(p byte) []byte { return []byte{p + 1} }
