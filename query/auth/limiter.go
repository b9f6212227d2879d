package auth

import (
	"sync"
	"time"
)

// maxClients bounds the clients a FailureLimiter remembers.
const maxClients = 65536

// FailureLimiter bounds failed login attempts per client with a token
// bucket: a client may fail perMinute times in a burst, then once every
// minute/perMinute. It is safe for concurrent use.
type FailureLimiter struct {
	mu        sync.Mutex
	perMinute float64
	clients   map[string]*failBucket
}

type failBucket struct {
	tokens float64
	at     time.Time
}

// NewFailureLimiter returns a limiter allowing perMinute failures a minute
// per client, or nil (no limit) when perMinute <= 0.
func NewFailureLimiter(perMinute int) *FailureLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &FailureLimiter{perMinute: float64(perMinute), clients: map[string]*failBucket{}}
}

// refill brings b's tokens up to now; the caller holds l.mu.
func (l *FailureLimiter) refill(b *failBucket, now time.Time) {
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.at).Minutes()*l.perMinute)
	b.at = now
}

// Allow reports whether client may try to log in now; when it may not,
// wait says how long until it may.
func (l *FailureLimiter) Allow(client string, now time.Time) (ok bool, wait time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.clients[client]
	if b == nil {
		return true, 0
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.perMinute * float64(time.Minute))
}

// Fail records a failed attempt by client.
func (l *FailureLimiter) Fail(client string, now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.clients[client]
	if b == nil {
		if len(l.clients) >= maxClients {
			l.sweep(now)
		}
		b = &failBucket{tokens: l.perMinute, at: now}
		l.clients[client] = b
	}
	l.refill(b, now)
	b.tokens = max(b.tokens-1, 0)
}

// sweep forgets clients whose bucket is full again, and everyone if that
// is not enough; the caller holds l.mu.
func (l *FailureLimiter) sweep(now time.Time) {
	for k, b := range l.clients {
		l.refill(b, now)
		if b.tokens >= l.perMinute {
			delete(l.clients, k)
		}
	}
	if len(l.clients) >= maxClients {
		clear(l.clients)
	}
}
