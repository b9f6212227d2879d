package protobuf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed carbon protobuf")

// Wire types.
const (
	wtVarint = 0
	wtI64    = 1
	wtLen    = 2
	wtI32    = 5
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func varint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		if i == 9 && c > 1 {
			return 0, 0 // overflows 64 bits
		}
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// field reads one field header and its payload. For length-delimited fields
// data is the payload; for varints v is the value; for fixed64/32, v holds
// the bits. It returns the bytes consumed.
func field(b []byte) (num uint64, wt int, v uint64, data []byte, n int, err error) {
	key, k := varint(b)
	if k == 0 {
		return 0, 0, 0, nil, 0, malformed("bad field key")
	}
	num, wt = key>>3, int(key&7)
	if num == 0 {
		return 0, 0, 0, nil, 0, malformed("field number 0")
	}
	rest := b[k:]
	switch wt {
	case wtVarint:
		x, m := varint(rest)
		if m == 0 {
			return 0, 0, 0, nil, 0, malformed("bad varint")
		}
		return num, wt, x, nil, k + m, nil
	case wtI64:
		if len(rest) < 8 {
			return 0, 0, 0, nil, 0, malformed("truncated fixed64")
		}
		return num, wt, binary.LittleEndian.Uint64(rest), nil, k + 8, nil
	case wtI32:
		if len(rest) < 4 {
			return 0, 0, 0, nil, 0, malformed("truncated fixed32")
		}
		return num, wt, uint64(binary.LittleEndian.Uint32(rest)), nil, k + 4, nil
	case wtLen:
		l, m := varint(rest)
		if m == 0 || l > uint64(len(rest)-m) {
			return 0, 0, 0, nil, 0, malformed("length %d overruns the frame", l)
		}
		return num, wt, 0, rest[m : m+int(l)], k + m + int(l), nil
	}
	return 0, 0, 0, nil, 0, malformed("unsupported wire type %d", wt)
}

// PointSink receives one point; name aliases the frame.
type PointSink func(name []byte, timestamp uint32, value float64)

// Decode decodes one Payload (a frame body without its length prefix) and
// calls sink for each point. The frame is validated entirely before the
// first point is delivered, so an error means nothing was delivered. A metric
// with an empty name is skipped and counted in bad, as are NaN values.
func Decode(frame []byte, sink PointSink) (n, bad int, err error) {
	if err := walk(frame, nil); err != nil {
		return 0, 0, err
	}
	var cnt [2]int
	walk(frame, func(name []byte, ts uint32, v float64) {
		if len(name) == 0 || math.IsNaN(v) {
			cnt[1]++
			return
		}
		cnt[0]++
		sink(name, ts, v)
	})
	return cnt[0], cnt[1], nil
}

// walk parses the payload, calling sink (when not nil) per point.
func walk(b []byte, sink PointSink) error {
	for len(b) > 0 {
		num, wt, _, data, k, err := field(b)
		if err != nil {
			return err
		}
		b = b[k:]
		if num != 1 {
			continue // unknown Payload field
		}
		if wt != wtLen {
			return malformed("Payload.metrics has wire type %d", wt)
		}
		if err := metric(data, sink); err != nil {
			return err
		}
	}
	return nil
}

func metric(b []byte, sink PointSink) error {
	// The name may come after the points: find it first (last one wins).
	var name []byte
	for p := b; len(p) > 0; {
		num, wt, _, data, k, err := field(p)
		if err != nil {
			return err
		}
		p = p[k:]
		if num == 1 {
			if wt != wtLen {
				return malformed("Metric.metric has wire type %d", wt)
			}
			name = data
		}
	}
	for p := b; len(p) > 0; {
		num, wt, _, data, k, _ := field(p)
		p = p[k:]
		if num != 2 {
			continue
		}
		if wt != wtLen {
			return malformed("Metric.points has wire type %d", wt)
		}
		var ts uint32
		var v float64
		for q := data; len(q) > 0; {
			pn, pwt, x, _, pk, err := field(q)
			if err != nil {
				return err
			}
			q = q[pk:]
			switch {
			case pn == 1 && pwt == wtVarint:
				ts = uint32(x) // proto3 uint32: truncate like protoc
			case pn == 2 && pwt == wtI64:
				v = math.Float64frombits(x)
			case pn == 1 || pn == 2:
				return malformed("Point field %d has wire type %d", pn, pwt)
			}
		}
		if sink != nil {
			sink(name, ts, v)
		}
	}
	return nil
}
