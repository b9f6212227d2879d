package ingest

import (
	"fmt"
	"net/netip"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatchSlots is the number of datagrams one recvmmsg call can return
// when a slot is at most udpBatchBytes/udpBatchSlots bytes (the default 64
// KiB read buffer: 256 slots, 16 MiB of address space per reader). The
// slots are mapped outside the Go heap, so only the pages datagrams touch
// are resident (about 1 MiB with statsd-sized datagrams) and the garbage
// collector's heap goal does not grow by the whole 16 MiB. With a larger
// read buffer the slots shrink to keep the 16 MiB, but never below
// udpBatchMinSlots (the count before bigger batches). 256 slots and
// udppace's 4 ms sleeps cut the kernel's cost per datagram to about 0.7×
// of 64 slots and 1 ms in udpfloor (docs/bench-rounds.md, statsd, fifth round; the
// server at load ~28 did not show it, sixth round).
const (
	udpBatchSlots    = 256
	udpBatchMinSlots = 64
	udpBatchBytes    = 16 << 20
)

// udpSlots is the slot count of a reader whose slots are slot bytes each.
func udpSlots(slot int) int {
	return max(udpBatchMinSlots, min(udpBatchSlots, udpBatchBytes/max(slot, 1)))
}

// mmsghdr is struct mmsghdr: a msghdr and the length the kernel received.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// udpBatch is one UDP reader's recvmmsg(2) state (only that reader touches
// it): udpSlots datagrams per system call, no allocation, the source
// address decoded only if a protocol asks for it.
type udpBatch struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	addrs []rawUDPAddr
	buf   []byte // len(hdrs) × slot bytes, mapped (free unmaps it)
	slot  int
}

func newUDPBatch(slot int) (*udpBatch, error) {
	n := udpSlots(slot)
	buf, err := unix.Mmap(-1, 0, n*slot, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("mapping %d UDP read slots of %d bytes: %w", n, slot, err)
	}
	b := &udpBatch{
		hdrs:  make([]mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		addrs: make([]rawUDPAddr, n),
		buf:   buf,
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
	return b, nil
}

// free unmaps the slots; the batch must not be read into after.
func (b *udpBatch) free() {
	if b.buf != nil {
		_ = unix.Munmap(b.buf)
		b.buf = nil
	}
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
