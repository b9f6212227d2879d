// Package ingesttest holds helpers for tests that run real listeners on
// loopback (the gnet core, plumbago serve, carbon and statsd peers).
package ingesttest

import (
	"context"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/ingest"
)

// FreePort returns a port on 127.0.0.1 that was free for both TCP and UDP a
// moment ago. gnet needs fixed ports (port 0 with several event loops would
// bind each loop elsewhere), and Plumbago's carbon and statsd listeners use
// one port for both protocols.
//
// The port is drawn at random from below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range): a port inside it, as the kernel hands out
// for port 0, can be taken by any outgoing connection's source port before
// the caller binds it, which the test suite's own clients do by the thousand
// on a loaded machine. No port is returned twice in one process. Another
// process may still take the port before the caller binds it; callers that
// start servers retry on "address already in use".
func FreePort(t testing.TB) int {
	t.Helper()
	lo, hi := portPool()
	for i := 0; i < 1000; i++ {
		port := lo + rand.IntN(hi-lo)
		if !claimPort(port) {
			continue
		}
		if bindable(port) {
			return port
		}
	}
	t.Fatal("no loopback port free for both TCP and UDP")
	return 0
}

var (
	portsMu     sync.Mutex
	portsIssued = map[int]bool{}
)

// claimPort records port as handed out; false when it already was.
func claimPort(port int) bool {
	portsMu.Lock()
	defer portsMu.Unlock()
	if portsIssued[port] {
		return false
	}
	portsIssued[port] = true
	return true
}

// bindable reports whether port is free on 127.0.0.1 for UDP and TCP.
func bindable(port int) bool {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// portPool returns the range [lo, hi) FreePort draws from: 10000 up to the
// start of the ephemeral range (32768 on Linux by default); the whole
// 10000–60000 when the range cannot be read or leaves too little below it.
func portPool() (lo, hi int) {
	lo, hi = 10000, 60000
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	if start, err := strconv.Atoi(f[0]); err == nil && start-lo >= 5000 {
		hi = start
	}
	return lo, hi
}

// StartServer starts a network core with cfg and listeners and stops it
// when the test ends.
func StartServer(t testing.TB, cfg ingest.Config, listeners ...ingest.Listener) *ingest.Server {
	t.Helper()
	srv, err := ingest.NewServer(cfg, listeners)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return srv
}
