package ingest

import "testing"

// TestUDPSlots: 256 slots up to 64 KiB each (the default read buffer: 16
// MiB per reader), fewer past that to keep the 16 MiB, never under 64.
func TestUDPSlots(t *testing.T) {
	for _, tc := range []struct{ slot, want int }{
		{0, 256}, {1500, 256}, {64 << 10, 256}, {64<<10 + 1, 255},
		{128 << 10, 128}, {256 << 10, 64}, {1 << 20, 64},
	} {
		if got := udpSlots(tc.slot); got != tc.want {
			t.Errorf("udpSlots(%d) = %d; want %d", tc.slot, got, tc.want)
		}
	}
	b, err := newUDPBatch(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	defer b.free()
	if len(b.hdrs) != 256 || len(b.iovs) != 256 || len(b.addrs) != 256 || len(b.buf) != 16<<20 {
		t.Fatalf("default batch: %d headers, %d iovecs, %d addresses, %d bytes; want 256, 256, 256 and %d",
			len(b.hdrs), len(b.iovs), len(b.addrs), len(b.buf), 16<<20)
	}
	if last := b.iovs[255]; last.Base != &b.buf[255<<16] || last.Len != 64<<10 {
		t.Fatalf("slot 255's iovec is %p, %d bytes; want %p, %d", last.Base, last.Len, &b.buf[255<<16], 64<<10)
	}
}
