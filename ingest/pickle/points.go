package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// DefaultMaxFrame is carbon's PICKLE_RECEIVER_MAX_LENGTH: 1 MiB.
const DefaultMaxFrame = 1 << 20

// FrameLen inspects the start of a stream of carbon pickle frames (4-byte
// big-endian length, then the pickle). It returns the total length of the
// first frame including its prefix, or 0 when fewer than 4 bytes are
// buffered. A frame whose body exceeds max bytes is an error wrapping
// ErrLimit: the connection cannot be resynchronised and should be closed, as
// carbon does.
func FrameLen(buf []byte, max int) (int, error) {
	if len(buf) < 4 {
		return 0, nil
	}
	n := binary.BigEndian.Uint32(buf)
	if uint64(n) > uint64(max) {
		return 0, fmt.Errorf("%w: frame of %d bytes exceeds the %d byte limit", ErrLimit, n, max)
	}
	return 4 + int(n), nil
}

// PointSink receives one decoded point. name aliases the frame (or the
// decoder's scratch space) and is valid only during the call.
type PointSink func(name []byte, timestamp, value float64)

// Points decodes one pickle body (without its length prefix) holding a list
// of (path, (timestamp, value)) and calls sink for each point. As in carbon,
// a malformed item (wrong shape, non-numeric timestamp or value) is skipped
// and counted in bad rather than failing the frame; a NaN value is skipped
// and counted too. An error means the whole frame was rejected (unsafe or
// malformed pickle, or a top-level value that is not a list or tuple) and
// no point was delivered.
func (d *Decoder) Points(frame []byte, sink PointSink) (n, bad int, err error) {
	root, err := d.Decode(frame)
	if err != nil {
		return 0, 0, err
	}
	if k := root.Kind(); k != KindList && k != KindTuple {
		return 0, 0, fmt.Errorf("%w: top-level %s, want list", ErrMalformed, k)
	}
	for i, l := 0, root.Len(); i < l; i++ {
		name, ts, v, ok := point(root.Index(i))
		if !ok || math.IsNaN(v) {
			bad++
			continue
		}
		sink(name, ts, v)
		n++
	}
	return n, bad, nil
}

func point(it Ref) (name []byte, ts, v float64, ok bool) {
	if k := it.Kind(); (k != KindTuple && k != KindList) || it.Len() != 2 {
		return nil, 0, 0, false
	}
	nm := it.Index(0)
	if k := nm.Kind(); k != KindStr && k != KindBytes {
		return nil, 0, 0, false
	}
	dp := it.Index(1)
	if k := dp.Kind(); (k != KindTuple && k != KindList) || dp.Len() != 2 {
		return nil, 0, 0, false
	}
	ts, ok1 := dp.Index(0).Float()
	v, ok2 := dp.Index(1).Float()
	if !ok1 || !ok2 {
		return nil, 0, 0, false
	}
	return nm.Bytes(), ts, v, true
}

var decoders = sync.Pool{New: func() any { return new(Decoder) }}

// DecodePoints is Points with a pooled Decoder and default limits. It returns
// the number of skipped items as part of neither result; use a Decoder when
// those counts matter.
func DecodePoints(frame []byte, sink func(name []byte, ts float64, value float64)) error {
	d := decoders.Get().(*Decoder)
	_, _, err := d.Points(frame, sink)
	decoders.Put(d)
	return err
}
