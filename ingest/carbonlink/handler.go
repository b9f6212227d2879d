package carbonlink

import (
	"net"

	"github.com/plumbago/plumbago/ingest"
)

// Handler serves carbonlink on the ingest core: an ingest.Handler whose
// loops each own a Server (the Servers share Cache, Metadata and Stats).
type Handler struct {
	Cache    Cache
	Metadata Metadata
	Stats    Stats
	MaxFrame int
}

// NewLoop implements ingest.Handler; the sink is unused (carbonlink only
// reads).
func (h *Handler) NewLoop(ingest.Sink) ingest.LoopHandler {
	return &loopHandler{s: Server{Cache: h.Cache, Metadata: h.Metadata, Stats: &h.Stats, MaxFrame: h.MaxFrame}}
}

type loopHandler struct {
	s   Server
	out []byte
}

// Stream implements ingest.LoopHandler: it answers every complete request.
func (lh *loopHandler) Stream(c *ingest.Conn, data []byte) (int, bool) {
	used, out, err := lh.s.Handle(data, lh.out[:0])
	if len(out) > 0 {
		if _, werr := c.Write(out); werr != nil {
			return len(data), true
		}
	}
	if cap(out) <= 1<<20 {
		lh.out = out
	}
	if err != nil {
		return len(data), true
	}
	return used, false
}

// Datagram implements ingest.LoopHandler; carbonlink is TCP only.
func (lh *loopHandler) Datagram([]byte, net.Addr) {}
