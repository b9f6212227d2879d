//go:build !linux

package loadtest

import "net"

const datagramBatch = 1

// batchSender is Linux's sendmmsg; elsewhere datagrams go one per write.
type batchSender struct{}

func newBatchSender(net.Conn) *batchSender { return nil }

func (*batchSender) send([]byte, []chunk) (int, error) { panic("unreachable") }
