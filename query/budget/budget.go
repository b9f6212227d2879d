package budget

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrExhausted is returned when a reservation could not be made within the
// allowed wait because other queries hold the budget.
var ErrExhausted = errors.New("query memory budget exhausted")

// ErrTooLarge is returned for a reservation larger than the whole budget.
var ErrTooLarge = errors.New("larger than the query memory budget")

// Budget is a byte budget shared by concurrent queries. The zero value is
// not usable; call New.
type Budget struct {
	mu      sync.Mutex
	cap     int64
	used    int64
	queue   []*waiter // FIFO: the head is served first
	stats   Stats
	maxWait time.Duration
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

// Stats are the budget's counters.
type Stats struct {
	Capacity int64  // bytes
	Used     int64  // bytes reserved now
	Waiting  int    // queries in the queue now
	Granted  uint64 // reservations granted (at once or after waiting)
	Waited   uint64 // reservations that had to wait
	Refused  uint64 // reservations refused (wait ran out or too large)
}

// New returns a budget of capBytes (at least 1) where Reserve waits at most
// maxWait.
func New(capBytes int64, maxWait time.Duration) *Budget {
	return &Budget{cap: max(capBytes, 1), maxWait: maxWait}
}

// Capacity returns the budget in bytes.
func (b *Budget) Capacity() int64 { return b.cap }

// Reserve reserves n bytes, waiting in FIFO order up to the budget's
// maximum wait (or until ctx ends) while other reservations hold it.
func (b *Budget) Reserve(ctx context.Context, n int64) error {
	if n <= 0 {
		return nil
	}
	b.mu.Lock()
	if n > b.cap {
		b.stats.Refused++
		b.mu.Unlock()
		return fmt.Errorf("reserving %d bytes: %w of %d bytes", n, ErrTooLarge, b.cap)
	}
	if len(b.queue) == 0 && b.used+n <= b.cap {
		b.used += n
		b.stats.Granted++
		b.mu.Unlock()
		return nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	b.queue = append(b.queue, w)
	b.stats.Waited++
	b.mu.Unlock()

	timer := time.NewTimer(b.maxWait)
	defer timer.Stop()
	var cause error
	select {
	case <-w.ready:
		return nil
	case <-timer.C:
		cause = fmt.Errorf("waited %s for %d bytes: %w (%d bytes)", b.maxWait, n, ErrExhausted, b.cap)
	case <-ctx.Done():
		cause = fmt.Errorf("waiting for %d bytes of the query memory budget: %w", n, ctx.Err())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted while timing out: keep it
		return nil
	default:
	}
	for i, q := range b.queue {
		if q == w {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			break
		}
	}
	b.stats.Refused++
	b.grantLocked() // the head may have changed
	return cause
}

// TryReserve reserves n bytes if they are free now and nobody waits.
func (b *Budget) TryReserve(n int64) bool {
	if n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 && b.used+n <= b.cap {
		b.used += n
		b.stats.Granted++
		return true
	}
	b.stats.Refused++
	return false
}

// Grow reserves n more bytes for a query already running if they are free
// now, ahead of queued reservations: finishing it frees the budget sooner.
func (b *Budget) Grow(n int64) bool {
	if n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n <= b.cap {
		b.used += n
		return true
	}
	b.stats.Refused++
	return false
}

// Release returns n reserved bytes and wakes the waiters that now fit.
func (b *Budget) Release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		panic("budget: released more than reserved")
	}
	b.grantLocked()
	b.mu.Unlock()
}

// grantLocked grants queued reservations in order while the head fits.
func (b *Budget) grantLocked() {
	for len(b.queue) > 0 && b.used+b.queue[0].n <= b.cap {
		w := b.queue[0]
		b.queue = b.queue[1:]
		b.used += w.n
		b.stats.Granted++
		close(w.ready)
	}
}

// Stats returns the counters.
func (b *Budget) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Capacity, s.Used, s.Waiting = b.cap, b.used, len(b.queue)
	return s
}
