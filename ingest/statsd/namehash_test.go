package statsd

import (
	"fmt"
	"testing"
)

// TestHashNameSpread: the loader's 100,000 names (one prefix, a counter at
// the end) have distinct 64-bit hashes, and an index of 2^18 slots (38 %
// full) gets no run of occupied slots longer than 64 from them.
func TestHashNameSpread(t *testing.T) {
	const n = 100_000
	seen := make(map[uint64]string, n)
	var tb table[int]
	for i := range n {
		name := fmt.Sprintf("loadtest.sd1.m%06d", i)
		h := hashName([]byte(name))
		if o, ok := seen[h]; ok {
			t.Fatalf("%q and %q share hash %x", o, name, h)
		}
		seen[h] = name
		if nameHash(name) != h {
			t.Fatalf("nameHash(%q) != hashName", name)
		}
		*tb.getS(name) = i
	}
	if len(tb.slots) != 1<<18 {
		t.Fatalf("%d slots", len(tb.slots))
	}
	run, longest := 0, 0
	for _, s := range tb.slots {
		if s == 0 {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	if longest > 64 {
		t.Fatalf("longest run of occupied slots %d", longest)
	}
	for i := range n {
		name := fmt.Sprintf("loadtest.sd1.m%06d", i)
		if v, ok := tb.find(name); !ok || *v != i {
			t.Fatalf("find(%q) = %v, %v", name, v, ok)
		}
	}
}

// TestHashNameLengths: every length from 0 to 40 reads all of its bytes
// (changing any one byte changes the hash) and nothing beyond them.
func TestHashNameLengths(t *testing.T) {
	buf := []byte("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH")
	for n := 0; n <= 40; n++ {
		b := buf[:n]
		h := hashName(b)
		ext := append([]byte(nil), b...)
		if hashName(append(ext, 'z')[:n]) != h {
			t.Fatalf("len %d: reads past the end", n)
		}
		for i := 0; i < n; i++ {
			c := append([]byte(nil), b...)
			c[i] ^= 1
			if hashName(c) == h {
				t.Fatalf("len %d: byte %d does not change the hash", n, i)
			}
		}
	}
}
