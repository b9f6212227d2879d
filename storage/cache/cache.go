package cache

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/limits"
)

// Index is the part of the name index the cache feeds: every accepted metric
// name is added as soon as it is first seen, so find sees it before it is
// written.
type Index interface {
	Add(name string) bool
	// AddNew offers each name (the names of a chunk's points the shard
	// does not hold) to file, saying whether the index knows it (stored or
	// buffered), and adds the unknown ones file accepts: one lookup a
	// name, under one hold of the index's write lock (storage/index).
	// names are not retained.
	AddNew(names []string, file func(i int, known bool) bool) int
	Find(pattern string) ([]storage.Node, error)
	// FindLimit is Find stopping past limit nodes (limit > 0) with an
	// error wrapping storage.ErrTooManyResults.
	FindLimit(pattern string, limit int) ([]storage.Node, error)
}

// Options sizes the cache. DefaultOptions gives working values; tuning
// derives them from the machine.
type Options struct {
	// Shards is the number of storage shards (consumer+writer pairs).
	// Default: 2 × GOMAXPROCS.
	Shards int
	// LaneChunks bounds the chunks in flight per (producer, shard) lane.
	// Default 64.
	LaneChunks int
	// ChunkPoints is the number of points per chunk. Default 512.
	ChunkPoints int
	// MaxBufferedPoints bounds the points buffered (not yet written) across
	// all shards; past it producers block. Default 20,000,000.
	MaxBufferedPoints int
	// MaxBufferedBytes bounds the write buffer's memory that writing gives
	// back (memory.go: point slices with their slack, and the series
	// holding unwritten points); past it producers block, as past
	// MaxBufferedPoints. 0: no byte bound.
	MaxBufferedBytes int64
	// FlushInterval is how often each shard hands its buffered points to the
	// backend. Default 1s.
	FlushInterval time.Duration
	// MaxWritePoints bounds one Store.Write call. Default 262,144; the
	// cache also keeps a call to 32,768 points unless one series holds
	// more (write.go: writeScratchPoints).
	MaxWritePoints int
	// Step gives the step of the archive a fetch of name over (from, now]
	// would use; it is only consulted for metrics the backend does not know
	// yet. Required.
	Step func(name string, from, now int64) int64
	// Logger receives write errors. Default slog.Default().
	Logger *slog.Logger
	// WALDir, when set, turns on the write-ahead log (see wal.go): buffered
	// points survive a crash. Use it for backends without a log of their own.
	WALDir string
	// SyncInterval is how often the WAL is fsynced: the most a power loss
	// can take. Default 1s.
	SyncInterval time.Duration
	// MaxWriteRetries bounds how often a series whose write failed (a
	// corrupt file, an I/O error) is tried again before its points are
	// dropped and counted (Stats.WriteErrors). Points refused because the
	// store cannot take writes for now (storage.Unavailable: no space,
	// read-only) are never dropped: they stay buffered, which back-pressures
	// ingest once the buffer is full. Default 8.
	MaxWriteRetries int
	// RetryBackoff is the wait before the first retry; each further
	// failure doubles it, up to MaxRetryBackoff. Defaults 1s and 10s.
	RetryBackoff, MaxRetryBackoff time.Duration
	// Limits, when set, decides for every name the cache has not seen and
	// the index does not hold (limits.go): admitted, deferred (over the
	// creation rate: its points wait here, not written and not in the
	// index, until a later write cycle admits it) or rejected (its points
	// are dropped and counted). It also applies throughput quotas per point.
	Limits *limits.Limits
	// MaxDeferredPoints bounds the points of deferred series; past it their
	// points are dropped and counted (limits.DeferredFull). Default
	// MaxBufferedPoints/4.
	MaxDeferredPoints int
	// MaxUpdatesPerSecond bounds series writes per second over all shards
	// (carbon's MAX_UPDATES_PER_SECOND): points of series not written in a
	// cycle stay buffered for the next. Sync and Close write everything.
	// 0 = no limit.
	MaxUpdatesPerSecond int
	// IdleSeriesAfter is how long a series with nothing buffered is kept
	// after its last point: past it the shard forgets it (its struct, its
	// map entry and its name, unless the store keeps the name) and a later
	// point files it again, as carbon-cache drops a metric once written.
	// Sources sending more often than this reuse their buffers without
	// allocating. Default 2 minutes; negative: never.
	IdleSeriesAfter time.Duration
	// OnIdleForget, when set, is called by a shard's writer after a sweep
	// forgot n > 0 idle series (the server returns the freed memory to the
	// OS when n is large: nothing else may run a GC on an idle server).
	OnIdleForget func(n int)
}

// DefaultOptions returns the defaults documented on Options.
func DefaultOptions() Options {
	return Options{
		Shards:            2 * runtime.GOMAXPROCS(0),
		LaneChunks:        64,
		ChunkPoints:       512,
		MaxBufferedPoints: 20_000_000,
		FlushInterval:     time.Second,
		MaxWritePoints:    262_144,
		Logger:            slog.Default(),
		SyncInterval:      time.Second,
		MaxWriteRetries:   8,
		RetryBackoff:      time.Second,
		MaxRetryBackoff:   10 * time.Second,
		IdleSeriesAfter:   2 * time.Minute,
	}
}

// Stats are the cache's counters.
type Stats struct {
	Received       uint64 // points accepted from producers
	Committed      uint64 // points handed to the backend and written
	WriteErrors    uint64 // points dropped after their series failed MaxWriteRetries+1 writes
	WriteRetries   uint64 // series writes that failed and were kept to try again
	StoreSyncs     uint64 // backend syncs before the WAL was trimmed (whisper)
	Waiting        int64  // series whose points wait for the store to take writes again
	Deferred       int64  // series waiting for the creation rate (Options.Limits)
	DeferredPoints int64  // their points
	Throttled      uint64 // series writes put off by MaxUpdatesPerSecond
	Buffered       int64  // points accepted but not yet written
	BufferedBytes  int64  // memory the buffer holds for them (memory.go; bounded by MaxBufferedBytes)
	Series         int    // series known to the cache (idle ones are forgotten: IdleSeriesAfter)
	IdleEvicted    uint64 // series forgotten after IdleSeriesAfter without a point
	WriteOps       uint64 // Store.Write calls
	BlockedWaits   uint64 // times a producer waited for room (backpressure)
	WALErrors      uint64 // write-ahead log appends, syncs or rotations that failed
	LastWriteNanos int64  // duration of the last Store.Write
}

// Cache is the sharded write buffer. Create it with New, get one Producer per
// goroutine that adds points, and Close it after the producers stopped.
type Cache struct {
	opts   Options
	store  storage.Store
	index  Index
	seed   maphash.Seed
	shards []*shard

	received     atomic.Uint64
	ingested     atomic.Uint64
	walErrors    atomic.Uint64
	replaySegs   []segment
	stopSync     chan struct{}
	syncDone     chan struct{}
	committed    atomic.Uint64
	writeErrors  atomic.Uint64
	writeRetries atomic.Uint64
	storeSyncs   atomic.Uint64
	walErr       atomic.Pointer[error] // the last WAL failure, nil after a clean sync
	writeOps     atomic.Uint64
	blockedWaits atomic.Uint64
	lastWrite    atomic.Int64
	buffered     atomic.Int64
	deferredPts  atomic.Int64
	// deferredBytes is the capacity of the deferred series' point
	// buffers (memory.go).
	deferredBytes atomic.Int64
	deferredSer   atomic.Int64
	updates       updateBucket
	throttled     atomic.Uint64

	mu      sync.Mutex // guards producers registration
	closed  atomic.Bool
	unpaced atomic.Bool // LiftBackPressure: take chunks past the buffer's bounds
	// walLogAt (unix ns) and walLogQuiet rate-limit WAL failure logs.
	walLogAt    atomic.Int64
	walLogQuiet atomic.Uint64
	consumers   sync.WaitGroup
	writers     sync.WaitGroup
}

// idleKeepBytes is the largest point buffer a series keeps once all its
// points are written and none wait: a series taking a few points per
// write cycle (every steady source) reuses its buffer without allocating,
// while the buffers a burst grew (a back-fill, a bulk load: tens of points
// per series, a million series) are released instead of pinned for good.
const idleKeepBytes = 64

// series is one buffered series: 64 bytes, the runtime's 64-byte size
// class (TestSeriesStructSize). A million series in a burst cost their
// struct each until evict.go forgets them, so what only some series need
// (write retries, throughput quotas) lives out of line in rare.
type series struct {
	name string
	// buf holds the buffered points, packed (points.go): those being
	// written in buf[bufHeader:split], the pending ones after.
	buf []byte
	// since is, while unwritten, the WAL segment the series' oldest
	// unwritten point was logged in, which keeps that segment until the
	// point is written.
	since uint64
	x     *seriesRare
	split uint32
	// touched is the shard's sweep epoch when the series last took a
	// point (evict.go; compared modulo 2^16).
	touched uint16
	flags   seriesFlags
	// lastUse is the bytes its buffer held at the last write cycle
	// (header and points, in units of useUnit, at most 255): a buffer let
	// go after a cycle is reallocated at that size, not grown again from
	// firstBufBytes (points.go).
	lastUse uint8
}

// seriesRare is what a series needs only after a failed write or when a
// throughput quota applies to it.
type seriesRare struct {
	retryAt int64 // unix nanoseconds: after a failed write, when to try again
	// bind is the series' throughput quotas (nil: none applies), bound
	// under the shard's quotaGen (the bound flag).
	bind limits.Binding
	// failures counts the failed writes in a row (those that count
	// towards MaxWriteRetries).
	failures int32
}

type seriesFlags uint8

const (
	// dirty: on the shard's dirty list, to be written.
	dirty seriesFlags = 1 << iota
	// unwritten: the series holds points not yet written.
	unwritten
	// waiting: the store refused the series as unavailable (no space,
	// read-only); counted in shard.waiting for Health.
	waiting
	// deferred: over the creation rate; its points wait in the pending
	// part, it is not dirty and not in the index (limits.go).
	deferred
	// bound: the limits were asked for the series' throughput quotas
	// under the shard's quotaGen (a binding, if any, is in x.bind).
	bound
)

func (s *series) is(f seriesFlags) bool { return s.flags&f != 0 }
func (s *series) set(f seriesFlags)     { s.flags |= f }
func (s *series) unset(f seriesFlags)   { s.flags &^= f }

// rare returns s's out-of-line state, creating it.
func (s *series) rare() *seriesRare {
	if s.x == nil {
		s.x = &seriesRare{}
	}
	return s.x
}

// failures is s's count of failed writes in a row.
func (s *series) failures() int32 {
	if s.x == nil {
		return 0
	}
	return s.x.failures
}

type lane struct {
	full, free *ring
	allocated  int // producer-owned
}

type shard struct {
	c *Cache
	// mu is read-locked by Buffered (renders), locked by writers.
	mu       sync.RWMutex
	writeMu  sync.Mutex // held by writeOnce; Pause holds it to keep the shard from writing
	series   seriesMap
	dirty    []*series
	spare    []*series
	deferred []*series // series waiting for the creation rate, oldest first
	lanes    atomic.Pointer[[]*lane]
	notify   chan struct{} // producer → consumer: chunks are waiting
	drained  chan struct{} // writer → consumer: room freed
	flushNow chan struct{} // consumer → writer: buffer is full, write now
	stop     chan struct{} // closed at Close: drain and exit
	consDone chan struct{} // closed when the consumer exited
	syncReq  chan chan struct{}
	batch    storage.Batch
	wal      *wal      // nil without WALDir
	look     []*series // ingest's scratch: the series of a chunk's points
	// filing is ingest's scratch for the series a chunk brings in
	// (newseries.go); guarded by mu.
	filing filing
	// quotaGen is the limits generation the series' bound flags refer
	// to; guarded by mu.
	quotaGen uint32
	// pts is the writer's scratch: the points of the batch being
	// written, decoded from their series' buffers (writer-owned).
	pts []storage.Point

	// Writer-owned retry state. blockedUntil: the store refused a whole
	// batch as unavailable (no space, read-only), the blocked-th time in a
	// row; nothing is tried before then.
	blockedUntil time.Time
	blocked      int
	kept         int                   // points the last settle kept buffered
	lastSweep    time.Time             // writer-owned: when sweepIdle last ran
	epoch        uint16                // sweeps so far, modulo 2^16; guarded by mu
	evicted      uint64                // series forgotten while idle; guarded by mu
	waiting      atomic.Int64          // series marked waiting
	held         atomic.Int64          // what the shard holds that writing gives back (memory.go)
	unavail      atomic.Pointer[error] // the last unavailable refusal
}

// New starts the shard goroutines.
func New(store storage.Store, index Index, opts Options) (*Cache, error) {
	def := DefaultOptions()
	if opts.Shards <= 0 {
		opts.Shards = def.Shards
	}
	if opts.LaneChunks <= 0 {
		opts.LaneChunks = def.LaneChunks
	}
	if opts.ChunkPoints <= 0 {
		opts.ChunkPoints = def.ChunkPoints
	}
	if opts.MaxBufferedPoints <= 0 {
		opts.MaxBufferedPoints = def.MaxBufferedPoints
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = def.FlushInterval
	}
	if opts.MaxWritePoints <= 0 {
		opts.MaxWritePoints = def.MaxWritePoints
	}
	if opts.Logger == nil {
		opts.Logger = def.Logger
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = def.SyncInterval
	}
	if opts.MaxWriteRetries <= 0 {
		opts.MaxWriteRetries = def.MaxWriteRetries
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = def.RetryBackoff
	}
	if opts.MaxRetryBackoff <= 0 {
		opts.MaxRetryBackoff = max(def.MaxRetryBackoff, opts.RetryBackoff)
	}
	if opts.Step == nil {
		return nil, errors.New("cache: Options.Step is required")
	}
	if opts.MaxDeferredPoints <= 0 {
		opts.MaxDeferredPoints = max(opts.MaxBufferedPoints/4, 1)
	}
	if opts.IdleSeriesAfter == 0 {
		opts.IdleSeriesAfter = def.IdleSeriesAfter
	}
	c := &Cache{opts: opts, store: store, index: index, seed: maphash.MakeSeed()}
	c.updates.init(opts.MaxUpdatesPerSecond)
	var nextSeq uint64
	if opts.WALDir != "" {
		if err := os.MkdirAll(opts.WALDir, 0o755); err != nil && !volumeRefused(err) {
			return nil, fmt.Errorf("creating wal dir: %w", err)
		}
		segs, err := listSegments(opts.WALDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		c.replaySegs = segs
		for _, sg := range segs {
			nextSeq = max(nextSeq, sg.seq+1)
		}
	}
	for i := 0; i < opts.Shards; i++ {
		sh := &shard{
			c:        c,
			series:   newSeriesMap(c.seed),
			notify:   make(chan struct{}, 1),
			drained:  make(chan struct{}, 1),
			flushNow: make(chan struct{}, 1),
			stop:     make(chan struct{}),
			consDone: make(chan struct{}),
			syncReq:  make(chan chan struct{}),
		}
		if opts.WALDir != "" {
			w, err := openWAL(opts.WALDir, i, nextSeq)
			if err != nil && !volumeRefused(err) {
				return nil, err
			}
			if err != nil {
				// A full or read-only volume: start without a segment
				// (Health says so; points are not logged) and open one at
				// the first rotation the volume takes.
				c.walFailed(err)
				c.logWALError("opening the write-ahead log; running without it until the volume takes writes", err)
			}
			sh.wal = w
		}
		empty := []*lane{}
		sh.lanes.Store(&empty)
		c.shards = append(c.shards, sh)
	}
	c.startShards()
	if opts.WALDir != "" {
		c.stopSync = make(chan struct{})
		c.syncDone = make(chan struct{})
		go c.syncLoop()
	}
	return c, nil
}

// startShards starts each shard's consumer and writer, once every shard
// exists: consumers read c.shards (heldBytes).
func (c *Cache) startShards() {
	for _, sh := range c.shards {
		c.consumers.Add(1)
		go sh.consume()
		c.writers.Add(1)
		go sh.write()
	}
}

func (c *Cache) syncLoop() {
	defer close(c.syncDone)
	t := time.NewTicker(c.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.stopSync:
			return
		}
		ok := true
		for _, sh := range c.shards {
			if err := sh.wal.sync(); err != nil {
				ok = false
				c.walFailed(err)
				c.logWALError("syncing write-ahead log", err)
			}
		}
		if ok {
			c.walErr.Store(nil)
		}
	}
}

// Replay feeds the points of write-ahead log segments left by a crash back
// into the cache, writes them to the backend and deletes the segments. Call
// it once, after New and before ingest starts. It returns the number of
// points replayed.
func (c *Cache) Replay() (int, error) {
	if len(c.replaySegs) == 0 {
		return 0, nil
	}
	p := c.NewProducer()
	total := 0
	var errs []error
	for _, sg := range c.replaySegs {
		f, err := os.Open(filepath.Join(c.opts.WALDir, sg.name))
		if err != nil {
			errs = append(errs, fmt.Errorf("opening wal segment: %w", err))
			continue
		}
		n, err := readSegment(f, p.AddPoint)
		f.Close()
		total += n
		if err != nil {
			c.opts.Logger.Warn("wal segment ends in a torn or corrupt record; kept the points before it",
				"segment", sg.name, "points", n, "err", err)
		}
		p.Flush()
	}
	c.Sync()
	// Replayed points were logged again into this process's segments;
	// those the store did not take yet live only there, so make them
	// durable before the old segments go.
	for _, sh := range c.shards {
		if err := sh.wal.sync(); err != nil {
			c.walFailed(err)
			c.replaySegs = nil
			return total, errors.Join(append(errs, fmt.Errorf("syncing wal before removing replayed segments: %w", err))...)
		}
	}
	for _, sg := range c.replaySegs {
		if err := os.Remove(filepath.Join(c.opts.WALDir, sg.name)); err != nil {
			errs = append(errs, fmt.Errorf("removing replayed wal segment: %w", err))
		}
	}
	c.replaySegs = nil
	return total, errors.Join(errs...)
}

// Sync writes every point accepted so far (by producers that flushed) to the
// backend and returns when that is done.
func (c *Cache) Sync() {
	for c.ingested.Load() < c.received.Load() {
		time.Sleep(time.Millisecond)
	}
	for _, sh := range c.shards {
		done := make(chan struct{})
		sh.syncReq <- done
		<-done
	}
}

func (c *Cache) shardOfString(name string) *shard {
	return c.shards[shardIndex(maphash.String(c.seed, name), len(c.shards))]
}

// shardIndex is the shard (of n) a name hashing to h goes to: h's high
// bits scaled to n (a multiply where h % n took a 64-bit division, tens of
// cycles a point). seriesMap.home mixes all of h's bits, so the names of
// one shard still spread over its table.
func shardIndex(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// Producer adds points to the cache. It is owned by one goroutine.
type Producer struct {
	c       *Cache
	lanes   []*lane
	cur     []*chunk
	pending uint64
}

// NewProducer registers a producer. Each goroutine that adds points needs its
// own.
func (c *Cache) NewProducer() *Producer {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &Producer{c: c, cur: make([]*chunk, len(c.shards))}
	for _, sh := range c.shards {
		ln := &lane{full: newRing(c.opts.LaneChunks), free: newRing(c.opts.LaneChunks)}
		p.lanes = append(p.lanes, ln)
		old := *sh.lanes.Load()
		nl := make([]*lane, len(old)+1)
		copy(nl, old)
		nl[len(old)] = ln
		sh.lanes.Store(&nl)
	}
	return p
}

// AddPoint queues one point. name is copied. It blocks while the cache is
// full.
func (p *Producer) AddPoint(name []byte, ts int64, v float64) {
	h := maphash.Bytes(p.c.seed, name)
	i := shardIndex(h, len(p.cur))
	ch := p.cur[i]
	if ch == nil {
		ch = p.getChunk(i)
		p.cur[i] = ch
	}
	ch.add(h, name, ts, v)
	p.pending++
	if len(ch.entries) >= p.c.opts.ChunkPoints {
		p.send(i)
	}
}

// Flush hands every partly filled chunk to its shard, making the points
// visible. Call it at the end of every burst of AddPoint calls.
func (p *Producer) Flush() {
	for i, ch := range p.cur {
		if ch != nil && len(ch.entries) > 0 {
			p.send(i)
		}
	}
	if p.pending > 0 {
		p.c.received.Add(p.pending)
		p.pending = 0
	}
}

func (p *Producer) send(i int) {
	ch := p.cur[i]
	p.cur[i] = nil
	ln := p.lanes[i]
	for !ln.full.push(ch) {
		// Cannot happen while allocated chunks ≤ ring size, but never drop.
		p.wait(0)
	}
	select {
	case p.c.shards[i].notify <- struct{}{}:
	default:
	}
}

func (p *Producer) getChunk(i int) *chunk {
	ln := p.lanes[i]
	for n := 0; ; n++ {
		if ch := ln.free.pop(); ch != nil {
			ch.reset()
			return ch
		}
		if ln.allocated < p.c.opts.LaneChunks {
			ln.allocated++
			return &chunk{
				names:   make([]byte, 0, p.c.opts.ChunkPoints*48),
				entries: make([]entry, 0, p.c.opts.ChunkPoints),
			}
		}
		if n == 0 {
			p.c.blockedWaits.Add(1)
		}
		p.wait(n)
	}
}

func (p *Producer) wait(n int) {
	if n < 50 {
		runtime.Gosched()
		return
	}
	time.Sleep(100 * time.Microsecond)
}

func (sh *shard) consume() {
	defer close(sh.consDone)
	defer sh.c.consumers.Done()
	c := sh.c
	for {
		did := false
		for _, ln := range *sh.lanes.Load() {
			for k := 0; k < 8; k++ {
				ch := ln.full.pop()
				if ch == nil {
					break
				}
				for sh.mustWait() && !c.closed.Load() && !c.unpaced.Load() {
					select {
					case sh.flushNow <- struct{}{}:
					default:
					}
					select {
					case <-sh.drained:
					case <-time.After(10 * time.Millisecond):
					}
				}
				sh.ingest(ch)
				ln.free.push(ch)
				did = true
			}
		}
		if did {
			continue
		}
		select {
		case <-sh.notify:
		case <-sh.stop:
			// Producers have stopped: drain what is left, then exit.
			for {
				more := false
				for _, ln := range *sh.lanes.Load() {
					for ch := ln.full.pop(); ch != nil; ch = ln.full.pop() {
						sh.ingest(ch)
						ln.free.push(ch)
						more = true
					}
				}
				if !more {
					return
				}
			}
		}
	}
}

func (sh *shard) ingest(ch *chunk) {
	c := sh.c
	lim := c.opts.Limits
	var gen uint32
	var window int64
	if lim != nil {
		gen, window = lim.Gen(), lim.Window(time.Now())
	}
	buffered := 0
	// grown is what the chunk adds to the shard's held bytes, deferGrown
	// what of it deferred series' buffers took (memory.go).
	var grown, deferGrown int64
	sh.mu.Lock()
	if lim != nil && gen != sh.quotaGen {
		sh.unbindAll(gen)
	}
	if sh.wal != nil {
		// Logged under the shard lock, so a chunk is in the segment that the
		// write cycle taking its points rotates out.
		if err := sh.wal.append(ch); err != nil {
			c.walFailed(err)
		}
	}
	// The chunk's series are looked up first, all of them, then given their
	// points: lookups that miss the CPU caches (a map of a million series)
	// then overlap, where each one waited for the point before it to be
	// appended. lookChunk goes further, a pass per miss of the lookup.
	look := sh.series.lookChunk(ch, sh.look)
	if c.index != nil {
		sh.fileNew(ch, look) // every look entry is now a series or dropped
	}
	for i := range ch.entries {
		// By pointer: copying each 40-byte entry took a tenth of
		// ingest's instructions.
		e := &ch.entries[i]
		s := look[i]
		if s == probeLater || s == nil {
			s = sh.notFound(ch, e)
		}
		if s == nil || s == dropped {
			continue // rejected, counted
		}
		if lim != nil {
			if !s.is(bound) {
				sh.bind(s)
			}
			if s.x != nil && s.x.bind != nil && !s.x.bind.Take(window) {
				lim.Throttled(s.x.bind.Namespace(), s.name)
				continue
			}
		}
		if s.is(deferred) {
			if c.deferredPts.Load() >= int64(c.opts.MaxDeferredPoints) {
				lim.DeferredFull(s.name)
				continue
			}
			c.deferredPts.Add(1)
		} else {
			buffered++
		}
		s.touched = sh.epoch
		if !s.is(unwritten) {
			s.set(unwritten)
			grown += held(s) // the buffer it kept, and its charge
			if sh.wal != nil {
				s.since = sh.wal.seq
			}
		}
		oldCap := cap(s.buf)
		s.appendPoint(e.ts, e.v)
		grown += int64(cap(s.buf) - oldCap)
		if s.is(deferred) {
			deferGrown += int64(cap(s.buf) - oldCap)
		}
		if s.flags&(dirty|deferred) == 0 {
			s.set(dirty)
			sh.dirty = append(sh.dirty, s)
		}
	}
	clear(look) // holds no series past the chunk (evict.go frees them)
	sh.look = look[:0]
	sh.mu.Unlock()
	sh.addHeld(grown)
	if deferGrown != 0 {
		c.deferredBytes.Add(deferGrown)
	}
	c.buffered.Add(int64(buffered))
	c.ingested.Add(uint64(len(ch.entries)))
}

// notFound returns the series of entry e of ch that lookChunk did not
// find (probeLater: its probe stopped short; nil: new, or filed by a
// point before it in this chunk), filing a new one; nil or dropped when
// that is rejected (counted). Only here is the entry's name sliced. Caller holds
// sh.mu.
func (sh *shard) notFound(ch *chunk, e *entry) *series {
	name := ch.name(e)
	if s := sh.series.getHash(e.h, name); s != nil {
		return s
	}
	return sh.newSeries(e.h, name, false)
}

// bind asks the limits for s's throughput quotas under the shard's
// quotaGen. Only a series a quota applies to gets seriesRare for it.
// Caller holds sh.mu.
func (sh *shard) bind(s *series) {
	s.set(bound)
	if b := sh.c.opts.Limits.Bind(s.name); b != nil {
		s.rare().bind = b
	} else if s.x != nil {
		s.x.bind = nil
	}
}

// unbindAll clears every series' bound flag after the limits' rules
// changed (generation gen, a reload): each asks again at its next point.
// Caller holds sh.mu.
func (sh *shard) unbindAll(gen uint32) {
	sh.quotaGen = gen
	sh.series.each(func(s *series) { s.unset(bound) })
}

// newSeries files name (a view: copied when kept), which the shard has not
// seen, asking the limits unless the index knows it: nil when it is
// rejected (its point is counted as dropped). A deferred series is kept on
// the shard's deferred list and out of the index; the caller indexes an
// admitted one (fileNew). Caller holds sh.mu.
func (sh *shard) newSeries(h uint64, name string, known bool) *series {
	c := sh.c
	var flags seriesFlags
	if lim := c.opts.Limits; lim != nil && !known {
		v, why := lim.AdmitNew(name, false)
		switch v {
		case limits.Reject:
			lim.PointsDropped(why, 1)
			return nil
		case limits.Defer:
			if c.deferredPts.Load() >= int64(c.opts.MaxDeferredPoints) {
				lim.DeferredFull(strings.Clone(name))
				return nil
			}
			flags = deferred
			lim.CountDeferred()
		}
	}
	s := &series{name: strings.Clone(name), touched: sh.epoch, flags: flags}
	sh.series.putHash(h, s)
	if s.is(deferred) {
		sh.deferred = append(sh.deferred, s)
		c.deferredSer.Add(1)
	}
	return s
}

// admitDeferred asks the limits again for the shard's deferred series,
// oldest first, until one is deferred again: admitted ones join the index
// and are written this cycle, rejected ones lose their points (counted).
// final admits past the creation rate (Close writes what was accepted).
// Caller holds sh.mu.
func (sh *shard) admitDeferred(final bool) {
	c := sh.c
	lim := c.opts.Limits
	i := 0
	for ; i < len(sh.deferred); i++ {
		s := sh.deferred[i]
		v, why := lim.AdmitNew(s.name, final)
		if v == limits.Defer {
			break
		}
		n := int64(countPoints(s.pendingPart()))
		c.deferredPts.Add(-n)
		c.deferredSer.Add(-1)
		c.deferredBytes.Add(-int64(cap(s.buf)))
		s.unset(deferred)
		if v == limits.Reject {
			lim.PointsDropped(why, uint64(n))
			sh.ingestedDropped(s)
			sh.series.del(s)
			continue
		}
		if c.index != nil {
			c.index.Add(s.name)
		}
		c.buffered.Add(n)
		if n > 0 && !s.is(dirty) {
			s.set(dirty)
			sh.dirty = append(sh.dirty, s)
		}
	}
	if i > 0 {
		n := copy(sh.deferred, sh.deferred[i:])
		clear(sh.deferred[n:])
		sh.deferred = sh.deferred[:n]
	}
}

// ingestedDropped forgets a rejected deferred series' points: they no
// longer hold its WAL segments.
func (sh *shard) ingestedDropped(s *series) {
	sh.addHeld(-held(s))
	s.buf, s.split = nil, 0
	s.unset(unwritten)
}

func (sh *shard) write() {
	defer sh.c.writers.Done()
	t := time.NewTicker(sh.c.opts.FlushInterval)
	defer t.Stop()
	for {
		final := false
		var done chan struct{}
		select {
		case <-t.C:
		case <-sh.flushNow:
		case done = <-sh.syncReq:
		case <-sh.consDone:
			final = true
		}
		sh.writeOnce(final || done != nil, final)
		if !final {
			sh.maybeSweep(time.Now())
		}
		if done != nil {
			close(done)
		}
		if final {
			return
		}
	}
}

// Buffered appends the points of name that are accepted but not yet written
// to dst, in arrival order.
func (c *Cache) Buffered(name string, dst []storage.Point) []storage.Point {
	sh := c.shardOfString(name)
	// Read-locked: renders on several clients do not queue on each
	// other here (the mutex profile's contention under 8 clients).
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	s := sh.series.get(name)
	if s == nil {
		return dst
	}
	return s.points(dst)
}

// Fetch reads name from the backend and overlays the points still buffered,
// as graphite-web merges carbon-cache's points over whisper's.
func (c *Cache) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	ser, err := c.store.Fetch(name, from, until, now)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	return c.merge(name, ser, from, until, now)
}

// manyFetcher is a backend that reads many series in one request
// (storage/clickhouse).
type manyFetcher interface {
	FetchBatch() int
	FetchMany(names []string, from, until, now int64) ([]*storage.Series, error)
}

// FetchBatch is how many names one FetchMany should carry: the backend's
// batch, or 0 when the backend reads series one by one (the caller then
// fetches them in parallel with Fetch).
func (c *Cache) FetchBatch() int {
	if m, ok := c.store.(manyFetcher); ok {
		return m.FetchBatch()
	}
	return 0
}

// FetchMany is Fetch for each of names, in names' order, nil for a name
// Fetch answers storage.ErrNotFound: the backend reads them together when
// it can (manyFetcher), and each series gets its buffered points as Fetch
// merges them.
func (c *Cache) FetchMany(names []string, from, until, now int64) ([]*storage.Series, error) {
	var sers []*storage.Series
	if m, ok := c.store.(manyFetcher); ok {
		var err error
		if sers, err = m.FetchMany(names, from, until, now); err != nil {
			return nil, fmt.Errorf("fetching %d series: %w", len(names), err)
		}
	} else {
		sers = make([]*storage.Series, len(names))
		for i, name := range names {
			ser, err := c.store.Fetch(name, from, until, now)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, fmt.Errorf("fetching %q: %w", name, err)
			}
			sers[i] = ser
		}
	}
	for i, name := range names {
		ser, err := c.merge(name, sers[i], from, until, now)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		sers[i] = ser
	}
	return sers, nil
}

// merge overlays name's buffered points on ser, what the backend answered
// (nil: not found), as graphite-web merges carbon-cache's points over
// whisper's.
func (c *Cache) merge(name string, ser *storage.Series, from, until, now int64) (*storage.Series, error) {
	var tmp [64]storage.Point
	pts := c.Buffered(name, tmp[:0])
	if ser == nil {
		if len(pts) == 0 {
			return nil, storage.ErrNotFound
		}
		if until > now {
			until = now
		}
		if from > until {
			return nil, storage.ErrNotFound
		}
		step := c.opts.Step(name, from, now)
		if step <= 0 {
			return nil, storage.ErrNotFound
		}
		start := from - from%step + step
		end := until - until%step + step
		if start == end {
			end += step
		}
		vals := make([]float64, (end-start)/step)
		for i := range vals {
			vals[i] = math.NaN()
		}
		ser = &storage.Series{Name: name, Start: start, Step: step, Values: vals}
	}
	for _, p := range pts {
		slot := p.Timestamp - p.Timestamp%ser.Step
		i := (slot - ser.Start) / ser.Step
		if slot >= ser.Start && i < int64(len(ser.Values)) {
			ser.Values[i] = p.Value
		}
	}
	return ser, nil
}

// Find expands a pattern over every name the cache has seen and the backend
// holds.
func (c *Cache) Find(pattern string) ([]storage.Node, error) {
	if c.index != nil {
		return c.index.Find(pattern)
	}
	return c.store.Find(pattern)
}

// FindLimit is Find keeping at most limit nodes (limit > 0): past it the
// index's walk stops and the error wraps storage.ErrTooManyResults.
func (c *Cache) FindLimit(pattern string, limit int) ([]storage.Node, error) {
	if c.index != nil {
		return c.index.FindLimit(pattern, limit)
	}
	nodes, err := c.store.Find(pattern)
	if err == nil && limit > 0 && len(nodes) > limit {
		return nil, fmt.Errorf("more than %d: %w", limit, storage.ErrTooManyResults)
	}
	return nodes, err
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	n := 0
	var evicted uint64
	for _, sh := range c.shards {
		// The read lock: a scrape of /metrics neither waits for nor
		// holds off the writer's batch fill (also read-locked).
		sh.mu.RLock()
		n += sh.series.len()
		evicted += sh.evicted
		sh.mu.RUnlock()
	}
	return Stats{
		Received:       c.received.Load(),
		Committed:      c.committed.Load(),
		WriteErrors:    c.writeErrors.Load(),
		WriteRetries:   c.writeRetries.Load(),
		StoreSyncs:     c.storeSyncs.Load(),
		Waiting:        c.waitingSeries(),
		Deferred:       c.deferredSer.Load(),
		DeferredPoints: c.deferredPts.Load(),
		Throttled:      c.throttled.Load(),
		Buffered:       c.buffered.Load(),
		BufferedBytes:  c.heldBytes(),
		Series:         n,
		IdleEvicted:    evicted,
		WriteOps:       c.writeOps.Load(),
		BlockedWaits:   c.blockedWaits.Load(),
		WALErrors:      c.walErrors.Load(),
		LastWriteNanos: c.lastWrite.Load(),
	}
}

// Close drains every lane and writes everything buffered to the backend. All
// producers must have stopped (and flushed) before. It does not close the
// backend.
func (c *Cache) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	for _, sh := range c.shards {
		close(sh.stop)
	}
	c.consumers.Wait()
	c.writers.Wait()
	if c.stopSync != nil {
		close(c.stopSync)
		<-c.syncDone
	}
	var errs []error
	if sy, ok := c.store.(Syncer); ok && c.opts.WALDir != "" {
		if err := sy.Sync(); err != nil {
			// Keep every segment: the next start replays them.
			errs = append(errs, fmt.Errorf("syncing the backend: %w", err))
			for _, sh := range c.shards {
				errs = append(errs, sh.wal.close())
			}
			return errors.Join(errs...)
		}
	}
	unwritten := 0
	for _, sh := range c.shards {
		if sh.wal == nil {
			continue
		}
		errs = append(errs, sh.wal.close())
		// What is written is durable; keep only the segments holding
		// points the store refused to the end (replayed at the next start).
		bound, ok := sh.trimBound(math.MaxUint64)
		if ok {
			errs = append(errs, sh.wal.removeThrough(bound))
		}
		if bound != math.MaxUint64 {
			unwritten++
		}
	}
	if unwritten > 0 {
		c.opts.Logger.Error("closing with points the store did not take; they stay in the write-ahead log for the next start",
			"points", c.buffered.Load(), "shards", unwritten)
	} else if n := c.buffered.Load(); n > 0 && c.opts.WALDir == "" {
		c.opts.Logger.Error("closing with points the store did not take (no space or read-only); they are lost", "points", n)
	}
	return errors.Join(errs...)
}
