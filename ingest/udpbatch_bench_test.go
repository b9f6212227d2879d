//go:build linux

package ingest_test

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/ingest/line"
)

// countSink counts the points a loop's parser emits.
type countSink struct{ n *atomic.Int64 }

func (s countSink) AddPoint([]byte, int64, float64) { s.n.Add(1) }
func (countSink) Flush()                            {}

// BenchmarkUDPIngestOnePerDatagram sends one carbon line per UDP datagram
// from one socket (32 per sendmmsg call, so the sender is cheap beside the
// server) and waits until the core has parsed each of them; the sender keeps
// at most 2,048 datagrams in flight so the socket never overflows. One op
// = one datagram. "recvmmsg" is the core as served on Linux (the UDP
// readers), "event" gnet's one datagram per readiness event.
func BenchmarkUDPIngestOnePerDatagram(b *testing.B) {
	for _, mode := range []string{"recvmmsg", "event"} {
		b.Run(mode, func(b *testing.B) {
			addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(b))
			var got atomic.Int64
			srv := ingesttest.StartServer(b, ingest.Config{
				EventLoops:       1,
				SocketRecvBuffer: 8 << 20,
				NoRecvmmsg:       mode == "event",
				NewSink:          func() ingest.SinkFlusher { return countSink{&got} },
			}, ingest.Listener{Name: "carbon", Network: "udp", Addr: addr, Handler: &line.Handler{}})
			u, err := net.Dial("udp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer u.Close()
			const batch = 32
			hdrs := make([]benchMmsghdr, 1024)
			iovs := make([]unix.Iovec, len(hdrs))
			for i := range hdrs {
				p := []byte("bench.udp.metric" + strconv.Itoa(i) + " " + strconv.Itoa(i) + " 1700000000\n")
				iovs[i].Base = &p[0]
				iovs[i].SetLen(len(p))
				hdrs[i].hdr.Iov = &iovs[i]
				hdrs[i].hdr.SetIovlen(1)
			}
			rc, err := u.(*net.UDPConn).SyscallConn()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; {
				for int64(i)-got.Load() >= 2048 {
					time.Sleep(10 * time.Microsecond)
				}
				k := min(batch, b.N-i)
				first := i % len(hdrs) / batch * batch
				var n uintptr
				var errno syscall.Errno
				_ = rc.Write(func(fd uintptr) bool {
					n, _, errno = syscall.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hdrs[first])), uintptr(k), 0, 0, 0)
					return errno != syscall.EAGAIN
				})
				if errno != 0 {
					b.Fatal(errno)
				}
				i += int(n)
			}
			deadline := time.Now().Add(time.Minute)
			for got.Load() < int64(b.N) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			if n := got.Load(); n != int64(b.N) {
				b.Fatalf("parsed %d datagrams; want %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "datagrams/s")
			b.ReportMetric(float64(srv.UDPBatched.Load())/float64(max(1, srv.UDPDatagrams.Load()+srv.UDPBatched.Load())), "batched-share")
		})
	}
}

type benchMmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}
