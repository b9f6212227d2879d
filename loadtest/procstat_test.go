package loadtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProcStats(t *testing.T) {
	x := 0
	for i := range 50_000_000 {
		x += i & 3
	}
	cpu, err := procCPUSeconds(os.Getpid())
	if err != nil || cpu <= 0 || x == 0 {
		t.Fatalf("cpu %v, %v", cpu, err)
	}
	rss, peak, err := procRSS(os.Getpid())
	if err != nil || rss <= 0 || peak < rss {
		t.Fatalf("rss %d peak %d: %v", rss, peak, err)
	}
	if _, err := procCPUSeconds(1 << 30); err == nil {
		t.Fatal("want an error for a missing process")
	}
}

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "f"), make([]byte, 3*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	// A sparse file allocates nothing for its hole.
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := diskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Directories take a block each (4096 on ext4); the file 3 blocks.
	if got < 3*4096 || got > 3*4096+4*4096 {
		t.Fatalf("disk usage %d, want 12288 plus directory blocks", got)
	}
	if n, err := diskUsage(filepath.Join(dir, "missing")); err != nil || n != 0 {
		t.Fatalf("missing dir: %d %v", n, err)
	}
}

func TestParseRcvbufErrors(t *testing.T) {
	snmp := "Ip: Forwarding DefaultTTL\nIp: 1 64\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 100 2 7 50 92953 0\nUdpLite: InDatagrams\nUdpLite: 0\n"
	if v, ok := parseRcvbufErrors(snmp); !ok || v != 92953 {
		t.Fatalf("snmp: %d %v", v, ok)
	}
	if v, ok := parseRcvbufErrors("Udp6InDatagrams 5\nUdp6RcvbufErrors 12\n"); !ok || v != 12 {
		t.Fatalf("snmp6: %d %v", v, ok)
	}
	if _, ok := parseRcvbufErrors("Udp: A B\nUdp: 1\n"); ok {
		t.Fatal("mismatched header and values accepted")
	}
	if _, err := udpRcvbufErrors(); err != nil {
		t.Fatal(err)
	}
}

func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(null) || isTerminal(f) || isTerminal(os.NewFile(^uintptr(0), "bad")) {
		t.Fatal("a character device, a file or a bad descriptor taken for a terminal")
	}
}
