package udppace

import "time"

// MaxWait is the longest sleep a Pacer asks for: it bounds the latency a
// datagram gains and how long a stopping reader takes to notice. 4 ms
// (with the server's 256 recvmmsg slots) cut the kernel's CPU per datagram
// to about 0.7× of 1 ms and 64 slots at 37.5 k datagrams/s per socket;
// statsd aggregates over 10 s flushes, so 4 ms of receive delay is
// invisible there, and a flush or OnLoops never waits for a sleep (the
// reader sleeps without its loop's lock).
const MaxWait = 4 * time.Millisecond

// minWait: a shorter sleep than this saves less than it costs.
const minWait = 50 * time.Microsecond

// Pacer is one reader's pacing state. It is not safe for concurrent use.
type Pacer struct {
	slots    int     // datagrams one read can return
	bufBytes float64 // the socket's receive buffer as the kernel accounts it (getsockopt SO_RCVBUF)
	last     int64   // monotonic nanoseconds at the previous read's return (0: none yet)
	rate     float64 // datagrams per nanosecond, smoothed
	size     float64 // bytes per datagram, smoothed
	maxWait  time.Duration
}

// New returns a Pacer for a reader whose reads return up to slots
// datagrams from a socket whose SO_RCVBUF (as getsockopt reports it, the
// limit on the kernel's accounting of queued datagrams) is bufBytes.
func New(slots, bufBytes int) *Pacer { return NewMax(slots, bufBytes, MaxWait) }

// NewMax is New with another bound than MaxWait on one sleep (udpfloor's
// experiments with longer sleeps and bigger batches).
func NewMax(slots, bufBytes int, maxWait time.Duration) *Pacer {
	return &Pacer{slots: max(slots, 1), bufBytes: float64(bufBytes), maxWait: max(maxWait, minWait)}
}

// Wait is called after each read that returned n datagrams of total bytes
// between them, at now (monotonic nanoseconds, e.g. time.Since of a fixed
// start); it returns how long to sleep before the next blocking read (0:
// read at once).
func (p *Pacer) Wait(now int64, n, bytes int) time.Duration {
	if n <= 0 {
		return 0
	}
	last := p.last
	p.last = now
	if last == 0 || now <= last {
		return 0
	}
	// The n datagrams queued since the previous read returned: while it
	// was handled, during the sleep and while the read blocked.
	r := float64(n) / float64(now-last)
	sz := float64(bytes) / float64(n)
	if p.rate == 0 {
		p.rate, p.size = r, sz
	} else {
		p.rate += (r - p.rate) / 4
		p.size += (sz - p.size) / 4
	}
	if n*4 >= p.slots {
		// A quarter of the slots or more: the wake-up is already shared
		// by enough datagrams, and near saturation (batches full or
		// nearly) a sleep only loses time the reader needs.
		return 0
	}
	if p.rate*float64(p.maxWait) < 4 {
		return 0 // too slow for a sleep to gather a batch
	}
	d := float64(p.slots) * 3 / 4 / p.rate
	// The kernel charges a queued datagram its buffer's true size: on
	// Linux 6 about 2× the payload plus ~800 bytes for small datagrams,
	// so 2× + 1 KiB overestimates it (fewer fit, the sleep is shorter).
	fill := p.bufBytes / ((2*p.size + 1024) * p.rate)
	d = min(d, fill/4, float64(p.maxWait))
	if d < float64(minWait) {
		return 0
	}
	return time.Duration(d)
}
