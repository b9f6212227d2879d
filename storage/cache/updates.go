package cache

import (
	"math"
	"sync"
	"time"
)

// updateBucket is the token bucket of Options.MaxUpdatesPerSecond (carbon's
// MAX_UPDATES_PER_SECOND): it holds at most one second of updates and
// refills at the rate. A zero rate takes everything.
type updateBucket struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func (b *updateBucket) init(rate int) {
	b.rate = float64(rate)
	b.tokens = b.rate
	b.last = time.Now()
}

// take returns how many of want series writes may go now (at least one
// while the bucket holds a token) and spends them.
func (b *updateBucket) take(want int, now time.Time) int {
	if b.rate <= 0 || want == 0 {
		return want
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = math.Min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	n := min(want, int(b.tokens))
	b.tokens -= float64(n)
	return n
}
