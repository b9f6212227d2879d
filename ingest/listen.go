package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/plumbago/plumbago/ingest/accept"
)

// The server owns its TCP listening sockets instead of letting gnet accept:
// gnet v2.9.7 ends the whole engine on any accept error but EAGAIN, EINTR,
// ECONNRESET and ECONNABORTED, so one EMFILE used to take every listener
// down for good. Here each TCP listener has an accept goroutine
// (ingest/accept) that backs off while descriptors are short, enforces
// Config.MaxConns, and hands each connection to gnet with Engine.Register
// (gnet dups the descriptor onto one of its loops and closes ours).

// tcpListener is one TCP listener and its accept goroutine.
type tcpListener struct {
	s          *Server
	li         int
	name, addr string
	al         *accept.Listener
	dead       atomic.Pointer[error] // why the accept goroutine ended early
	idleClosed atomic.Uint64
	handoffErr atomic.Uint64

	mu     sync.Mutex
	served map[net.Conn]struct{} // ConnServer connections, closed by Stop
}

// pendingConn is the context of a connection on its way into gnet: OnOpen
// turns it into the Conn.
type pendingConn struct {
	li      int
	release func()
}

func (s *Server) listenTCP(li int) (*tcpListener, error) {
	l := s.listeners[li]
	lc := net.ListenConfig{
		KeepAlive: time.Minute,
		Control: func(_, _ string, rc syscall.RawConn) error {
			if s.cfg.SocketRecvBuffer <= 0 {
				return nil
			}
			// Accepted sockets inherit the listening socket's SO_RCVBUF.
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, s.cfg.SocketRecvBuffer)
			})
			if err == nil && serr != nil {
				s.cfg.Logger.Warn("TCP receive buffer", "listener", l.Name, "err", serr)
			}
			return err
		},
	}
	ln, err := lc.Listen(context.Background(), "tcp", l.Addr)
	if err != nil {
		// err reads "listen tcp 127.0.0.1:2003: bind: address already in use".
		return nil, fmt.Errorf("listener %s: %w", l.Name, err)
	}
	return &tcpListener{
		s: s, li: li, name: l.Name, addr: l.Addr,
		al: accept.New(ln.(*net.TCPListener), accept.Config{Name: l.Name, Limit: s.limit, Logger: s.cfg.Logger,
			PerConn: 2}),
		served: map[net.Conn]struct{}{},
	}, nil
}

func (s *Server) closeTCP() {
	for _, t := range s.tcp {
		t.al.Close()
		t.mu.Lock()
		for c := range t.served {
			c.Close()
		}
		t.mu.Unlock()
	}
}

// run accepts until the listener is closed.
func (t *tcpListener) run() {
	s := t.s
	cs, serveItself := s.listeners[t.li].Handler.(ConnServer)
	for {
		c, release, err := t.al.AcceptTCP()
		if err != nil {
			if !s.stopped.Load() {
				t.dead.Store(&err)
				s.cfg.Logger.Error("listener stopped accepting", "listener", t.name, "addr", t.addr, "err", err)
			}
			return
		}
		if serveItself {
			t.al.OK()
			t.serve(cs, c, release)
			continue
		}
		ctx := gnet.NewContext(context.Background(), &pendingConn{li: t.li, release: release})
		ch, err := s.engine.Register(gnet.NewNetConnContext(ctx, c))
		if err == nil {
			if res := <-ch; res.Err != nil {
				err = res.Err // gnet closed c
			}
		} else {
			c.Close()
		}
		if err == nil {
			t.al.OK()
		} else {
			// gnet dups the descriptor: at the limit that fails with
			// EMFILE, which backs off like a failed accept.
			release()
			t.handoffErr.Add(1)
			t.al.Fail(fmt.Errorf("handing the connection to the event loops: %w", err))
		}
	}
}

func (t *tcpListener) serve(cs ConnServer, c *net.TCPConn, release func()) {
	s := t.s
	ic := &idleConn{TCPConn: c, t: t}
	t.mu.Lock()
	t.served[ic] = struct{}{}
	t.mu.Unlock()
	s.serving.Add(1)
	s.Connections.Add(1)
	go func() {
		defer s.serving.Done()
		defer func() {
			ic.Close()
			t.mu.Lock()
			delete(t.served, ic)
			t.mu.Unlock()
			s.Connections.Add(-1)
			release()
		}()
		cs.ServeConn(ic)
	}()
}

// idleConn pushes the read deadline IdleTimeout ahead before every Read, so
// a ConnServer's connection that sends nothing is closed like the others.
type idleConn struct {
	*net.TCPConn
	t *tcpListener
}

func (c *idleConn) Read(p []byte) (int, error) {
	if d := c.t.s.cfg.IdleTimeout; d > 0 {
		_ = c.SetReadDeadline(time.Now().Add(d))
	}
	n, err := c.TCPConn.Read(p)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.idleClosed.Add(1)
	}
	return n, err
}

// sweepIdle closes, on each loop's goroutine, the connections that sent
// nothing for Config.IdleTimeout.
func (s *Server) sweepIdle(now, limit int64) {
	for _, l := range s.Loops() {
		if l.el == nil {
			continue // a UDP reader's loop has no connections
		}
		_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			for cc := range l.conns {
				if now-cc.lastRead > limit {
					if t := s.tcpOf(cc.li); t != nil {
						t.idleClosed.Add(1)
					}
					delete(l.conns, cc)
					_ = cc.gc.Close()
				}
			}
			return nil
		}))
	}
}

func (s *Server) tcpOf(li int) *tcpListener {
	for _, t := range s.tcp {
		if t.li == li {
			return t
		}
	}
	return nil
}

// udpBindError names the UDP address that could not be bound when the
// engine failed to start: gnet's own error does not say which.
func udpBindError(addrs []string, err error) error {
	for _, a := range addrs {
		addr := strings.TrimPrefix(a, "udp://")
		pc, perr := net.ListenPacket("udp", addr)
		if perr != nil {
			return perr // "listen udp 127.0.0.1:2003: bind: address already in use"
		}
		pc.Close()
	}
	return err
}

// Health reports what does not work: the engine ended without Stop, or a
// TCP listener cannot accept (out of descriptors) or stopped accepting.
// nil means every listener is serving.
func (s *Server) Health() error {
	var errs []error
	if p := s.exited.Load(); p != nil && !s.stopped.Load() {
		errs = append(errs, fmt.Errorf("ingest event loops stopped: %v", *p))
	}
	if p := s.readerDead.Load(); p != nil && !s.stopped.Load() {
		errs = append(errs, *p)
	}
	for _, t := range s.tcp {
		if p := t.dead.Load(); p != nil && !s.stopped.Load() {
			errs = append(errs, fmt.Errorf("ingest listener %s (tcp %s) stopped accepting: %v", t.name, t.addr, *p))
		} else if err := t.al.Failing(); err != nil {
			errs = append(errs, fmt.Errorf("ingest listener %s (tcp %s) cannot accept: %v", t.name, t.addr, err))
		}
	}
	return errors.Join(errs...)
}

// ListenerStat is one TCP listener's counters.
type ListenerStat struct {
	Name, Addr string
	accept.Stats
	// IdleClosed counts connections closed by Config.IdleTimeout.
	IdleClosed uint64
	// HandoffErrors counts accepted connections gnet could not take.
	HandoffErrors uint64
}

// ListenerStats returns the counters of every TCP listener.
func (s *Server) ListenerStats() []ListenerStat {
	out := make([]ListenerStat, 0, len(s.tcp))
	for _, t := range s.tcp {
		out = append(out, ListenerStat{Name: t.name, Addr: t.addr, Stats: t.al.Stats(),
			IdleClosed: t.idleClosed.Load(), HandoffErrors: t.handoffErr.Load()})
	}
	return out
}

// MaxConns returns the connection limit in force (0: none).
func (s *Server) MaxConns() int { return s.limit.Max() }
