//go:build linux

package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/ingesttest"
)

// datagramRecorder is a protocol that records every datagram and its source.
type datagramRecorder struct {
	mu   sync.Mutex
	data [][]byte
	from []string
}

func (r *datagramRecorder) NewLoop(ingest.Sink) ingest.LoopHandler { return r }

func (r *datagramRecorder) Stream(*ingest.Conn, []byte) (int, bool) { return 0, true }

func (r *datagramRecorder) Datagram(data []byte, from net.Addr) {
	r.mu.Lock()
	r.data = append(r.data, bytes.Clone(data))
	r.from = append(r.from, from.String())
	r.mu.Unlock()
}

func (r *datagramRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.data)
}

func (r *datagramRecorder) take(t *testing.T, n int) ([][]byte, []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.data)
		if got >= n || time.Now().After(deadline) {
			data, from := r.data, r.from
			r.data, r.from = nil, nil
			r.mu.Unlock()
			if got != n {
				t.Fatalf("received %d datagrams; want %d", got, n)
			}
			return data, from
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

type nopSink struct{}

func (nopSink) AddPoint([]byte, int64, float64) {}
func (nopSink) Flush()                          {}

// TestUDPReaderBatches queues datagrams while the UDP reader's loop is held
// (OnLoops), then checks that the reader delivers them all, in order, whole
// and with their source, every one read by its recvmmsg (none by gnet).
func TestUDPReaderBatches(t *testing.T) {
	const asked = 8 << 20
	srv, rec, u := startUDPRecorder(t, asked)
	src := u.LocalAddr().String()
	if _, err := u.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	if _, from := rec.take(t, 1); from[0] != src {
		t.Fatalf("first datagram from %q; want %q", from[0], src)
	}

	// How much the listening socket holds: the same ask on a socket of this
	// process gets the same grant (rmem_max, or forced with CAP_NET_ADMIN).
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := probe.SyscallConn()
	var granted int
	var gerr error
	_ = rc.Control(func(fd uintptr) { granted, gerr = ingest.SetRecvBuffer(int(fd), asked) })
	probe.Close()
	if gerr != nil {
		t.Fatal(gerr)
	}

	hold := func() (release func()) {
		held, done := make(chan struct{}), make(chan struct{})
		go func() {
			_ = srv.OnLoops(context.Background(), func(*ingest.Loop) {
				close(held)
				<-done
			})
		}()
		<-held
		return func() { close(done) }
	}
	burst := func(n int, big int) [][]byte {
		var sent [][]byte
		for i := 0; i < n; i++ {
			p := []byte(fmt.Sprintf("datagram %d", i))
			if i == big {
				p = bytes.Repeat([]byte{'b'}, 65000)
			}
			if _, err := u.Write(p); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, p)
		}
		return sent
	}

	// Each small datagram takes about 830 bytes of buffer; the burst is
	// sized to what the socket holds so none is dropped.
	for _, n := range []int{300, 1100} {
		if n*2048+128<<10 > granted {
			n = (granted - 128<<10) / 2048
			t.Logf("SO_RCVBUF granted %d: burst of %d", granted, n)
		}
		ev0, b0 := srv.UDPDatagrams.Load(), srv.UDPBatched.Load()
		release := hold()
		sent := burst(n, n/2)
		release()
		data, from := rec.take(t, n)
		for i := range sent {
			if !bytes.Equal(data[i], sent[i]) {
				t.Fatalf("burst of %d: datagram %d is %d bytes %.20q; want %d bytes %.20q", n, i, len(data[i]), data[i], len(sent[i]), sent[i])
			}
			if from[i] != src {
				t.Fatalf("burst of %d: datagram %d from %q; want %q", n, i, from[i], src)
			}
		}
		if ev, b := srv.UDPDatagrams.Load()-ev0, srv.UDPBatched.Load()-b0; ev != 0 || b != uint64(n) {
			t.Fatalf("burst of %d: %d read by gnet, %d by recvmmsg; want 0 and %d", n, ev, b, n)
		}
	}
}

// TestUDPReaderPacedStream streams 20,000 datagrams (at most 1,000 unread
// at a time, well inside the socket buffer) while OnLoops runs again and
// again, as statsd's flush does: every datagram arrives once, in order, and
// every OnLoops call returns, whether or not the reader is asleep between
// reads (udppace) when it comes.
func TestUDPReaderPacedStream(t *testing.T) {
	const total, window = 20000, 1000
	srv, rec, u := startUDPRecorder(t, 8<<20)

	stop := make(chan struct{})
	calls := make(chan int, 1)
	go func() {
		n := 0
		defer func() { calls <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := srv.OnLoops(ctx, func(*ingest.Loop) {})
			cancel()
			if err != nil {
				t.Errorf("OnLoops during the stream: %v", err)
				return
			}
			n++
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < total; i++ {
		for i-rec.count() >= window {
			if time.Now().After(deadline) {
				t.Fatalf("sent %d, received %d after 60 s", i, rec.count())
			}
			time.Sleep(100 * time.Microsecond)
		}
		if _, err := fmt.Fprintf(u, "datagram %d", i); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := rec.take(t, total)
	close(stop)
	t.Logf("%d OnLoops calls during the stream; %d reader sleeps", <-calls, srv.UDPPaced.Load())
	for i, d := range data {
		if want := fmt.Sprintf("datagram %d", i); string(d) != want {
			t.Fatalf("datagram %d is %q; want %q", i, d, want)
		}
	}
}

// TestSetRecvBuffer: the size granted is what the socket reports, at least
// the kernel's doubled ask when that is under rmem_max.
func TestSetRecvBuffer(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, _ := c.SyscallConn()
	var got int
	var gerr error
	_ = rc.Control(func(fd uintptr) { got, gerr = ingest.SetRecvBuffer(int(fd), 64<<10) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	if got != 128<<10 {
		t.Fatalf("SO_RCVBUF for a 64 KiB ask = %d; want %d", got, 128<<10)
	}
}

// startUDPRecorder starts a one-loop server whose UDP listener (recvBuf
// bytes of socket buffer) records every datagram, and dials it; the
// connection is closed when the test ends.
func startUDPRecorder(t *testing.T, recvBuf int) (*ingest.Server, *datagramRecorder, net.Conn) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	rec := &datagramRecorder{}
	srv := ingesttest.StartServer(t, ingest.Config{
		EventLoops:       1,
		SocketRecvBuffer: recvBuf,
		NewSink:          func() ingest.SinkFlusher { return nopSink{} },
	}, ingest.Listener{Name: "rec", Network: "udp", Addr: addr, Handler: rec})
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return srv, rec, u
}

// TestUDPReaderStopWhilePaced stops a server whose reader is pacing a
// stream (sleeping up to udppace.MaxWait, 4 ms, between reads): Stop wakes
// the reader, which notices after at most one sleep, and returns. The 10 s
// bound only catches a reader that never wakes (a loaded box can delay the
// 4 ms by much more than 4 ms); every datagram read before Stop arrived
// whole and in order.
func TestUDPReaderStopWhilePaced(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	rec := &datagramRecorder{}
	srv, err := ingest.NewServer(ingest.Config{
		EventLoops: 1, SocketRecvBuffer: 8 << 20,
		NewSink: func() ingest.SinkFlusher { return nopSink{} },
	}, []ingest.Listener{{Name: "rec", Network: "udp", Addr: addr, Handler: rec}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	// About 10 k datagrams/s (fewer on a loaded box): the pacer sleeps
	// between reads once it has measured the rate.
	deadline := time.Now().Add(30 * time.Second)
	sent := 0
	for srv.UDPPaced.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no paced sleeps after %d datagrams in 30 s", sent)
		}
		if _, err := fmt.Fprintf(u, "datagram %d", sent); err != nil {
			t.Fatal(err)
		}
		sent++
		if sent%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	began := time.Now()
	if err := srv.Stop(ctx); err != nil {
		t.Fatalf("Stop while the reader paces: %v", err)
	}
	t.Logf("Stop took %v after %d datagrams, %d paced sleeps", time.Since(began), sent, srv.UDPPaced.Load())
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.data) == 0 || len(rec.data) > sent {
		t.Fatalf("%d datagrams read of %d sent", len(rec.data), sent)
	}
	for i, d := range rec.data {
		if want := fmt.Sprintf("datagram %d", i); string(d) != want {
			t.Fatalf("datagram %d is %q; want %q", i, d, want)
		}
	}
}
