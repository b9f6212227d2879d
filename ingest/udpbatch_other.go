//go:build !linux

package ingest

import "net"

// udpBatch is Linux's recvmmsg drain; elsewhere gnet's one datagram per
// event is all there is.
type udpBatch struct{}

func newUDPBatch(int) *udpBatch { return &udpBatch{} }

func (*udpBatch) drain(int, func([]byte, net.Addr)) int { return 0 }

func forceRecvBuffer(int, int) bool { return false }
