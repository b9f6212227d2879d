//go:build linux

package ingest

import (
	"net"
	"slices"
	"testing"
)

// TestUDPDrainBackOff: empty drains in a row make the loop skip draining
// for 1, 2, 4, 8, then 16 events; a drain that finds datagrams ends it, and
// a datagram queued while drains are skipped is read by the next drain.
func TestUDPDrainBackOff(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := net.DialUDP("udp", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	_ = rc.Control(func(f uintptr) { fd = int(f) })

	b := newUDPBatch(2048)
	var got []string
	fn := func(data []byte, from net.Addr) {
		if from.String() != s.LocalAddr().String() {
			t.Errorf("from %q; want %q", from, s.LocalAddr())
		}
		got = append(got, string(data))
	}
	// skips returns how many drains in a row are skipped now.
	skips := func() int {
		n := 0
		for b.skip > 0 {
			if b.drain(fd, fn) != 0 {
				t.Fatal("a skipped drain read datagrams")
			}
			n++
		}
		return n
	}
	for i := 1; i < udpEmptyBeforeSkip; i++ {
		if n := b.drain(fd, fn); n != 0 || b.skip != 0 {
			t.Fatalf("empty drain %d: read %d, skip %d; want 0, 0", i, n, b.skip)
		}
	}
	var seq []int
	for i := 0; i < 6; i++ {
		if b.drain(fd, fn) != 0 {
			t.Fatal("empty queue read")
		}
		seq = append(seq, skips())
	}
	if want := []int{1, 2, 4, 8, 16, 16}; !slices.Equal(seq, want) {
		t.Fatalf("skipped drains after each empty one: %v; want %v", seq, want)
	}

	// A datagram arrives while drains are skipped: the next drain reads it
	// and the back-off is over.
	if b.drain(fd, fn) != 0 || b.skip != 16 {
		t.Fatalf("skip = %d; want 16", b.skip)
	}
	if _, err := s.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	skips()
	if n := b.drain(fd, fn); n != 1 || len(got) != 1 || got[0] != "late" {
		t.Fatalf("drain after the back-off read %d: %q; want the one datagram", n, got)
	}
	if b.empty != 0 || b.skip != 0 {
		t.Fatalf("after a drain that read: empty %d, skip %d; want 0, 0", b.empty, b.skip)
	}
}
