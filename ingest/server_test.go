package ingest_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/line"
)

type point = ingesttest.Point

// wait takes the n points col has received (failing the test if it gets
// another count), sorted by name and timestamp.
func wait(t *testing.T, col *ingesttest.Collector, n int) []point {
	t.Helper()
	out := col.Wait(t, n)
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].TS < out[j].TS
	})
	return out
}

func TestCarbonLineOverTCPAndUDP(t *testing.T) {
	port := ingesttest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	col := &ingesttest.Collector{}
	h := &line.Handler{MaxLineLen: 100, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	srv, err := ingest.NewServer(ingest.Config{
		EventLoops: 2,
		NewSink:    col.NewSink,
	}, []ingest.Listener{
		{Name: "carbon", Network: "tcp", Addr: addr, Handler: h},
		{Name: "carbon", Network: "udp", Addr: addr, Handler: h},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// A line split across writes, a bad line between good ones, an over-long
	// line, and a -1 timestamp.
	writes := []string{
		"a.b 1 1000\na.", "b 2 1010\n",
		"bad line\n",
		"c.d 3.5 -1\n",
		strings.Repeat("x", 150), strings.Repeat("y", 50) + " 1 1\n",
		"e.f 4 1020\n",
	}
	for _, w := range writes {
		if _, err := c.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := wait(t, col, 4)
	want := []point{{Name: "a.b", TS: 1000, V: 1}, {Name: "a.b", TS: 1010, V: 2}, {Name: "c.d", TS: 1700000000, V: 3.5}, {Name: "e.f", TS: 1020, V: 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("tcp points = %v; want %v", got, want)
	}
	if h.Rejected(line.ReasonFields) != 1 || h.Rejected(line.ReasonLineTooLong) != 1 {
		t.Fatalf("rejections: fields %d, too long %d; want 1, 1", h.Rejected(line.ReasonFields), h.Rejected(line.ReasonLineTooLong))
	}
	c.Close()

	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.Write([]byte("u.a 1 100\nu.b nan 100\nu.c 2 200")); err != nil {
		t.Fatal(err)
	}
	got = wait(t, col, 2)
	want = []point{{Name: "u.a", TS: 100, V: 1}, {Name: "u.c", TS: 200, V: 2}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("udp points = %v; want %v", got, want)
	}
	if h.Rejected(line.ReasonNaN) != 1 {
		t.Fatalf("nan rejections = %d; want 1", h.Rejected(line.ReasonNaN))
	}

	// OnLoops runs on every gnet loop that has seen traffic (one or two:
	// the TCP connection's, and the UDP listener's where gnet serves it)
	// and, on Linux, on the loop of each of the two UDP readers.
	lo, hi := 1, 2
	if runtime.GOOS == "linux" {
		lo, hi = 3, 3
	}
	n := 0
	var mu sync.Mutex
	if err := srv.OnLoops(context.Background(), func(l *ingest.Loop) {
		if l.LoopHandler(h) == nil {
			t.Error("loop has no carbon handler")
		}
		mu.Lock()
		n++
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if n < lo || n > hi {
		t.Fatalf("OnLoops ran on %d loops; want %d to %d", n, lo, hi)
	}
}
