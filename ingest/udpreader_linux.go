package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpReadersSupported: on Linux every UDP listener is served by readers of
// its own (see udpReader), not by gnet.
const udpReadersSupported = true

// udpReader serves one UDP socket: a goroutine on a locked OS thread blocks
// in recvmmsg(2) with MSG_WAITFORONE, so one system call both waits for
// traffic and returns all that is queued (up to udpBatchSlots datagrams).
// gnet's loop pays epoll_wait, recvfrom, a getsockopt and an allocation for
// the first datagram of every wake-up, then the drain's recvmmsg; at 20
// statsd metrics per datagram those were a quarter of the server's CPU.
//
// The reader has a Loop of its own (its sink and handler instance). The
// loop's mutex is held while a batch is handled and while OnLoops runs a
// function on the loop, so the handler is never entered concurrently:
// one uncontended lock per batch, not per datagram.
type udpReader struct {
	fd    int
	li    int
	loop  *Loop
	h     LoopHandler
	batch *udpBatch
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
		r := &udpReader{fd: fd, li: li, loop: lp, h: h, batch: newUDPBatch(s.cfg.ReadBufferCap)}
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
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	shed := s.listeners[r.li].Shed && s.cfg.ShedUDP != nil
	b := r.batch
	for {
		n, errno := b.wait(r.fd)
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
		for i := 0; i < n; i++ {
			data := b.buf[i*b.slot : i*b.slot+int(b.hdrs[i].n)]
			if shed && s.cfg.ShedUDP() {
				s.shedDatagram(data, nil)
				continue
			}
			r.h.Datagram(data, &b.addrs[i])
		}
		r.loop.sink.Flush()
		r.loop.mu.Unlock()
		s.UDPBatched.Add(uint64(n))
	}
}

// wait blocks until datagrams are queued on fd (a blocking descriptor) and
// reads up to udpBatchSlots of them in one recvmmsg call.
func (b *udpBatch) wait(fd int) (int, syscall.Errno) {
	for i := range b.hdrs {
		b.hdrs[i].hdr.Namelen = uint32(unsafe.Sizeof(b.addrs[i].sa))
		b.hdrs[i].hdr.Flags = 0
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
	}
	s.readers = nil
}
