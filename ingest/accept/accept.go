package accept

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Back-off between accepts that failed for want of resources.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// LogEvery is the least time between two logged accept failures of one
// listener; the failures in between are counted in the next message.
const LogEvery = 10 * time.Second

// Reasons an accept failed, as counted by Stats and shown in metrics.
const (
	ReasonEMFILE = "emfile" // the process's descriptor limit (RLIMIT_NOFILE)
	ReasonENFILE = "enfile" // the system's file table (fs.file-max)
	ReasonNoMem  = "nomem"  // ENOBUFS or ENOMEM
	ReasonOther  = "other"  // any other error that did not close the listener
)

// Reasons lists every reason, in the order metrics show them.
var Reasons = []string{ReasonEMFILE, ReasonENFILE, ReasonNoMem, ReasonOther}

// Limit caps the connections open at once across the listeners sharing it.
type Limit struct {
	max  int64
	open atomic.Int64
}

// NewLimit returns a limit of max open connections; max <= 0 means none.
func NewLimit(max int) *Limit { return &Limit{max: int64(max)} }

// Max returns the limit (0: none).
func (l *Limit) Max() int {
	if l == nil || l.max <= 0 {
		return 0
	}
	return int(l.max)
}

// Open returns how many connections hold a slot.
func (l *Limit) Open() int64 {
	if l == nil {
		return 0
	}
	return l.open.Load()
}

func (l *Limit) take() bool {
	if l == nil {
		return true
	}
	if n := l.open.Add(1); l.max > 0 && n > l.max {
		l.open.Add(-1)
		return false
	}
	return true
}

func (l *Limit) give() {
	if l != nil {
		l.open.Add(-1)
	}
}

// Config configures a Listener.
type Config struct {
	// Name names the listener in logs ("carbon", "http").
	Name string
	// Limit, when not nil, caps open connections (shared with other
	// listeners as the caller chooses).
	Limit *Limit
	// Reserve keeps a spare descriptor to accept one connection while the
	// process is out of descriptors (see the package doc).
	Reserve bool
	// PerConn is how many descriptors the caller needs for one connection
	// (the accepted one included; default 1): Failing clears only once
	// that many can be opened.
	PerConn int
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Stats are a listener's counters.
type Stats struct {
	// Errors counts failed accepts by reason (the Reasons constants).
	Errors map[string]uint64
	// Rejected counts connections closed at once because the Limit was
	// reached.
	Rejected uint64
	// Accepted counts connections handed on.
	Accepted uint64
}

// Listener accepts connections, surviving descriptor exhaustion.
type Listener struct {
	ln  *net.TCPListener
	cfg Config

	errs     [4]atomic.Uint64 // by index in Reasons
	rejected atomic.Uint64
	accepted atomic.Uint64
	failing  atomic.Pointer[failure]

	reserveMu sync.Mutex
	reserve   *os.File

	// Used by the goroutine calling Accept only.
	backoff    time.Duration
	lastSpare  bool // the last connection came on the spare descriptor
	lastLog    time.Time
	suppressed uint64

	closeOnce sync.Once
	closed    chan struct{}
}

type failure struct {
	err   error
	since time.Time
}

// New wraps ln. The caller must call Close.
func New(ln *net.TCPListener, cfg Config) *Listener {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Listener{ln: ln, cfg: cfg, closed: make(chan struct{})}
	if cfg.Reserve {
		l.takeReserve()
	}
	return l
}

func (l *Listener) takeReserve() {
	l.reserveMu.Lock()
	defer l.reserveMu.Unlock()
	if l.reserve != nil {
		return
	}
	if f, err := os.Open(os.DevNull); err == nil {
		l.reserve = f
	}
}

// giveReserve closes the spare descriptor; false if there was none.
func (l *Listener) giveReserve() bool {
	l.reserveMu.Lock()
	defer l.reserveMu.Unlock()
	if l.reserve == nil {
		return false
	}
	l.reserve.Close()
	l.reserve = nil
	return true
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Limit returns the listener's connection limit (nil: none).
func (l *Listener) Limit() *Limit { return l.cfg.Limit }

// Close closes the listening socket: Accept returns net.ErrClosed.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.closed)
		err = l.ln.Close()
	})
	return err
}

// Failing returns the error of the last accept if it failed for want of
// resources and none has succeeded since, else nil. A listener without
// pending connections has nothing to accept to prove it recovered, so
// Failing also clears the failure once a descriptor can be opened again.
func (l *Listener) Failing() error {
	f := l.failing.Load()
	if f == nil {
		return nil
	}
	if l.descriptorsFree() {
		if l.failing.CompareAndSwap(f, nil) {
			l.logRecovered(f)
		}
		return nil
	}
	return fmt.Errorf("%w (since %s)", f.err, f.since.UTC().Format(time.RFC3339))
}

// descriptorsFree reports whether PerConn descriptors can be opened.
func (l *Listener) descriptorsFree() bool {
	var probes []*os.File
	defer func() {
		for _, p := range probes {
			p.Close()
		}
	}()
	for range max(l.cfg.PerConn, 1) {
		p, err := os.Open(os.DevNull)
		if err != nil {
			return false
		}
		probes = append(probes, p)
	}
	return true
}

// Stats returns the listener's counters.
func (l *Listener) Stats() Stats {
	s := Stats{Errors: map[string]uint64{}, Rejected: l.rejected.Load(), Accepted: l.accepted.Load()}
	for i, r := range Reasons {
		s.Errors[r] = l.errs[i].Load()
	}
	return s
}

// AcceptTCP waits for the next connection within the limit; the caller
// then reports OK or Fail. release gives its slot in the Limit back; call it once, when the connection is closed
// (it is not tied to conn.Close, so the connection may be handed to code
// that closes it in its own way). It returns an error only once the
// listener is closed.
func (l *Listener) AcceptTCP() (conn *net.TCPConn, release func(), err error) {
	for {
		if l.backoff > 0 {
			select {
			case <-time.After(l.backoff):
			case <-l.closed:
				return nil, nil, net.ErrClosed
			}
		}
		c, spare, err := l.acceptOne()
		if err != nil {
			select {
			case <-l.closed:
				return nil, nil, net.ErrClosed
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, nil, err
			}
			l.backoff = min(max(2*l.backoff, minBackoff), maxBackoff)
			continue
		}
		l.backoff = 0
		l.lastSpare = spare
		if !l.cfg.Limit.take() {
			l.rejected.Add(1)
			c.SetLinger(0) // a reset, so the peer learns at once
			c.Close()
			continue
		}
		l.accepted.Add(1)
		var once atomic.Bool
		return c, func() {
			if once.CompareAndSwap(false, true) {
				l.cfg.Limit.give()
			}
		}, nil
	}
}

// OK reports that the caller could use the last connection AcceptTCP
// returned: the listener works again (unless that connection came on the
// spare descriptor). Call it from the goroutine calling AcceptTCP; Accept
// calls it itself.
func (l *Listener) OK() {
	if f := l.failing.Load(); f != nil && !l.lastSpare && l.failing.CompareAndSwap(f, nil) {
		l.logRecovered(f)
	}
}

// logRecovered logs the end of failure f, once: by whichever of OK (a
// connection was used) and Failing (descriptors can be opened again) clears it.
func (l *Listener) logRecovered(f *failure) {
	l.cfg.Logger.Info("accepting connections again", "listener", l.cfg.Name, "addr", l.ln.Addr().String(),
		"after", time.Since(f.since).Round(time.Millisecond).String())
}

// Fail reports that the caller could not use the last accepted connection
// (it closed it): a descriptor-exhaustion error counts and backs off like a
// failed accept. Call it from the goroutine calling AcceptTCP.
func (l *Listener) Fail(err error) {
	reason := reasonOf(err)
	l.count(reason, err)
	if reason != ReasonOther {
		l.backoff = min(max(2*l.backoff, minBackoff), maxBackoff)
	}
}

// acceptOne accepts one connection, counting a failure; on EMFILE it gives
// the spare descriptor, if any, to the connection (spare reports that).
func (l *Listener) acceptOne() (c *net.TCPConn, spare bool, err error) {
	if l.cfg.Reserve {
		l.takeReserve()
	}
	c, err = l.ln.AcceptTCP()
	if err == nil || errors.Is(err, net.ErrClosed) {
		return c, false, err
	}
	reason := reasonOf(err)
	l.count(reason, err)
	if reason == ReasonEMFILE && l.giveReserve() {
		if c, err2 := l.ln.AcceptTCP(); err2 == nil {
			return c, true, nil
		}
	}
	return nil, false, err
}

// Accept implements net.Listener: the connection's Close gives its slot
// back.
func (l *Listener) Accept() (net.Conn, error) {
	c, release, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	l.OK()
	if l.cfg.Reserve {
		// Whichever connection closes first gives its descriptor back
		// to the spare, before another part of the process takes it.
		r := release
		release = func() { r(); l.takeReserve() }
	}
	return &conn{TCPConn: c, release: release}, nil
}

type conn struct {
	*net.TCPConn
	release func()
	closed  atomic.Bool
}

func (c *conn) Close() error {
	err := c.TCPConn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.release()
	}
	return err
}

func (l *Listener) count(reason string, err error) {
	for i, r := range Reasons {
		if r == reason {
			l.errs[i].Add(1)
		}
	}
	if reason != ReasonOther && l.failing.Load() == nil {
		l.failing.Store(&failure{err: err, since: time.Now()})
	}
	if now := time.Now(); now.Sub(l.lastLog) >= LogEvery {
		l.cfg.Logger.Error("accepting connections failed; backing off until descriptors are free", "listener", l.cfg.Name,
			"addr", l.ln.Addr().String(), "err", err, "reason", reason, "failures_not_logged", l.suppressed)
		l.lastLog, l.suppressed = now, 0
	} else {
		l.suppressed++
	}
}

func reasonOf(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ReasonOther
	}
	switch errno {
	case syscall.EMFILE:
		return ReasonEMFILE
	case syscall.ENFILE:
		return ReasonENFILE
	case syscall.ENOBUFS, syscall.ENOMEM:
		return ReasonNoMem
	}
	return ReasonOther
}
