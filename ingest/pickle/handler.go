package pickle

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/ingest"
)

// Reason indexes the handler's rejection counters.
type Reason int

// Rejection reasons, as exposed in plumbago_points_dropped_total{reason}.
const (
	ReasonUnsafe     Reason = iota // frame used a forbidden opcode
	ReasonMalformed                // frame is not a valid pickle of the expected shape
	ReasonFrameLimit               // frame longer than MaxFrame: connection closed
	ReasonItem                     // one item of a frame had the wrong shape or type
	ReasonName                     // name too long or containing NUL
	ReasonTimestamp                // timestamp negative, beyond 2^32-1, or not finite
	numReasons
)

var reasonNames = [numReasons]string{"pickle_unsafe", "pickle_malformed", "pickle_frame_too_large",
	"pickle_bad_item", "pickle_bad_name", "pickle_bad_timestamp"}

// String returns the reason's metric label.
func (r Reason) String() string { return reasonNames[r] }

// Reasons lists every rejection reason.
func Reasons() []Reason {
	rs := make([]Reason, numReasons)
	for i := range rs {
		rs[i] = Reason(i)
	}
	return rs
}

// MaxNameLen is the longest metric name accepted (as the line protocol).
const MaxNameLen = 1024

// Handler serves carbon's pickle protocol over TCP. It is an ingest.Handler;
// its counters are safe to read at any time.
type Handler struct {
	// MaxFrame bounds one frame's body (carbon's
	// PICKLE_RECEIVER_MAX_LENGTH). A longer frame closes the connection,
	// as in carbon. Default DefaultMaxFrame (1 MiB).
	MaxFrame int
	// Now returns the current time, for timestamps of -1. Default time.Now.
	Now func() time.Time
	// Logger receives rejections, at most one line per second.
	Logger *slog.Logger

	frames   atomic.Uint64
	points   atomic.Uint64
	rejected [numReasons]atomic.Uint64
	lastLog  atomic.Int64
}

// Frames returns the number of frames decoded (accepted or not).
func (h *Handler) Frames() uint64 { return h.frames.Load() }

// Points returns the number of points delivered to the sink.
func (h *Handler) Points() uint64 { return h.points.Load() }

// Rejected returns the count for reason r (frames for frame-level reasons,
// points for the others).
func (h *Handler) Rejected(r Reason) uint64 { return h.rejected[r].Load() }

// NewLoop implements ingest.Handler.
func (h *Handler) NewLoop(sink ingest.Sink) ingest.LoopHandler {
	if h.MaxFrame <= 0 {
		h.MaxFrame = DefaultMaxFrame
	}
	if h.Now == nil {
		h.Now = time.Now
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
	dec  Decoder
	now  int64
	emit PointSink
	n    uint64
}

// Stream implements ingest.LoopHandler: it decodes every complete frame.
func (lh *loopHandler) Stream(c *ingest.Conn, data []byte) (int, bool) {
	consumed := 0
	lh.now = lh.h.Now().Unix()
	lh.n = 0
	defer func() { lh.h.points.Add(lh.n) }()
	for {
		n, err := FrameLen(data[consumed:], lh.h.MaxFrame)
		if err != nil {
			lh.reject(ReasonFrameLimit, err, c.RemoteAddr())
			return len(data), true
		}
		if n == 0 || n > len(data)-consumed {
			return consumed, false
		}
		lh.frame(data[consumed+4:consumed+n], c.RemoteAddr())
		consumed += n
	}
}

// Datagram implements ingest.LoopHandler; pickle is TCP only, but a datagram
// holding whole frames is decoded the same way.
func (lh *loopHandler) Datagram(data []byte, from net.Addr) {
	lh.now = lh.h.Now().Unix()
	lh.n = 0
	for len(data) > 0 {
		n, err := FrameLen(data, lh.h.MaxFrame)
		if err != nil || n == 0 || n > len(data) {
			lh.reject(ReasonMalformed, errors.New("truncated or oversized frame in datagram"), from)
			break
		}
		lh.frame(data[4:n], from)
		data = data[n:]
	}
	lh.h.points.Add(lh.n)
}

func (lh *loopHandler) frame(body []byte, from net.Addr) {
	lh.h.frames.Add(1)
	_, bad, err := lh.dec.Points(body, lh.emit)
	if err != nil {
		r := ReasonMalformed
		if errors.Is(err, ErrUnsafe) {
			r = ReasonUnsafe
		}
		lh.reject(r, err, from)
		return
	}
	if bad > 0 {
		lh.h.rejected[ReasonItem].Add(uint64(bad))
	}
}

func (lh *loopHandler) point(name []byte, ts, v float64) {
	if len(name) == 0 || len(name) > MaxNameLen || bytes.IndexByte(name, 0) >= 0 {
		lh.h.rejected[ReasonName].Add(1)
		return
	}
	var t int64
	switch {
	case ts == -1:
		t = lh.now // carbon issue #54: -1 means now
	case ts >= 0 && ts <= math.MaxUint32:
		t = int64(ts) // truncation, as int(float) in Python
	default:
		lh.h.rejected[ReasonTimestamp].Add(1)
		return
	}
	lh.n++
	lh.sink.AddPoint(name, t, v)
}

func (lh *loopHandler) reject(r Reason, err error, from net.Addr) {
	lh.h.rejected[r].Add(1)
	now := time.Now().Unix()
	last := lh.h.lastLog.Load()
	if now > last && lh.h.lastLog.CompareAndSwap(last, now) {
		peer := ""
		if from != nil {
			peer = from.String()
		}
		lh.h.Logger.Warn("rejected carbon pickle frame", "reason", r.String(), "peer", peer, "err", err)
	}
}
