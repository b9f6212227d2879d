package statsd

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"

	"github.com/plumbago/plumbago/ingest"
)

// MaxTCPLine bounds an unterminated statsd line on a TCP connection; a
// connection holding more without a newline is closed.
const MaxTCPLine = 64 << 10

// Handler is the statsd protocol for the network core (ingest.Handler):
// register it for both the UDP and the TCP statsd listener. Each event loop
// gets its own Loop.
type Handler struct {
	cfg   Config
	mu    sync.Mutex
	loops []*loopHandler
}

// NewHandler returns the statsd protocol handler.
func NewHandler(cfg Config) *Handler { return &Handler{cfg: cfg} }

type loopHandler struct {
	idx     int
	l       *Loop
	pending []*Snapshot // swapped, not yet collected (guarded by Handler.mu)
}

// NewLoop implements ingest.Handler. The sink is not used: statsd points
// are emitted by the Flusher at flush time.
func (h *Handler) NewLoop(ingest.Sink) ingest.LoopHandler {
	h.mu.Lock()
	defer h.mu.Unlock()
	lh := &loopHandler{idx: len(h.loops), l: NewLoop(&h.cfg)}
	h.loops = append(h.loops, lh)
	return lh
}

// Datagram implements ingest.LoopHandler: one datagram is one packet.
func (lh *loopHandler) Datagram(data []byte, _ net.Addr) { lh.l.HandlePacket(data) }

// Stream implements ingest.LoopHandler: everything up to the last newline is
// one packet (etsy's TCP server); the rest waits for more data.
func (lh *loopHandler) Stream(_ *ingest.Conn, data []byte) (int, bool) {
	i := bytes.LastIndexByte(data, '\n')
	if i < 0 {
		return 0, len(data) > MaxTCPLine
	}
	lh.l.HandlePacket(data[:i+1])
	return i + 1, false
}

// Collect swaps every loop's state (on each loop's goroutine, through
// srv.OnLoops) and returns the snapshots in a fixed loop order. A loop too
// busy to answer before ctx ends is not waited for: its snapshot, swapped
// later, is returned by the next Collect, so nothing is lost.
func (h *Handler) Collect(ctx context.Context, srv *ingest.Server) ([]*Snapshot, error) {
	err := srv.OnLoops(ctx, func(l *ingest.Loop) {
		lh, ok := l.LoopHandler(h).(*loopHandler)
		if !ok {
			return
		}
		s := lh.l.Swap()
		h.mu.Lock()
		lh.pending = append(lh.pending, s)
		h.mu.Unlock()
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	var snaps []*Snapshot
	for _, lh := range h.loops {
		snaps = append(snaps, lh.pending...)
		clear(lh.pending)
		lh.pending = lh.pending[:0]
	}
	return snaps, err
}

// CollectStopped swaps every loop's state directly; only for use after the
// engine has stopped (no loop goroutine runs any more).
func (h *Handler) CollectStopped() []*Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	var snaps []*Snapshot
	for _, lh := range h.loops {
		snaps = append(snaps, lh.pending...)
		lh.pending = nil
		snaps = append(snaps, lh.l.Swap())
	}
	return snaps
}

// LoopRunner returns a LoopRunner over srv's loops for NewAdmin. It must
// not be used from an event loop's goroutine (it waits for every loop).
func (h *Handler) LoopRunner(srv *ingest.Server) LoopRunner {
	return func(fn func(*Loop)) {
		_ = srv.OnLoops(context.Background(), func(l *ingest.Loop) {
			if lh, ok := l.LoopHandler(h).(*loopHandler); ok {
				fn(lh.l)
			}
		})
	}
}

// AdminHandler serves the admin console on the network core (TCP). Every
// read is one command, like etsy's management server. ingest.Server serves
// it through ServeConn (admin.go); Stream is for a core without that.
//
// Commands that show or delete metrics need every loop's current interval
// (etsy's live view), which an event loop cannot wait for. When the
// connection offers AsyncWrite(p []byte) error (queueing p on the
// connection's own loop, safe from any goroutine, dropped once the
// connection closed) and the Admin has a LoopRunner, those commands are
// answered from a goroutine with the live view. Otherwise they are answered
// at once from the state as of the last flush.
type AdminHandler struct{ Admin *Admin }

type adminLoop struct{ a *Admin }

type asyncWriter interface {
	AsyncWrite(p []byte) error
}

// NewLoop implements ingest.Handler.
func (h *AdminHandler) NewLoop(ingest.Sink) ingest.LoopHandler { return &adminLoop{h.Admin} }

var liveCommands = map[string]bool{"stats": true, "counters": true, "timers": true, "gauges": true, "sets": true,
	"delcounters": true, "deltimers": true, "delgauges": true, "delsets": true}

// Stream implements ingest.LoopHandler.
func (al *adminLoop) Stream(c *ingest.Conn, data []byte) (int, bool) {
	if len(data) == 0 {
		return 0, false
	}
	if aw, ok := any(c).(asyncWriter); ok && al.a.loops != nil {
		cmd, _, _ := strings.Cut(string(jsTrim(data)), " ")
		if liveCommands[cmd] {
			line := bytes.Clone(data)
			go func() {
				var out bytes.Buffer
				al.a.handle(line, &out, true)
				_ = aw.AsyncWrite(out.Bytes())
			}()
			return len(data), false
		}
	}
	quit := al.a.handle(data, c, false)
	return len(data), quit
}

// Datagram implements ingest.LoopHandler (the console is TCP only).
func (*adminLoop) Datagram([]byte, net.Addr) {}
