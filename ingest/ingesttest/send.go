package ingesttest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// SendAll writes each payload on a TCP connection of its own to addr, all
// at once, and returns when every write is done.
func SendAll(t testing.TB, addr string, payloads [][]byte) {
	var wg sync.WaitGroup
	for _, p := range payloads {
		wg.Add(1)
		go func(p []byte) {
			defer wg.Done()
			cn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer cn.Close()
			if _, err := cn.Write(p); err != nil {
				t.Error(err)
			}
		}(p)
	}
	wg.Wait()
}

// WaitStored polls stored() until it reaches want (5 minutes at most, for
// benchmarks on a loaded machine) and fails the test if it is then not
// exactly want.
func WaitStored(t testing.TB, stored func() int64, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for stored() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := stored(); got != want {
		t.Fatalf("storage got %d points; want %d", got, want)
	}
}
