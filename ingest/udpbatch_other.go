//go:build !linux

package ingest

import (
	"fmt"
	"net"
	"syscall"
)

// udpBatch is Linux's recvmmsg drain; elsewhere gnet's one datagram per
// event is all there is.
type udpBatch struct{}

func newUDPBatch(int) *udpBatch { return &udpBatch{} }

func (*udpBatch) drain(int, func([]byte, net.Addr)) int { return 0 }

// SetRecvBuffer asks for an asked-byte SO_RCVBUF on fd and returns the size
// granted.
func SetRecvBuffer(fd, asked int) (int, error) {
	if asked > 0 {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, asked); err != nil {
			return 0, fmt.Errorf("setting SO_RCVBUF %d: %w", asked, err)
		}
	}
	got, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	if err != nil {
		return 0, fmt.Errorf("reading SO_RCVBUF: %w", err)
	}
	return got, nil
}
