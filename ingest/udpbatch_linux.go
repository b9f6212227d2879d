package ingest

import (
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gnet reads one datagram per readiness event (epoll_wait, recvfrom, an
// extra getsockopt, a Conn and a net.UDPAddr for every datagram). After it
// has handed us one, udpBatch drains what else is queued on the same socket
// with recvmmsg(2): up to udpBatchSlots datagrams per system call, no
// allocation, the source address decoded only if a protocol asks for it.

// udpBatchSlots is the number of datagrams one recvmmsg call can return.
const udpBatchSlots = 64

// udpDrainCalls bounds the recvmmsg calls per readiness event, so one busy
// UDP socket cannot starve the loop's other connections (the socket is
// level-triggered: what is left is reported again at once).
const udpDrainCalls = 8

// When datagrams arrive one at a time (a light, smooth load) every drain
// finds the queue empty and costs a system call for nothing. After
// udpEmptyBeforeSkip empty drains in a row the loop skips the drain for 1,
// 2, 4, ... up to udpMaxSkip events; the first drain that finds datagrams
// ends the back-off. Skipping loses nothing: the socket is level-triggered,
// so what is queued is read at the next event.
const (
	udpEmptyBeforeSkip = 4
	udpMaxSkip         = 16
)

// mmsghdr is struct mmsghdr: a msghdr and the length the kernel received.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// udpBatch is one event loop's recvmmsg state; only that loop touches it.
type udpBatch struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	addrs []rawUDPAddr
	buf   []byte // udpBatchSlots × slot bytes
	slot  int
	empty int // drains in a row that found nothing
	skip  int // events left whose drain is skipped
}

func newUDPBatch(slot int) *udpBatch {
	b := &udpBatch{
		hdrs:  make([]mmsghdr, udpBatchSlots),
		iovs:  make([]unix.Iovec, udpBatchSlots),
		addrs: make([]rawUDPAddr, udpBatchSlots),
		buf:   make([]byte, udpBatchSlots*slot),
		slot:  slot,
	}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.buf[i*slot]
		b.iovs[i].SetLen(slot)
		h := &b.hdrs[i].hdr
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&b.addrs[i].sa))
	}
	return b
}

// drain reads what is queued on fd and calls fn for every datagram; data
// and from are valid during the call only. It returns the datagrams read.
func (b *udpBatch) drain(fd int, fn func(data []byte, from net.Addr)) int {
	if b.skip > 0 {
		b.skip--
		return 0
	}
	total := b.read(fd, fn)
	if total > 0 {
		b.empty = 0
		return total
	}
	b.empty++
	if b.empty >= udpEmptyBeforeSkip {
		b.skip = min(1<<min(b.empty-udpEmptyBeforeSkip, 4), udpMaxSkip)
	}
	return 0
}

func (b *udpBatch) read(fd int, fn func(data []byte, from net.Addr)) int {
	total := 0
	for call := 0; call < udpDrainCalls; call++ {
		for i := range b.hdrs {
			b.hdrs[i].hdr.Namelen = uint32(unsafe.Sizeof(b.addrs[i].sa))
			b.hdrs[i].hdr.Flags = 0
		}
		// MSG_DONTWAIT: the call never blocks, so the raw form (no
		// scheduler hand-off) is safe and saves its cost on every batch.
		r, _, errno := syscall.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), unix.MSG_DONTWAIT, 0, 0)
		if errno != 0 || r == 0 {
			// EAGAIN: the queue is empty. Any other error (the socket
			// closing under us at shutdown) ends the drain; gnet's own
			// read reports it if it persists.
			return total
		}
		n := int(r)
		for i := 0; i < n; i++ {
			fn(b.buf[i*b.slot:i*b.slot+int(b.hdrs[i].n)], &b.addrs[i])
		}
		total += n
		if n < len(b.hdrs) {
			return total
		}
	}
	return total
}

// rawUDPAddr is a datagram's source as the kernel wrote it; String decodes
// it on demand (only rejection logs ask).
type rawUDPAddr struct{ sa unix.RawSockaddrAny }

func (a *rawUDPAddr) Network() string { return "udp" }

func (a *rawUDPAddr) String() string {
	switch a.sa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&a.sa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1])).String()
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&a.sa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		ip := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			ip = ip.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(ip.Unmap(), uint16(p[0])<<8|uint16(p[1])).String()
	}
	return "unknown"
}

// forceRecvBuffer sets SO_RCVBUFFORCE, which succeeds past rmem_max for a
// process with CAP_NET_ADMIN (EPERM otherwise).
func forceRecvBuffer(fd, asked int) bool {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, asked) == nil
}
