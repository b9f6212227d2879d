package line

import (
	"bytes"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/ingest"
)

// Reason indexes the rejection counters.
type Reason int

// Rejection reasons, as exposed in plumbago_points_dropped_total{reason}.
const (
	ReasonFields Reason = iota
	ReasonValue
	ReasonNaN
	ReasonTimestamp
	ReasonName
	ReasonLineTooLong
	numReasons
)

var reasonNames = [numReasons]string{"bad_fields", "bad_value", "nan_value", "bad_timestamp", "bad_name", "line_too_long"}

// String returns the reason's label.
func (r Reason) String() string { return reasonNames[r] }

func reasonOf(err error) Reason {
	switch err {
	case ErrFields:
		return ReasonFields
	case ErrValue:
		return ReasonValue
	case ErrNaN:
		return ReasonNaN
	case ErrTimestamp:
		return ReasonTimestamp
	}
	return ReasonName
}

// Handler serves the carbon plaintext protocol over TCP and UDP. It is an
// ingest.Handler; its counters are safe to read at any time.
type Handler struct {
	// MaxLineLen bounds one line; longer lines are skipped and counted.
	// Default 64 KiB.
	MaxLineLen int
	// Now returns the current unix time (for timestamps of -1). Default
	// time.Now.
	Now func() time.Time
	// Logger receives rejected lines, at most one per second.
	Logger *slog.Logger

	lines    atomic.Uint64
	rejected [numReasons]atomic.Uint64
	lastLog  atomic.Int64
}

// Lines returns the number of lines seen (accepted or not).
func (h *Handler) Lines() uint64 { return h.lines.Load() }

// Rejected returns the number of lines rejected for reason r.
func (h *Handler) Rejected(r Reason) uint64 { return h.rejected[r].Load() }

// Reasons lists every rejection reason.
func Reasons() []Reason {
	rs := make([]Reason, numReasons)
	for i := range rs {
		rs[i] = Reason(i)
	}
	return rs
}

// NewLoop implements ingest.Handler.
func (h *Handler) NewLoop(sink ingest.Sink) ingest.LoopHandler {
	if h.MaxLineLen <= 0 {
		h.MaxLineLen = 64 << 10
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	return &loopHandler{h: h, sink: sink}
}

type loopHandler struct {
	h    *Handler
	sink ingest.Sink
}

type connState struct{ discarding bool }

// Stream implements ingest.LoopHandler: it consumes every complete line.
func (lh *loopHandler) Stream(c *ingest.Conn, data []byte) (int, bool) {
	st, _ := c.State.(*connState)
	if st == nil {
		st = &connState{}
		c.State = st
	}
	consumed := 0
	if st.discarding {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return len(data), false
		}
		st.discarding = false
		consumed = i + 1
		data = data[i+1:]
	}
	last := bytes.LastIndexByte(data, '\n')
	if last < 0 {
		if len(data) > lh.h.MaxLineLen {
			lh.reject(ReasonLineTooLong, data[:64])
			st.discarding = true
			return consumed + len(data), false
		}
		return consumed, false
	}
	lh.lines(data[:last+1])
	return consumed + last + 1, false
}

// Datagram implements ingest.LoopHandler: every line of the datagram is a
// point, the last one with or without a newline.
func (lh *loopHandler) Datagram(data []byte, _ net.Addr) {
	lh.lines(data)
}

func (lh *loopHandler) lines(data []byte) {
	now := lh.h.Now().Unix()
	var n uint64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var ln []byte
		if i < 0 {
			ln, data = data, nil
		} else {
			ln, data = data[:i], data[i+1:]
		}
		if len(ln) == 0 || len(ln) == 1 && ln[0] == '\r' {
			continue
		}
		n++
		if len(ln) > lh.h.MaxLineLen {
			lh.reject(ReasonLineTooLong, ln)
			continue
		}
		name, v, ts, err := Parse(ln, now)
		if err != nil {
			lh.reject(reasonOf(err), ln)
			continue
		}
		lh.sink.AddPoint(name, ts, v)
	}
	lh.h.lines.Add(n)
}

func (lh *loopHandler) reject(r Reason, ln []byte) {
	lh.h.rejected[r].Add(1)
	now := time.Now().Unix()
	last := lh.h.lastLog.Load()
	if now > last && lh.h.lastLog.CompareAndSwap(last, now) {
		if len(ln) > 400 {
			ln = ln[:400]
		}
		lh.h.Logger.Warn("rejected carbon line", "reason", r.String(), "line", string(ln))
	}
}
