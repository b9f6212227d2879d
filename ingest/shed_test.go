package ingest_test

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/ingest/line"
)

// TestShedUDPWhileStorageStalled: while Config.ShedUDP reports true, the
// datagrams of a Shed listener are dropped unread and their lines counted
// (a last line without a newline too); a listener without Shed, and every
// listener once ShedUDP reports false, is served as before.
func TestShedUDPWhileStorageStalled(t *testing.T) {
	shedAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	keepAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	col := &ingesttest.Collector{}
	h := &line.Handler{}
	var stalled atomic.Bool
	stalled.Store(true)
	srv := ingesttest.StartServer(t, ingest.Config{
		EventLoops: 1,
		ShedUDP:    stalled.Load,
		NewSink:    col.NewSink,
	},
		ingest.Listener{Name: "carbon", Network: "udp", Addr: shedAddr, Handler: h, Shed: true},
		ingest.Listener{Name: "other", Network: "udp", Addr: keepAddr, Handler: h},
	)
	send := func(addr, payload string) {
		t.Helper()
		u, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		if _, err := u.Write([]byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	send(shedAddr, "s.a 1 100\ns.b 2 100\ns.c 3 100")
	send(shedAddr, "s.d 4 100\n")
	// The unshed listener's point is delivered; the shed lines are
	// counted (polled: the datagrams may be read in either order).
	send(keepAddr, "k.a 5 100\n")
	if got := wait(t, col, 1); fmt.Sprint(got) != fmt.Sprint([]point{{Name: "k.a", TS: 100, V: 5}}) {
		t.Fatalf("unshed listener delivered %v; want k.a", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.UDPShedLines.Load() != 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.UDPShedLines.Load(); n != 4 {
		t.Fatalf("UDPShedLines = %d; want 4", n)
	}
	stalled.Store(false)
	send(shedAddr, "s.e 6 100\n")
	if got := wait(t, col, 1); fmt.Sprint(got) != fmt.Sprint([]point{{Name: "s.e", TS: 100, V: 6}}) {
		t.Fatalf("after the stall the listener delivered %v; want s.e", got)
	}
	if n := srv.UDPShedLines.Load(); n != 4 {
		t.Fatalf("UDPShedLines after the stall = %d; want 4", n)
	}
}
