package statsd

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/ingest"
)

// UDPDrops sums the kernel's drop counters (/proc/net/udp and udp6, the
// "drops" column) of every UDP socket bound to port: datagrams lost because
// a socket's receive buffer was full. ok is false when /proc is unavailable.
func UDPDrops(port int) (drops uint64, ok bool) {
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		d, err := udpDropsFile(f, port)
		if err != nil {
			continue
		}
		drops += d
		ok = true
	}
	return drops, ok
}

func udpDropsFile(path string, port int) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading udp socket table: %w", err)
	}
	defer f.Close()
	var total uint64
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 13 {
			continue
		}
		local := fields[1]
		i := strings.LastIndexByte(local, ':')
		if i < 0 {
			continue
		}
		p, err := strconv.ParseUint(local[i+1:], 16, 32)
		if err != nil || int(p) != port {
			continue
		}
		d, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
		if err == nil {
			total += d
		}
	}
	return total, sc.Err()
}

// ProbeRecvBuffer reports the SO_RCVBUF the kernel grants the statsd UDP
// sockets when the core asks for asked bytes (ingest.SetRecvBuffer),
// measured on a throw-away UDP socket: Linux doubles the request and caps it
// at 2 × net.core.rmem_max unless the process may force it.
func ProbeRecvBuffer(asked int) (int, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, fmt.Errorf("probing SO_RCVBUF: %w", err)
	}
	defer c.Close()
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("probing SO_RCVBUF: %w", err)
	}
	var got int
	var serr error
	if err := rc.Control(func(fd uintptr) { got, serr = ingest.SetRecvBuffer(int(fd), asked) }); err != nil {
		return 0, fmt.Errorf("probing SO_RCVBUF: %w", err)
	}
	if serr != nil {
		return 0, fmt.Errorf("probing SO_RCVBUF: %w", serr)
	}
	return got, nil
}
