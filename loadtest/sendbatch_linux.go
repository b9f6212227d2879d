package loadtest

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// datagramBatch is how many datagrams one sendmmsg(2) call carries.
const datagramBatch = 32

type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// batchSender sends several datagrams per system call on a connected UDP
// socket (sendmmsg), so the generator's own cost per datagram is small
// beside the server's: one metric per datagram is still one datagram each.
type batchSender struct {
	rc   syscall.RawConn
	hdrs []mmsghdr
	iovs []unix.Iovec
}

func newBatchSender(c net.Conn) *batchSender {
	u, ok := c.(*net.UDPConn)
	if !ok {
		return nil
	}
	rc, err := u.SyscallConn()
	if err != nil {
		return nil
	}
	b := &batchSender{rc: rc, hdrs: make([]mmsghdr, datagramBatch), iovs: make([]unix.Iovec, datagramBatch)}
	for i := range b.hdrs {
		b.hdrs[i].hdr.Iov = &b.iovs[i]
		b.hdrs[i].hdr.SetIovlen(1)
	}
	return b
}

// send sends one datagram per chunk, all of them unless an error occurs: it
// returns how many datagrams went and the error that stopped the rest (the
// chunk at index sent failed).
func (b *batchSender) send(buf []byte, chunks []chunk) (sent int, err error) {
	for i := range chunks {
		ch := &chunks[i]
		b.iovs[i].Base = &buf[ch.off]
		b.iovs[i].SetLen(int(ch.end - ch.off))
	}
	for sent < len(chunks) {
		var errno syscall.Errno
		var n uintptr
		werr := b.rc.Write(func(fd uintptr) bool {
			n, _, errno = syscall.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[sent])),
				uintptr(len(chunks)-sent), 0, 0, 0)
			return errno != syscall.EAGAIN
		})
		if werr != nil {
			return sent, fmt.Errorf("sendmmsg: %w", werr)
		}
		if errno != 0 {
			return sent, fmt.Errorf("sendmmsg: %w", errno)
		}
		sent += int(n)
	}
	return sent, nil
}
