//go:build linux

// Command udpfloor is the floor of a UDP receiver's CPU per datagram on this
// kernel: --sockets SO_REUSEPORT sockets on --addr, each read by one locked
// OS thread with blocking recvmmsg(2) (64 slots of 64 KiB, MSG_WAITFORONE:
// one wake-up returns all that is queued), the datagrams counted and
// nothing else. Point `plumbago loadtest --scenario statsd-1 --addr ...
// --server-pid PID` at it, or read its own report: on SIGTERM or SIGINT it
// prints the datagrams, the lines ('\n'-separated, as statsd counts metrics)
// and its user and system CPU, then exits.
//
// With --pace each reader sleeps between reads as Plumbago's UDP readers do
// (ingest/udppace): the batched floor, against the blocking one without it.
//
//	go run ./ingest/testdata/udpfloor --addr 127.0.0.1:48125 --sockets 2
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/plumbago/plumbago/ingest/udppace"
)

const (
	defaultSlots = 64
	slotSize     = 64 << 10
)

type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

func main() {
	addr := flag.String("addr", "127.0.0.1:48125", "UDP address to read")
	sockets := flag.Int("sockets", 2, "SO_REUSEPORT sockets, one reader thread each")
	rcvbuf := flag.Int("rcvbuf", 32<<20, "SO_RCVBUF asked (forced with CAP_NET_ADMIN)")
	countLines := flag.Bool("lines", true, "count the lines of each datagram (touches the data, as a parser would)")
	slots := flag.Int("slots", defaultSlots, "datagrams one recvmmsg can return")
	maxWait := flag.Duration("max-wait", udppace.MaxWait, "with --pace, the longest sleep between reads")
	pace := flag.Bool("pace", false, "sleep between reads as Plumbago's UDP readers do (ingest/udppace): the batched floor")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().Is4() {
		fmt.Fprintln(os.Stderr, "udpfloor: --addr must be IPv4 host:port:", *addr)
		os.Exit(2)
	}
	var datagrams, lines, reads atomic.Uint64
	for i := 0; i < *sockets; i++ {
		fd, err := listen(ap, *rcvbuf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "udpfloor:", err)
			os.Exit(1)
		}
		var p *udppace.Pacer
		if *pace {
			got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
			if err != nil {
				fmt.Fprintln(os.Stderr, "udpfloor: SO_RCVBUF:", err)
				os.Exit(1)
			}
			p = udppace.NewMax(*slots, got, *maxWait)
		}
		go read(fd, *slots, *countLines, p, &datagrams, &lines, &reads)
	}
	fmt.Printf("udpfloor pid %d reading %s with %d sockets (paced: %v)\n", os.Getpid(), *addr, *sockets, *pace)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	user := float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
	sys := float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
	d, l := datagrams.Load(), lines.Load()
	fmt.Printf("datagrams %d lines %d reads %d user %.3f s system %.3f s", d, l, reads.Load(), user, sys)
	if d > 0 {
		fmt.Printf(" = %.3f us per datagram, %.3f us per line", (user+sys)*1e6/float64(d), (user+sys)*1e6/float64(max(l, 1)))
	}
	fmt.Println()
}

func listen(ap netip.AddrPort, rcvbuf int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return -1, fmt.Errorf("SO_REUSEPORT: %w", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return -1, fmt.Errorf("bind %s: %w", ap, err)
	}
	return fd, nil
}

// read is the whole receiver: one blocking recvmmsg per wake-up, and with a
// pacer the sleep it asks for after each read, then a raw non-blocking
// recvmmsg first, as the server's readers do (ingest/udpreader_linux.go).
func read(fd, slots int, countLines bool, pace *udppace.Pacer, datagrams, lines, reads *atomic.Uint64) {
	runtime.LockOSThread()
	hdrs := make([]mmsghdr, slots)
	iovs := make([]unix.Iovec, slots)
	buf := make([]byte, slots*slotSize)
	for i := range hdrs {
		iovs[i].Base = &buf[i*slotSize]
		iovs[i].SetLen(slotSize)
		hdrs[i].hdr.Iov = &iovs[i]
		hdrs[i].hdr.SetIovlen(1)
	}
	start := time.Now()
	slept := false
	for {
		var r uintptr
		errno := syscall.EAGAIN
		if slept {
			r, _, errno = syscall.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
				uintptr(unsafe.Pointer(&hdrs[0])), uintptr(slots), unix.MSG_DONTWAIT, 0, 0)
			slept = false
		}
		if errno == syscall.EAGAIN {
			r, _, errno = syscall.Syscall6(unix.SYS_RECVMMSG, uintptr(fd),
				uintptr(unsafe.Pointer(&hdrs[0])), uintptr(slots), unix.MSG_WAITFORONE, 0, 0)
		}
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			fmt.Fprintln(os.Stderr, "udpfloor: recvmmsg:", errno)
			os.Exit(1)
		}
		n := int(r)
		if countLines {
			l := 0
			for i := 0; i < n; i++ {
				d := buf[i*slotSize : i*slotSize+int(hdrs[i].n)]
				l += bytes.Count(d, []byte{'\n'})
				if len(d) > 0 && d[len(d)-1] != '\n' {
					l++
				}
			}
			lines.Add(uint64(l))
		}
		datagrams.Add(uint64(n))
		reads.Add(1)
		if pace != nil {
			size := 0
			for i := 0; i < n; i++ {
				size += int(hdrs[i].n)
			}
			if d := pace.Wait(int64(time.Since(start)), n, size); d > 0 {
				udppace.Sleep(d)
				slept = true
			}
		}
	}
}
