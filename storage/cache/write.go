package cache

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/plumbago/plumbago/storage"
)

// Syncer is a backend whose writes are durable only once Sync returns
// (whisper writes through the page cache). The cache syncs it before it
// deletes the write-ahead log segments covering what was written.
type Syncer interface {
	Sync() error
}

// writeOnce hands what is buffered in the shard to the backend: every
// dirty series, except those waiting out a retry back-off (force: all of
// them, for Sync and Close). Series the backend fails keep their points,
// in order before any newer ones, and are retried; the WAL is trimmed only
// past the oldest point still unwritten, and only after the backend synced.
func (sh *shard) writeOnce(force, final bool) {
	sh.writeMu.Lock()
	defer sh.writeMu.Unlock()
	c := sh.c
	now := time.Now()
	if !force && now.Before(sh.blockedUntil) {
		return
	}
	sh.mu.Lock()
	if len(sh.deferred) > 0 {
		sh.admitDeferred(final)
	}
	marked := sh.dirty
	sh.dirty = sh.spare[:0]
	due := marked[:0]
	allowed := len(marked)
	if !force {
		allowed = c.updates.take(len(marked), now)
	}
	for _, s := range marked {
		if !force && s.x != nil && now.UnixNano() < s.x.retryAt {
			sh.dirty = append(sh.dirty, s) // still backing off: stays dirty
			continue
		}
		if len(due) >= allowed {
			// Over MaxUpdatesPerSecond: written in a later cycle.
			sh.dirty = append(sh.dirty, s)
			c.throttled.Add(1)
			continue
		}
		// The pending points become the flushing part; new ones go
		// after them in the same buffer (points.go).
		s.startFlush()
		s.unset(dirty)
		due = append(due, s)
	}
	// Every point taken above was logged before this rotation (both under
	// sh.mu); nothing taken, nothing to rotate (a stalled shard would
	// otherwise make a segment per wake-up).
	var walSeq uint64
	rotated := false
	if sh.wal != nil && len(due) > 0 {
		seq, err := sh.wal.rotate()
		if err != nil {
			c.walFailed(err)
			c.logWALError("rotating write-ahead log", err)
		} else {
			walSeq, rotated = seq, true
		}
	}
	sh.mu.Unlock()
	clean := true // no series refused for want of space or writability
	over := 0     // points of due[start] fillBatch decoded already
	for start := 0; start < len(due); {
		var end, n int
		end, n, over = sh.fillBatch(due, start, over)
		t0 := time.Now()
		err := c.store.Write(&sh.batch)
		c.lastWrite.Store(int64(time.Since(t0)))
		c.writeOps.Add(1)
		if err != nil && storage.Unavailable(err) && !isWriteError(err) {
			// The store takes nothing now: keep this batch and the rest.
			sh.noteUnavailable(err, now)
			sh.settle(due[start:], nil, err, walSeq)
			clean = false
			break
		}
		if !sh.settle(due[start:end], &sh.batch, err, walSeq) {
			clean = false
		}
		c.buffered.Add(-int64(n - sh.kept))
		select {
		case sh.drained <- struct{}{}:
		default:
		}
		start = end
	}
	if clean && len(due) > 0 {
		sh.blocked = 0
	}
	// Forget every series of the cycle's batches, not only the last
	// (shorter) one's: stale entries would pin their point buffers.
	clear(sh.batch.Series[:cap(sh.batch.Series)])
	clear(marked)
	sh.mu.Lock()
	sh.spare = marked[:0]
	sh.mu.Unlock()
	if rotated {
		sh.trimWAL(walSeq)
	}
}

// writeScratchPoints bounds the points one Store.Write carries beside
// MaxWritePoints: they are decoded into a scratch each shard keeps
// (16 bytes a point: 512 KiB; 4 MiB at MaxWritePoints' default took a
// quarter of the live heap at W1's peak).
const writeScratchPoints = 1 << 15

// fillBatch puts due[start:end] into the shard's batch, bounded by
// MaxWritePoints and writeScratchPoints (a series with more points goes
// alone), and returns end and the number of points. The points are
// decoded into the shard's scratch (sh.pts) under the read lock: ingest
// appends to the same buffers meanwhile, after the flushing parts read
// here. The series that did not fit (due[end]) stays decoded at the end
// of the scratch: fillBatch returns its point count as over, and the next
// call, given it back, moves those points to the front instead of
// decoding them again.
func (sh *shard) fillBatch(due []*series, start, over int) (end, n, next int) {
	sh.batch.Reset()
	pts := sh.pts
	copy(pts, pts[len(pts)-over:])
	pts = pts[:over]
	limit := min(sh.c.opts.MaxWritePoints, writeScratchPoints)
	sh.mu.RLock()
	for end = start; end < len(due); end++ {
		s := due[end]
		if end > start || over == 0 {
			pts = decodePoints(pts, s.flushingPart())
		}
		if n > 0 && len(pts) > limit {
			next = len(pts) - n
			break
		}
		// Points is set below, once pts stopped growing; its length
		// says where this series' points end.
		sh.batch.Series = append(sh.batch.Series, storage.SeriesPoints{Name: s.name, Points: pts[n:len(pts):len(pts)]})
		n = len(pts)
	}
	sh.mu.RUnlock()
	off := 0
	for i := range sh.batch.Series {
		k := len(sh.batch.Series[i].Points)
		sh.batch.Series[i].Points = pts[off : off+k : off+k]
		off += k
	}
	sh.pts = pts
	return end, n, next
}

func isWriteError(err error) bool {
	var we *storage.WriteError
	return errors.As(err, &we)
}

// noteUnavailable blocks the shard's writes for a back-off after the store
// refused a whole batch (no space, read-only).
func (sh *shard) noteUnavailable(err error, now time.Time) {
	sh.blocked++
	sh.blockedUntil = now.Add(sh.c.backoff(sh.blocked))
	sh.unavail.Store(&err)
	if sh.blocked == 1 {
		sh.c.opts.Logger.Error("storage takes no writes; keeping the points buffered and retrying", "err", err)
	}
}

// backoff is the wait after the k-th failure in a row.
func (c *Cache) backoff(k int) time.Duration {
	d := c.opts.RetryBackoff
	for i := 1; i < k && d < c.opts.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, c.opts.MaxRetryBackoff)
}

// settle accounts for a write of series ss (ss[i] was batch.Series[i];
// batch nil: none of them was tried) that returned err: written series are
// committed, failed ones keep their points for a retry or, past
// MaxWriteRetries, drop them. sh.kept is set to the points kept. It
// reports false when some series was refused as unavailable.
func (sh *shard) settle(ss []*series, batch *storage.Batch, err error, walSeq uint64) bool {
	c := sh.c
	var failed []storage.SeriesError
	all := err != nil
	if we := (*storage.WriteError)(nil); errors.As(err, &we) {
		failed, all = we.Failed, false
	}
	clean := true
	now := time.Now()
	sh.kept = 0
	var committed, dropped uint64
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i, s := range ss {
		var serr error
		switch {
		case batch == nil || all:
			serr = err
		case len(failed) > 0 && failed[0].Index == i:
			serr = failed[0].Err
			for len(failed) > 0 && failed[0].Index == i {
				failed = failed[1:]
			}
		}
		var n uint64
		if batch != nil {
			n = uint64(len(batch.Series[i].Points))
		} else {
			n = uint64(countPoints(s.flushingPart()))
		}
		sh.unwait(s)
		switch {
		case serr == nil:
			committed += n
			sh.written(s, walSeq)
			if batch != nil {
				sh.adoptName(s, batch.Series[i].Name)
			}
		case storage.Unavailable(serr):
			clean = false
			// A copy of its own: &serr would move serr to the heap for
			// every series of every write (1 allocation per series).
			unavail := serr
			sh.unavail.Store(&unavail)
			s.set(waiting)
			sh.waiting.Add(1)
			sh.keep(s, now.Add(c.backoff(sh.blocked+1)))
			sh.kept += int(n)
		case int(s.failures()) >= c.opts.MaxWriteRetries:
			dropped += n
			c.opts.Logger.Error("dropping points of a series that failed every write",
				"series", s.name, "points", n, "attempts", s.failures()+1, "err", serr)
			sh.written(s, walSeq)
		default:
			s.rare().failures++
			c.writeRetries.Add(1)
			if s.x.failures == 1 {
				c.opts.Logger.Warn("writing a series failed; keeping its points to retry", "series", s.name, "points", n, "err", serr)
			}
			sh.keep(s, now.Add(c.backoff(int(s.x.failures))))
			sh.kept += int(n)
		}
	}
	c.committed.Add(committed)
	c.writeErrors.Add(dropped)
	return clean
}

// adoptName makes s hold name, the store's copy of its name
// (storage.Store.Write may hand one back), instead of its own: at a burst
// of a million new series the write buffer's copies were 32 MB of the
// peak's live heap. Caller holds sh.mu.
func (sh *shard) adoptName(s *series, name string) {
	if unsafe.StringData(name) != unsafe.StringData(s.name) && name == s.name {
		s.name = name
	}
}

// keep puts a failed series' points back in front of any newer ones and
// marks it dirty for a retry at retryAt. Caller holds sh.mu.
func (sh *shard) keep(s *series, retryAt time.Time) {
	s.unflush()
	s.rare().retryAt = retryAt.UnixNano()
	if !s.is(dirty) {
		s.set(dirty)
		sh.dirty = append(sh.dirty, s)
	}
}

// unwait clears a series' "waiting for the store" mark. Caller holds sh.mu.
func (sh *shard) unwait(s *series) {
	if s.is(waiting) {
		s.unset(waiting)
		sh.waiting.Add(-1)
	}
}

// written retires a series' flushing part after its points were written
// (or dropped), and its write failures. Points that arrived meanwhile
// were logged after the cycle's WAL rotation, in segments past walSeq.
// Caller holds sh.mu.
func (sh *shard) written(s *series, walSeq uint64) {
	before := held(s)
	s.dropFlushing()
	if s.x != nil {
		s.x.failures = 0
		if s.x.bind == nil {
			s.x = nil // nothing else lives there
		}
	}
	if len(s.buf) == 0 {
		s.unset(unwritten)
	} else {
		s.since = walSeq + 1
	}
	sh.addHeld(held(s) - before)
}

// trimWAL deletes the shard's WAL segments up to walSeq that hold no point
// still unwritten, once the backend has synced what was written.
func (sh *shard) trimWAL(walSeq uint64) {
	c := sh.c
	bound, ok := sh.trimBound(walSeq)
	if !ok {
		return
	}
	if sy, isSyncer := c.store.(Syncer); isSyncer {
		if err := sy.Sync(); err != nil {
			c.walFailed(err)
			c.opts.Logger.Error("syncing the backend; keeping the write-ahead log", "err", err)
			return
		}
		c.storeSyncs.Add(1)
	}
	if err := sh.wal.removeThrough(bound); err != nil {
		c.walFailed(err)
		c.opts.Logger.Error("removing written write-ahead log segments", "err", err)
	}
}

// trimBound is the last segment ≤ walSeq that holds no unwritten point of
// the shard; ok is false when there is none.
func (sh *shard) trimBound(walSeq uint64) (uint64, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	bound := walSeq
	for _, list := range [2][]*series{sh.dirty, sh.deferred} {
		for _, s := range list {
			if s.is(unwritten) && s.since <= bound {
				if s.since == 0 {
					return 0, false
				}
				bound = s.since - 1
			}
		}
	}
	return bound, true
}

// walLogEvery is the least time between two logged WAL failures: on a
// failed volume every sync and rotation of every shard fails.
const walLogEvery = 10 * time.Second

// logWALError logs a WAL failure, at most once per walLogEvery; the line
// says how many were not logged since the last one (all are counted in
// Stats.WALErrors).
func (c *Cache) logWALError(msg string, err error) {
	now := time.Now().UnixNano()
	last := c.walLogAt.Load()
	if now-last < int64(walLogEvery) || !c.walLogAt.CompareAndSwap(last, now) {
		c.walLogQuiet.Add(1)
		return
	}
	c.opts.Logger.Error(msg, "err", err, "not_logged_since_last", c.walLogQuiet.Swap(0))
}

// walFailed records a WAL failure for Health.
func (c *Cache) walFailed(err error) {
	c.walErrors.Add(1)
	c.walErr.Store(&err)
}

// Health reports why the cache cannot make accepted points durable, or nil:
// series wait because the backend refused them as unavailable (no space,
// read-only; the last refusal is named), or the write-ahead log is
// failing. Points are kept meanwhile (ingest is back-pressured once the
// buffer is full). The backend's own state (a store opened read-only with
// nothing to write yet) is the backend's Health, which /healthz reads too.
func (c *Cache) Health() error {
	var errs []error
	for _, sh := range c.shards {
		if sh.waiting.Load() == 0 {
			continue
		}
		if p := sh.unavail.Load(); p != nil {
			errs = append(errs, fmt.Errorf("%d series waiting: %w", c.waitingSeries(), *p))
			break
		}
	}
	if p := c.walErr.Load(); p != nil {
		errs = append(errs, fmt.Errorf("write-ahead log: %w", *p))
	}
	return errors.Join(errs...)
}

// LiftBackPressure lets producers blocked on a full buffer through: the
// shards take their chunks past the buffer's bounds from now on. For
// shutdown while the store takes no writes, so that ingest stops at once
// instead of waiting for room that will not come; the memory it adds is
// what the stopping listeners still hand over.
func (c *Cache) LiftBackPressure() {
	c.unpaced.Store(true)
	for _, sh := range c.shards {
		select {
		case sh.notify <- struct{}{}:
		default:
		}
	}
}

// Stalled reports whether the write buffer is full while the store takes
// no writes (series wait for it): a producer adding points now would block
// until storage comes back. It is cheap enough to ask per UDP datagram.
func (c *Cache) Stalled() bool {
	return c.full() && c.waitingSeries() > 0
}

func (c *Cache) waitingSeries() int64 {
	var n int64
	for _, sh := range c.shards {
		n += sh.waiting.Load()
	}
	return n
}
