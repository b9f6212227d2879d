package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/plumbago/plumbago/ingest/accept"
)

// SinkFlusher is a Sink whose queued points become visible on Flush. The
// server flushes each loop's sink at the end of every traffic event.
type SinkFlusher interface {
	Sink
	Flush()
}

// Handler is a protocol. It is shared by every event loop; NewLoop creates
// the protocol's state for one loop, which only that loop touches.
type Handler interface {
	NewLoop(sink Sink) LoopHandler
}

// LoopHandler is one event loop's instance of a protocol. Its methods are
// never called concurrently: they run on that loop's goroutine (for a Linux
// UDP reader's loop, the reader's goroutine, or OnLoops' caller while it
// holds the loop).
type LoopHandler interface {
	// Stream handles bytes buffered on a TCP connection. It returns how many
	// leading bytes it consumed (whole messages only: the rest is offered
	// again, with what arrives next) and whether to close the connection.
	// data is only valid during the call.
	Stream(c *Conn, data []byte) (consumed int, closeConn bool)
	// Datagram handles one UDP datagram. data and from are only valid
	// during the call.
	Datagram(data []byte, from net.Addr)
}

// ConnServer is a Handler that serves each TCP connection itself, on a
// goroutine of its own with blocking reads (for consoles whose replies may
// need every loop, like statsd's admin). The network core still owns the
// listening socket, the connection limit and the idle timeout: conn's read
// deadline is pushed IdleTimeout ahead before each Read (see IdleConn).
type ConnServer interface {
	Handler
	ServeConn(conn net.Conn)
}

// Conn is a TCP connection as protocols see it.
type Conn struct {
	gc gnet.Conn
	// State is free for the protocol's per-connection state.
	State   any
	l       *Loop
	li      int
	release func()
	// lastRead is the server clock (unix milliseconds) at the last traffic.
	lastRead int64
}

// Write queues p to be sent to the peer; it must be called from the
// protocol's Stream method.
func (c *Conn) Write(p []byte) (int, error) { return c.gc.Write(p) }

// AsyncWrite queues a copy of p to be sent to the peer from the
// connection's event loop; it is safe from any goroutine. If the connection
// has closed meanwhile, the write is dropped (it never reaches another
// connection that reused the descriptor).
func (c *Conn) AsyncWrite(p []byte) error {
	return c.gc.AsyncWrite(append([]byte(nil), p...), nil)
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.gc.RemoteAddr() }

// Listener binds a protocol to an address.
type Listener struct {
	Name    string // for logs and metrics, e.g. "carbon"
	Network string // "tcp" or "udp"
	Addr    string // host:port; the port must be fixed (not 0)
	Handler Handler
	// Shed (UDP only): drop this listener's datagrams while
	// Config.ShedUDP reports true, for a handler whose sink would block the
	// event loop then (carbon plaintext; statsd aggregates in memory and
	// need not).
	Shed bool
}

// Config sizes the network core.
type Config struct {
	// EventLoops is the number of gnet event loops. Default 2.
	EventLoops int
	// ReadBufferCap is each loop's read buffer, also the largest UDP
	// datagram read whole. Default 64 KiB (a UDP datagram's maximum).
	ReadBufferCap int
	// SocketRecvBuffer is SO_RCVBUF asked for every socket (0 = kernel
	// default). Default 8 MiB.
	SocketRecvBuffer int
	// NoRecvmmsg has gnet serve the UDP listeners, one datagram per
	// readiness event, instead of the Linux UDP readers (blocking
	// recvmmsg, see udpReader); for comparison benchmarks. Elsewhere than
	// Linux gnet always serves them.
	NoRecvmmsg bool
	// MaxConns caps the TCP connections open at once across every
	// listener; a connection over it is closed at once (counted in
	// ListenerStats). 0 means no limit.
	MaxConns int
	// IdleTimeout closes a TCP connection that sent nothing for this long
	// (counted in ListenerStats). 0 means never.
	IdleTimeout time.Duration
	// ShedUDP, when set, is asked before each datagram of a Shed listener:
	// while it reports true (storage takes no writes and the write buffer
	// is full, so the sink would block the event loop) the datagram is
	// dropped unread and its lines are counted in Server.UDPShedLines.
	// It must be cheap: it runs per datagram.
	ShedUDP func() bool
	// NewSink creates the sink of one event loop. Required.
	NewSink func() SinkFlusher
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Loop is one event loop's state: a gnet event loop's, or a UDP reader's
// (Linux; see udpReader), which has no el and serves one listener.
type Loop struct {
	el       gnet.EventLoop
	mu       *sync.Mutex        // UDP reader loops only: held while the reader or OnLoops runs the handler
	conns    map[*Conn]struct{} // open TCP connections, for the idle sweep
	sink     SinkFlusher
	handlers []LoopHandler // by Server.handlers index
	server   *Server
	udpFDs   []int // UDP sockets this loop has read from (gnet's UDP)
}

// LoopHandler returns this loop's instance of h, or nil if h is not served.
func (l *Loop) LoopHandler(h Handler) LoopHandler {
	for i, hh := range l.server.handlers {
		if hh == h {
			return l.handlers[i]
		}
	}
	return nil
}

// Server is the network core: one gnet engine for every listener.
type Server struct {
	gnet.BuiltinEventEngine
	cfg       Config
	listeners []Listener
	handlers  []Handler // deduplicated
	lhIndex   []int     // listener → handler index
	tcpPort   map[int]int
	udpPort   map[int]int

	loopsMu sync.Mutex
	loops   map[gnet.EventLoop]*Loop
	loopSet atomic.Pointer[[]*Loop]

	engine  gnet.Engine
	booted  chan struct{}
	running chan struct{} // closed at the first OnTick: every loop exists
	runOnce sync.Once
	done    chan error
	exited  atomic.Pointer[error] // the engine's end, once it ended
	stopped atomic.Bool           // Stop was called

	tcp   []*tcpListener
	limit *accept.Limit

	readers     []*udpReader // Linux: the UDP listeners' readers
	readersDone sync.WaitGroup
	readerDead  atomic.Pointer[error] // a reader that stopped on an error
	clock       atomic.Int64          // unix milliseconds, set by OnTick
	serving     sync.WaitGroup

	Connections atomic.Int64
	// UDPDatagrams counts datagrams read by gnet, one per readiness event
	// (where gnet serves UDP: not Linux, or NoRecvmmsg); UDPBatched those
	// read by the Linux UDP readers' recvmmsg.
	UDPDatagrams, UDPBatched atomic.Uint64
	// UDPPaced counts the sleeps of the Linux UDP readers between two
	// reads (see udpReader).
	UDPPaced atomic.Uint64
	// UDPShedLines counts the lines of UDP datagrams dropped because
	// Config.ShedUDP reported that storage could not take them.
	UDPShedLines atomic.Uint64
}

// NewServer validates the listeners. Start runs it.
func NewServer(cfg Config, listeners []Listener) (*Server, error) {
	if cfg.EventLoops <= 0 {
		cfg.EventLoops = 2
	}
	if cfg.ReadBufferCap <= 0 {
		cfg.ReadBufferCap = 64 << 10
	}
	if cfg.SocketRecvBuffer < 0 {
		cfg.SocketRecvBuffer = 0
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NewSink == nil {
		return nil, errors.New("ingest: Config.NewSink is required")
	}
	s := &Server{
		cfg:     cfg,
		tcpPort: map[int]int{},
		udpPort: map[int]int{},
		loops:   map[gnet.EventLoop]*Loop{},
		booted:  make(chan struct{}),
		running: make(chan struct{}),
		done:    make(chan error, 1),
		limit:   accept.NewLimit(cfg.MaxConns),
	}
	s.clock.Store(time.Now().UnixMilli())
	empty := []*Loop{}
	s.loopSet.Store(&empty)
	for _, l := range listeners {
		if l.Addr == "" {
			continue
		}
		_, portStr, err := net.SplitHostPort(l.Addr)
		if err != nil {
			return nil, fmt.Errorf("listener %s address %q: %w", l.Name, l.Addr, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("listener %s address %q: port must be a fixed number", l.Name, l.Addr)
		}
		ports := s.tcpPort
		switch l.Network {
		case "tcp":
		case "udp":
			ports = s.udpPort
		default:
			return nil, fmt.Errorf("listener %s: network %q is not tcp or udp", l.Name, l.Network)
		}
		if _, dup := ports[port]; dup {
			return nil, fmt.Errorf("listener %s: %s port %d is used twice", l.Name, l.Network, port)
		}
		hi := -1
		for i, h := range s.handlers {
			if h == l.Handler {
				hi = i
			}
		}
		if hi < 0 {
			hi = len(s.handlers)
			s.handlers = append(s.handlers, l.Handler)
		}
		ports[port] = len(s.listeners)
		s.listeners = append(s.listeners, l)
		s.lhIndex = append(s.lhIndex, hi)
	}
	// No listener is allowed: a read-only node serves queries only, and
	// its engine (see Start) reads nothing.
	return s, nil
}

// Start binds every listener, runs the engine in the background and returns
// once it is serving. TCP listening sockets are the server's own (see
// listen.go); gnet serves the UDP sockets and every accepted connection.
func (s *Server) Start() error {
	var udpAddrs []string
	readers := udpReadersSupported && !s.cfg.NoRecvmmsg
	for i, l := range s.listeners {
		if l.Network == "udp" && readers {
			if err := s.startUDPReaders(i); err != nil {
				s.stopped.Store(true)
				s.stopUDPReaders()
				s.closeTCP()
				return err
			}
			continue
		}
		if l.Network == "udp" {
			udpAddrs = append(udpAddrs, "udp://"+l.Addr)
			continue
		}
		tl, err := s.listenTCP(i)
		if err != nil {
			s.closeTCP()
			return err
		}
		s.tcp = append(s.tcp, tl)
	}
	gnetAddrs := udpAddrs
	if len(gnetAddrs) == 0 {
		// gnet refuses Engine.Register on an engine without a listener:
		// give it a loopback UDP socket on a kernel-chosen port that no
		// listener serves (its datagrams are ignored).
		gnetAddrs = []string{"udp://127.0.0.1:0"}
	}
	opts := []gnet.Option{
		gnet.WithNumEventLoop(s.cfg.EventLoops),
		gnet.WithReusePort(true),
		gnet.WithReadBufferCap(s.cfg.ReadBufferCap),
		gnet.WithLogger(gnetLogger{s.cfg.Logger}),
		gnet.WithTicker(true),
		// Connections come in through Engine.Register, which needs a
		// balancer other than round robin to be race-free.
		gnet.WithLoadBalancing(gnet.LeastConnections),
	}
	if s.cfg.SocketRecvBuffer > 0 {
		opts = append(opts, gnet.WithSocketRecvBuffer(s.cfg.SocketRecvBuffer))
	}
	go func() {
		err := gnet.Rotate(s, gnetAddrs, opts...)
		s.exited.Store(&err)
		s.done <- err
	}()
	select {
	case <-s.running:
	case err := <-s.done:
		s.stopped.Store(true)
		s.stopUDPReaders()
		s.closeTCP()
		if err == nil {
			err = errors.New("engine stopped during start")
		}
		return fmt.Errorf("starting ingest listeners: %w", udpBindError(udpAddrs, err))
	}
	for _, tl := range s.tcp {
		go tl.run()
	}
	return nil
}

// Stop stops accepting and stops the engine: no more traffic is read. Every
// loop's sink has been flushed at the end of its last traffic event.
func (s *Server) Stop(ctx context.Context) error {
	s.stopped.Store(true)
	s.closeTCP()
	s.stopUDPReaders()
	if err := s.engine.Stop(ctx); err != nil {
		return fmt.Errorf("stopping ingest engine: %w", err)
	}
	served := make(chan struct{})
	go func() { s.serving.Wait(); close(served) }()
	select {
	case <-served:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Loops returns the loops that have seen traffic so far.
func (s *Server) Loops() []*Loop { return *s.loopSet.Load() }

// OnLoops runs fn on every loop's own goroutine (a UDP reader's loop: on a
// goroutine holding the loop's lock, between two batches), so fn may touch
// the loop's protocol state, and waits for all of them.
func (s *Server) OnLoops(ctx context.Context, fn func(l *Loop)) error {
	loops := s.Loops()
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for _, l := range loops {
		wg.Add(1)
		if l.el == nil { // a UDP reader's loop: run fn under its lock
			go func() {
				defer wg.Done()
				l.mu.Lock()
				defer l.mu.Unlock()
				fn(l)
				l.sink.Flush()
			}()
			continue
		}
		err := l.el.Execute(ctx, gnet.RunnableFunc(func(context.Context) error {
			defer wg.Done()
			fn(l)
			l.sink.Flush()
			return nil
		}))
		if err != nil {
			wg.Done()
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("running on event loop: %w", err)
			}
			mu.Unlock()
		}
	}
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		return ctx.Err()
	}
	return firstErr
}

func (s *Server) loop(el gnet.EventLoop) *Loop {
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	if l := s.loops[el]; l != nil {
		return l
	}
	l := &Loop{el: el, sink: s.cfg.NewSink(), server: s, conns: map[*Conn]struct{}{}}
	for _, h := range s.handlers {
		l.handlers = append(l.handlers, h.NewLoop(l.sink))
	}
	s.loops[el] = l
	s.addLoop(l)
	return l
}

// addLoop publishes l in Loops; the caller holds loopsMu or runs before
// the engine starts.
func (s *Server) addLoop(l *Loop) {
	old := *s.loopSet.Load()
	nl := append(append(make([]*Loop, 0, len(old)+1), old...), l)
	s.loopSet.Store(&nl)
}

// OnBoot implements gnet.EventHandler.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.engine = eng
	close(s.booted)
	return gnet.None
}

// OnTick implements gnet.EventHandler. gnet starts the ticker once every
// loop exists, so the first tick marks the engine running; later ticks keep
// the clock and sweep idle connections.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	s.runOnce.Do(func() { close(s.running) })
	now := time.Now().UnixMilli()
	s.clock.Store(now)
	tick := time.Second
	if s.cfg.IdleTimeout > 0 {
		tick = min(max(s.cfg.IdleTimeout/4, 50*time.Millisecond), time.Second)
		// The clock lags by up to a tick: a connection is closed only
		// once it has surely been idle for IdleTimeout.
		s.sweepIdle(now, (s.cfg.IdleTimeout + tick).Milliseconds())
	}
	return tick, gnet.None
}

// OnOpen implements gnet.EventHandler. Every TCP connection comes from a
// listener of the server's own, with a pendingConn as its context.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	p, ok := c.Context().(*pendingConn)
	if !ok {
		return nil, gnet.Close
	}
	s.Connections.Add(1)
	l := s.loop(c.EventLoop())
	cc := &Conn{gc: c, l: l, li: p.li, release: p.release, lastRead: s.clock.Load()}
	l.conns[cc] = struct{}{}
	c.SetContext(cc)
	return nil, gnet.None
}

// OnClose implements gnet.EventHandler.
func (s *Server) OnClose(c gnet.Conn, _ error) gnet.Action {
	if cc, ok := c.Context().(*Conn); ok {
		s.Connections.Add(-1)
		delete(cc.l.conns, cc)
		cc.release()
	}
	return gnet.None
}

func (s *Server) listenerOf(c gnet.Conn) (int, bool) {
	switch a := c.LocalAddr().(type) {
	case *net.TCPAddr:
		li, ok := s.tcpPort[a.Port]
		return li, ok
	case *net.UDPAddr:
		li, ok := s.udpPort[a.Port]
		return li, ok
	}
	return 0, false
}

// OnTraffic implements gnet.EventHandler.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	if cc, ok := c.Context().(*Conn); ok { // TCP
		cc.lastRead = s.clock.Load()
		data, _ := c.Peek(-1)
		n, closeConn := cc.l.handlers[s.lhIndex[cc.li]].Stream(cc, data)
		if n > 0 {
			_, _ = c.Discard(n)
		}
		cc.l.sink.Flush()
		if closeConn {
			return gnet.Close
		}
		return gnet.None
	}
	li, ok := s.listenerOf(c)
	if !ok {
		return gnet.None
	}
	l := s.loopFast(c.EventLoop())
	h := l.handlers[s.lhIndex[li]]
	data, _ := c.Next(-1)
	handle := h.Datagram
	if s.listeners[li].Shed && s.cfg.ShedUDP != nil && s.cfg.ShedUDP() {
		handle = s.shedDatagram
	}
	handle(data, c.RemoteAddr())
	s.UDPDatagrams.Add(1)
	if fd := c.Fd(); !slices.Contains(l.udpFDs, fd) {
		// gnet asked for SO_RCVBUF when it made the socket; where the
		// kernel capped it, this loop's socket may still get it forced.
		l.udpFDs = append(l.udpFDs, fd)
		if s.cfg.SocketRecvBuffer > 0 {
			if _, err := SetRecvBuffer(fd, s.cfg.SocketRecvBuffer); err != nil {
				s.cfg.Logger.Warn("UDP receive buffer", "listener", s.listeners[li].Name, "err", err)
			}
		}
	}
	l.sink.Flush()
	return gnet.None
}

// shedDatagram drops a datagram storage cannot take, counting its lines.
func (s *Server) shedDatagram(data []byte, _ net.Addr) {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	s.UDPShedLines.Add(uint64(n))
}

func (s *Server) loopFast(el gnet.EventLoop) *Loop {
	for _, l := range *s.loopSet.Load() {
		if l.el == el {
			return l
		}
	}
	return s.loop(el)
}

type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }
