// Package ingesttest holds helpers for tests that run real listeners on
// loopback (the gnet core, plumbago serve, carbon and statsd peers).
package ingesttest

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/plumbago/plumbago/ingest"
)

// FreePort returns a port on 127.0.0.1 that was free for both TCP and UDP a
// moment ago. gnet needs fixed ports (port 0 with several event loops would
// bind each loop elsewhere), and Plumbago's carbon and statsd listeners use
// one port for both protocols. Another process may still take the port
// before the caller binds it; callers that start servers retry on
// "address already in use".
func FreePort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		u.Close()
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no loopback port free for both TCP and UDP")
	return 0
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
