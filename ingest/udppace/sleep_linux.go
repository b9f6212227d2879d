package udppace

import (
	"time"

	"golang.org/x/sys/unix"
)

// Sleep sleeps d on the calling thread in an ordinary system call, so the
// Go runtime may hand the reader's P to other goroutines meanwhile (EINTR
// ends the sleep early). A raw nanosleep that keeps the P can cost fewer
// thread switches (udpfloor, 450,000 datagrams, three alternated runs at
// load 14–16: 22 thousand context switches against 43–48 thousand; not
// consistently at load 24–30), but in the server a reader asleep
// on its P left the other reader, the flush and the garbage collector one
// P between them: the other socket overflowed (4.6% and 26% of 12.0 and
// 10.6 M metrics lost with 32 MiB buffers at load 27–33, where the ordinary
// sleep and the unpaced reader lost 0–0.7%).
func Sleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	_ = unix.Nanosleep(&ts, nil)
}
