//go:build unix

package ingest

import (
	"fmt"
	"syscall"
)

// SetRecvBuffer asks for an asked-byte SO_RCVBUF on fd and, when the kernel
// caps it below that (Linux: net.core.rmem_max), tries to force it (Linux:
// SO_RCVBUFFORCE, which needs CAP_NET_ADMIN). It returns the size granted;
// Linux reports twice the request, its bookkeeping overhead included.
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
	if asked > 0 && got < 2*asked && forceRecvBuffer(fd, asked) {
		if g, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF); err == nil {
			got = g
		}
	}
	return got, nil
}
