package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/ingest/udppace"
)

// udpReadersSupported: on Linux every UDP listener is served by readers of
// its own (see udpReader), not by gnet.
const udpReadersSupported = true

// udpReader serves one UDP socket: a goroutine blocks in recvmmsg(2) with
// MSG_WAITFORONE, so one system call both waits for traffic and returns
// all that is queued (up to udpSlots datagrams).
// gnet's loop pays epoll_wait, recvfrom, a getsockopt and an allocation for
// the first datagram of every wake-up, then the drain's recvmmsg; at 20
// statsd metrics per datagram those were a quarter of the server's CPU.
//
// The reader has a Loop of its own (its sink and handler instance). The
// loop's mutex is held while a batch is handled and while OnLoops runs a
// function on the loop, so the handler is never entered concurrently:
// one uncontended lock per batch, not per datagram.
//
// After a batch that did not fill the slots the reader sleeps as its pacer
// says (up to udppace.MaxWait, 4 ms, bounded by the socket buffer's fill time at
// the measured rate) before blocking again, so that at tens of thousands of
// datagrams per second one wake-up reads dozens of them instead of one.
// It sleeps without the loop's lock: a flush or admin command is not held
// up, and Stop waits for at most one sleep. It sleeps in an ordinary system
// call (udppace.Sleep), giving its P up meanwhile.
type udpReader struct {
	fd    int
	li    int
	loop  *Loop
	h     LoopHandler
	batch *udpBatch
	pace  *udppace.Pacer
}

// startUDPReaders binds EventLoops SO_REUSEPORT sockets on listener li and
// starts a reader on each.
func (s *Server) startUDPReaders(li int) error {
	l := s.listeners[li]
	for i := 0; i < s.cfg.EventLoops; i++ {
		fd, err := s.bindUDP(l.Addr)
		if err != nil {
			return fmt.Errorf("listener %s: %w", l.Name, err)
		}
		lp := &Loop{sink: s.cfg.NewSink(), server: s, mu: &sync.Mutex{}}
		lp.handlers = make([]LoopHandler, len(s.handlers))
		h := l.Handler.NewLoop(lp.sink)
		lp.handlers[s.lhIndex[li]] = h
		s.addLoop(lp)
		rcvbuf, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("listener %s: SO_RCVBUF: %w", l.Name, err)
		}
		b, err := newUDPBatch(s.cfg.ReadBufferCap)
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("listener %s: %w", l.Name, err)
		}
		r := &udpReader{fd: fd, li: li, loop: lp, h: h, batch: b, pace: udppace.New(len(b.hdrs), rcvbuf)}
		s.readers = append(s.readers, r)
		s.readersDone.Add(1)
		go s.readUDP(r)
	}
	return nil
}

// bindUDP opens a UDP socket on addr with SO_REUSEPORT and the configured
// receive buffer, and returns it as a blocking descriptor of the server's
// own (the net package's copy is closed, so Go's poller never sees it).
func (s *Server) bindUDP(addr string) (int, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			if serr == nil && s.cfg.SocketRecvBuffer > 0 {
				if _, err := SetRecvBuffer(int(fd), s.cfg.SocketRecvBuffer); err != nil {
					s.cfg.Logger.Warn("UDP receive buffer", "addr", addr, "err", err)
				}
			}
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return -1, err // "listen udp 127.0.0.1:2003: bind: address already in use"
	}
	defer pc.Close()
	rc, err := pc.(*net.UDPConn).SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("udp %s: %w", addr, err)
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, fmt.Errorf("udp %s: %w", addr, err)
	}
	if derr != nil {
		return -1, fmt.Errorf("udp %s: dup: %w", addr, derr)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("udp %s: %w", addr, err)
	}
	return fd, nil
}

// readUDP is a reader's goroutine. It ends when Stop shuts the socket down,
// or on a receive error it cannot retry (reported by Health).
func (s *Server) readUDP(r *udpReader) {
	defer s.readersDone.Done()
	shed := s.listeners[r.li].Shed && s.cfg.ShedUDP != nil
	b := r.batch
	start := time.Now()
	slept := false
	yield := newUDPYield()
	for {
		n, errno := b.wait(r.fd, slept)
		slept = false
		if s.stopped.Load() {
			return
		}
		if errno == unix.EINTR || errno == unix.EAGAIN {
			continue
		}
		if errno != 0 {
			err := fmt.Errorf("ingest listener %s (udp %s) stopped reading: recvmmsg: %w",
				s.listeners[r.li].Name, s.listeners[r.li].Addr, errno)
			s.readerDead.CompareAndSwap(nil, &err)
			s.cfg.Logger.Error("UDP reader stopped", "err", err)
			return
		}
		r.loop.mu.Lock()
		size := 0
		for i := 0; i < n; i++ {
			data := b.buf[i*b.slot : i*b.slot+int(b.hdrs[i].n)]
			size += len(data)
			if shed && s.cfg.ShedUDP() {
				s.shedDatagram(data, nil)
				continue
			}
			r.h.Datagram(data, &b.addrs[i])
		}
		r.loop.sink.Flush()
		r.loop.mu.Unlock()
		s.UDPBatched.Add(uint64(n))
		now := time.Since(start)
		if d := r.pace.Wait(int64(now), n, size); d > 0 {
			udppace.Sleep(d)
			s.UDPPaced.Add(1)
			slept = true
		}
		yield.after(now) // see udpYieldEvery and udpYieldLate
	}
}

// wait reads up to len(b.hdrs) datagrams from fd (a blocking descriptor)
// in one recvmmsg call, blocking until at least one is queued. After a
// paced sleep (queued) it first reads without blocking, in a raw system
// call: it returns at once, so the runtime need not be told (no P hand-off
// to retake); only if that finds nothing does it block in an ordinary one.
func (b *udpBatch) wait(fd int, queued bool) (int, syscall.Errno) {
	for i := range b.hdrs {
		b.hdrs[i].hdr.Namelen = uint32(unsafe.Sizeof(b.addrs[i].sa))
		b.hdrs[i].hdr.Flags = 0
	}
	if queued {
		r, _, errno := syscall.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), unix.MSG_DONTWAIT, 0, 0)
		if errno != unix.EAGAIN {
			return int(r), errno
		}
	}
	r, _, errno := syscall.Syscall6(unix.SYS_RECVMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), unix.MSG_WAITFORONE, 0, 0)
	return int(r), errno
}

// stopUDPReaders wakes every reader (shutdown makes a blocked recvmmsg
// return), waits for them and closes their sockets.
func (s *Server) stopUDPReaders() {
	for _, r := range s.readers {
		_ = unix.Shutdown(r.fd, unix.SHUT_RD) // ENOTCONN on UDP, but it wakes the reader
	}
	s.readersDone.Wait()
	for _, r := range s.readers {
		unix.Close(r.fd)
		r.batch.free()
	}
	s.readers = nil
}
