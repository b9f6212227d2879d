package protobuf

import (
	"encoding/binary"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/ingest"
)

// DefaultMaxFrame bounds a frame body, as carbon's pickle receiver: 1 MiB.
const DefaultMaxFrame = 1 << 20

// MaxNameLen is the longest metric name accepted (as the line protocol).
const MaxNameLen = 1024

// Handler serves carbon's protobuf protocol over TCP (4-byte big-endian
// length, then a carbon.Payload). It is an ingest.Handler.
type Handler struct {
	// MaxFrame bounds one frame body; a longer frame closes the connection.
	MaxFrame int
	// Logger receives rejections, at most one line per second.
	Logger *slog.Logger

	frames    atomic.Uint64
	points    atomic.Uint64
	malformed atomic.Uint64
	tooLarge  atomic.Uint64
	badPoints atomic.Uint64
	lastLog   atomic.Int64
}

// Frames, Points, Malformed (frames), TooLarge (frames) and BadPoints
// (empty or over-long names, NaN values, NUL bytes) are the counters.
func (h *Handler) Frames() uint64    { return h.frames.Load() }
func (h *Handler) Points() uint64    { return h.points.Load() }
func (h *Handler) Malformed() uint64 { return h.malformed.Load() }
func (h *Handler) TooLarge() uint64  { return h.tooLarge.Load() }
func (h *Handler) BadPoints() uint64 { return h.badPoints.Load() }

// NewLoop implements ingest.Handler.
func (h *Handler) NewLoop(sink ingest.Sink) ingest.LoopHandler {
	if h.MaxFrame <= 0 {
		h.MaxFrame = DefaultMaxFrame
	}
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	lh := &loopHandler{h: h, sink: sink}
	lh.emit = lh.point
	return lh
}

type loopHandler struct {
	h    *Handler
	sink ingest.Sink
	emit PointSink
}

func (lh *loopHandler) point(name []byte, ts uint32, v float64) {
	if len(name) > MaxNameLen {
		lh.h.badPoints.Add(1)
		return
	}
	for _, c := range name {
		if c == 0 {
			lh.h.badPoints.Add(1)
			return
		}
	}
	lh.sink.AddPoint(name, int64(ts), v)
}

// Stream implements ingest.LoopHandler.
func (lh *loopHandler) Stream(c *ingest.Conn, data []byte) (int, bool) {
	consumed := 0
	for len(data)-consumed >= 4 {
		n := binary.BigEndian.Uint32(data[consumed:])
		if uint64(n) > uint64(lh.h.MaxFrame) {
			lh.h.tooLarge.Add(1)
			lh.log("frame too large", c.RemoteAddr())
			return len(data), true
		}
		if int(n) > len(data)-consumed-4 {
			break
		}
		lh.frame(data[consumed+4 : consumed+4+int(n)])
		consumed += 4 + int(n)
	}
	return consumed, false
}

// Datagram implements ingest.LoopHandler (frames in one datagram).
func (lh *loopHandler) Datagram(data []byte, from net.Addr) {
	for len(data) >= 4 {
		n := binary.BigEndian.Uint32(data)
		if uint64(n) > uint64(len(data)-4) {
			break
		}
		lh.frame(data[4 : 4+n])
		data = data[4+n:]
	}
}

func (lh *loopHandler) frame(body []byte) {
	lh.h.frames.Add(1)
	n, bad, err := Decode(body, lh.emit)
	if err != nil {
		lh.h.malformed.Add(1)
		lh.log(err.Error(), nil)
		return
	}
	lh.h.points.Add(uint64(n))
	lh.h.badPoints.Add(uint64(bad))
}

func (lh *loopHandler) log(msg string, from net.Addr) {
	now := time.Now().Unix()
	last := lh.h.lastLog.Load()
	if now > last && lh.h.lastLog.CompareAndSwap(last, now) {
		peer := ""
		if from != nil {
			peer = from.String()
		}
		lh.h.Logger.Warn("rejected carbon protobuf frame", "peer", peer, "err", msg)
	}
}
