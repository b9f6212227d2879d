// Command healthcheck is the container health probe shipped next to
// plumbago in the runtime image, which has no shell, curl or wget. It sends
// one HTTP/1.0 GET to plumbago's /healthz and exits 0 on a 200 answer, 1
// otherwise.
//
// Usage:
//
//	healthcheck [host:port]
//
// The address defaults to $PLUMBAGO_HEALTHCHECK_ADDR, then 127.0.0.1:8080.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

const timeout = 3 * time.Second

func main() {
	addr := os.Getenv("PLUMBAGO_HEALTHCHECK_ADDR")
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	if err := probe(addr); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

// probe asks addr for /healthz and wants "HTTP/1.x 200".
func probe(addr string) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return fmt.Errorf("connecting to %q: %w", addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("setting deadline: %w", err)
	}
	if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.0\r\nHost: %s\r\nUser-Agent: plumbago-healthcheck\r\n\r\n", addr); err != nil {
		return fmt.Errorf("sending request to %q: %w", addr, err)
	}
	status, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading status from %q: %w", addr, err)
	}
	f := strings.Fields(status)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") || f[1] != "200" {
		return fmt.Errorf("unhealthy answer from %q: %q", addr, strings.TrimSpace(status))
	}
	return nil
}
