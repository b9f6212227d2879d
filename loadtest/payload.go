package loadtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/plumbago/plumbago/internal/realdata"
	"github.com/plumbago/plumbago/query/pickleenc"
)

// Protocol is a wire format and transport the generator speaks.
type Protocol string

// The protocols.
const (
	CarbonTCP Protocol = "carbon-tcp" // plaintext "name value ts\n" over TCP
	CarbonUDP Protocol = "carbon-udp" // plaintext lines packed into datagrams
	Pickle    Protocol = "pickle"     // 4-byte length + pickle protocol 2 list of (name, (ts, value))
	StatsdUDP Protocol = "statsd-udp" // statsd lines, PerDatagram per datagram
	StatsdTCP Protocol = "statsd-tcp" // statsd lines over TCP
)

func (p Protocol) stream() bool { return p == CarbonTCP || p == Pickle || p == StatsdTCP }
func (p Protocol) statsd() bool { return p == StatsdUDP || p == StatsdTCP }

// Shape is the metric-name shape.
type Shape struct {
	Prefix string // first segments, e.g. "lt.w1"
	// Metrics is the cardinality: how many distinct series a round holds.
	Metrics int
	// Tree spreads names over a tree of Fanout children per node
	// ("lt.w1.n03.n17.n42"); otherwise names are flat ("lt.w1.m004217").
	Tree   bool
	Fanout int
	// Churn is the fraction (0..1) of the metrics that get a new name at
	// every step, as short-lived series (containers, request ids) do.
	Churn float64
	// Data, when set (DataGauges, DataCollectd), names the series and
	// gives their values from internal/realdata (seeded with Seed; gauges
	// with Decimals decimals) instead of W1's small integers; sparse
	// series skip the steps that are gaps.
	Data     string
	Decimals int
	Seed     uint64
	names    *realdata.Dataset // set by the run when Data is
}

// name appends the name of series id (ids past Metrics are churned names).
func (s *Shape) name(dst []byte, id int) []byte {
	dst = append(dst, s.Prefix...)
	if s.names != nil {
		dst = append(dst, '.')
		return append(dst, s.names.Name(id)...)
	}
	if !s.Tree {
		dst = append(dst, ".m"...)
		return appendPadded(dst, id, digits(s.Metrics-1))
	}
	fan := max(s.Fanout, 2)
	levels := 1
	for n := fan; n < s.Metrics; n *= fan {
		levels++
	}
	w := digits(fan - 1)
	var segs [24]int
	x := id
	for l := levels - 1; l >= 0; l-- {
		segs[l] = x % fan
		x /= fan
	}
	if x > 0 { // churned ids beyond the tree: extra top segment
		dst = append(dst, ".x"...)
		dst = strconv.AppendInt(dst, int64(x), 10)
	}
	for l := 0; l < levels; l++ {
		if l == levels-1 {
			dst = append(dst, ".m"...)
		} else {
			dst = append(dst, ".n"...)
		}
		dst = appendPadded(dst, segs[l], w)
	}
	return dst
}

// seriesID is the name id metric i uses at step p, applying churn.
func (s *Shape) seriesID(i, p int) int {
	churned := int(math.Round(s.Churn * float64(s.Metrics)))
	if i < churned && p > 0 {
		return i + p*s.Metrics
	}
	return i
}

func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

func appendPadded(dst []byte, v, width int) []byte {
	var tmp [20]byte
	b := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

// StatsdMix is the share of each statsd type, with options.
type StatsdMix struct {
	Counter, Timer, Gauge, Set int // weights
	SampleRate                 float64
	Tags                       int // tags per line, "|#k0:v0,k1:v1"
}

// typeOf returns the statsd type of metric i under the mix's weights. The
// choice is a deterministic spread so every prefix of the metrics has the mix.
func (m *StatsdMix) typeOf(i int) string {
	total := m.Counter + m.Timer + m.Gauge + m.Set
	if total <= 0 {
		return "c"
	}
	// Golden-ratio spread of i over [0,total).
	x := int(math.Mod(float64(i)*0.6180339887498949, 1) * float64(total))
	switch {
	case x < m.Counter:
		return "c"
	case x < m.Counter+m.Timer:
		return "ms"
	case x < m.Counter+m.Timer+m.Gauge:
		return "g"
	}
	return "s"
}

// chunk is one write: a datagram, or a run of whole lines/frames on a stream.
type chunk struct {
	off, end int32 // bytes of buf
	points   int32
	// lastMetric and lastStep identify the chunk's last point, for the
	// visibility probe.
	lastMetric, lastStep int32
}

// connPayload is everything one connection sends, built before the clock starts.
type connPayload struct {
	buf    []byte
	chunks []chunk
	// tsOffs are the offsets of every timestamp in buf (realtime mode):
	// 10 ASCII digits for carbon lines, 4 little-endian bytes for pickle.
	tsOffs []int32
	// rounds is the number of steps the payload holds; 1 when it is
	// replayed (realtime or statsd).
	points int64
}

// buildSpec is what the payload builder needs.
type buildSpec struct {
	Proto       Protocol
	Shape       Shape
	Mix         StatsdMix
	Conns       int
	Steps       int   // steps (points per metric) baked into the payload
	BaseTS      int64 // timestamp of step 0
	Step        int64 // seconds between steps
	ChunkPoints int   // max points per stream chunk
	ChunkBytes  int   // max bytes per stream chunk / datagram
	PerDatagram int   // statsd lines per datagram
	Realtime    bool  // record timestamp offsets for patching
	// Data generates realistic values (Shape.Data); shared by the
	// connections' builders, each advancing only its own series.
	Data *realdata.Dataset
}

// value is the small integer value metric i carries at step p.
func value(i, p int) int { return (i + p) % 100 }

const maxPayloadBytes = 2<<30 - 1 // chunk offsets are int32

// build returns connection c's payload: steps p in order, and within a step
// the metrics i with i%Conns == c, so each series stays on one connection and
// in time order, as a relay hashing by name would send it.
func build(s buildSpec, c int) (*connPayload, error) {
	pl := &connPayload{}
	perConn := (s.Shape.Metrics - c + s.Conns - 1) / s.Conns
	if perConn <= 0 {
		return pl, nil
	}
	est := int64(perConn) * int64(s.Steps) * int64(len(s.Shape.Prefix)+24)
	if est > maxPayloadBytes {
		return nil, fmt.Errorf("building payload: about %d bytes for connection %d is over the %d limit; use fewer metrics or points, or --duration", est, c, int64(maxPayloadBytes))
	}
	pl.buf = make([]byte, 0, est)
	start := 0
	pts := 0
	var lastI, lastP int
	flush := func() {
		if len(pl.buf) > start {
			pl.chunks = append(pl.chunks, chunk{off: int32(start), end: int32(len(pl.buf)), points: int32(pts),
				lastMetric: int32(lastI), lastStep: int32(lastP)})
			pl.points += int64(pts)
		}
		start, pts = len(pl.buf), 0
	}
	var pickleHdr int // offset of the current pickle frame's length prefix
	var name []byte
	for p := 0; p < s.Steps; p++ {
		ts := s.BaseTS + int64(p)*s.Step
		for i := c; i < s.Shape.Metrics; i += s.Conns {
			v := float64(value(i, p))
			if s.Data != nil {
				var ok bool
				if v, ok = s.Data.Next(i); !ok {
					continue // a gap of a sparse series
				}
			}
			name = s.Shape.name(name[:0], s.Shape.seriesID(i, p))
			lineStart := len(pl.buf)
			if s.Proto == Pickle && pts == 0 {
				pickleHdr = len(pl.buf)
			}
			s.appendPoint(pl, name, i, p, ts, v, pts)
			pts++
			lastI, lastP = i, p
			switch s.Proto {
			case Pickle:
				if pts >= s.ChunkPoints || len(pl.buf)-start >= s.ChunkBytes {
					pl.buf = pickleenc.AppendStop(pickleenc.AppendAppends(pl.buf))
					binary.BigEndian.PutUint32(pl.buf[pickleHdr:], uint32(len(pl.buf)-pickleHdr-4))
					flush()
				}
			case CarbonUDP:
				if len(pl.buf)-start > s.ChunkBytes && pts > 1 {
					// The line does not fit: end the datagram before it.
					line := append([]byte(nil), pl.buf[lineStart:]...)
					pl.buf = pl.buf[:lineStart]
					pts--
					flush()
					pl.buf = append(pl.buf, line...)
					pts = 1
				}
			case StatsdUDP:
				if pts >= s.PerDatagram {
					flush()
				}
			default:
				if pts >= s.ChunkPoints || len(pl.buf)-start >= s.ChunkBytes {
					flush()
				}
			}
		}
	}
	if s.Proto == Pickle && pts > 0 {
		pl.buf = pickleenc.AppendStop(pickleenc.AppendAppends(pl.buf))
		binary.BigEndian.PutUint32(pl.buf[pickleHdr:], uint32(len(pl.buf)-pickleHdr-4))
	}
	flush()
	if len(pl.buf) > math.MaxInt32 {
		return nil, fmt.Errorf("building payload: %d bytes for connection %d is over 2 GiB; use more connections", len(pl.buf), c)
	}
	return pl, nil
}

// appendPoint appends metric i's value v at step p (timestamp ts) to pl in
// s.Proto's wire format; pts is the number of points already in the
// current chunk (a pickle frame starts at 0). Integral values are written
// as integers, others in the shortest form that parses back to v.
func (s *buildSpec) appendPoint(pl *connPayload, name []byte, i, p int, ts int64, v float64, pts int) {
	integral := v == float64(int64(v))
	switch s.Proto {
	case CarbonTCP, CarbonUDP:
		pl.buf = append(pl.buf, name...)
		pl.buf = append(pl.buf, ' ')
		if integral {
			pl.buf = strconv.AppendInt(pl.buf, int64(v), 10)
		} else {
			pl.buf = strconv.AppendFloat(pl.buf, v, 'f', -1, 64)
		}
		pl.buf = append(pl.buf, ' ')
		if s.Realtime {
			pl.tsOffs = append(pl.tsOffs, int32(len(pl.buf)))
		}
		pl.buf = strconv.AppendInt(pl.buf, ts, 10)
		pl.buf = append(pl.buf, '\n')
	case Pickle:
		if pts == 0 { // a new frame: build sets its length prefix when it ends
			pl.buf = append(pl.buf, 0, 0, 0, 0)
			pl.buf = pickleenc.AppendMark(pickleenc.AppendEmptyList(pickleenc.AppendProto(pl.buf)))
		}
		// (name, (ts, value)); ts is a fixed-width BININT the real-time
		// mode rewrites in place.
		pl.buf = pickleenc.AppendStringBytes(pl.buf, name)
		if s.Realtime {
			pl.tsOffs = append(pl.tsOffs, int32(len(pl.buf)+1))
		}
		pl.buf = pickleenc.AppendInt32(pl.buf, int32(ts))
		if integral {
			pl.buf = pickleenc.AppendInt(pl.buf, int64(v))
		} else {
			pl.buf = pickleenc.AppendFloat(pl.buf, v)
		}
		pl.buf = pickleenc.AppendTuple2(pickleenc.AppendTuple2(pl.buf))
	case StatsdUDP, StatsdTCP:
		if s.Proto == StatsdUDP && pts > 0 {
			pl.buf = append(pl.buf, '\n')
		}
		pl.buf = appendStatsd(pl.buf, name, i, p, &s.Mix)
		if s.Proto == StatsdTCP {
			pl.buf = append(pl.buf, '\n')
		}
	}
}

func appendStatsd(dst, name []byte, i, p int, m *StatsdMix) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':')
	typ := m.typeOf(i)
	switch typ {
	case "c":
		dst = append(dst, '1')
	case "ms":
		dst = strconv.AppendInt(dst, int64((i*7+p*13)%1000), 10)
	case "g":
		dst = strconv.AppendInt(dst, int64(value(i, p)), 10)
	case "s":
		dst = strconv.AppendInt(dst, int64((i+p)%50), 10)
	}
	dst = append(dst, '|')
	dst = append(dst, typ...)
	if m.SampleRate > 0 && m.SampleRate < 1 && (typ == "c" || typ == "ms") {
		dst = append(dst, "|@"...)
		dst = strconv.AppendFloat(dst, m.SampleRate, 'g', -1, 64)
	}
	for t := 0; t < m.Tags; t++ {
		if t == 0 {
			dst = append(dst, "|#"...)
		} else {
			dst = append(dst, ',')
		}
		dst = append(dst, "tag"...)
		dst = strconv.AppendInt(dst, int64(t), 10)
		dst = append(dst, ":v"...)
		dst = strconv.AppendInt(dst, int64(i%(t+2)), 10)
	}
	return dst
}

// patchTimestamps rewrites every timestamp in the payload to ts (realtime
// mode). Carbon timestamps are 10 digits until 2286.
func (pl *connPayload) patchTimestamps(proto Protocol, ts int64) {
	if proto == Pickle {
		for _, o := range pl.tsOffs {
			binary.LittleEndian.PutUint32(pl.buf[o:], uint32(ts))
		}
		return
	}
	var d [10]byte
	x := ts
	for k := 9; k >= 0; k-- {
		d[k] = byte('0' + x%10)
		x /= 10
	}
	for _, o := range pl.tsOffs {
		copy(pl.buf[o:o+10], d[:])
	}
}
