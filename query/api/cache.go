package api

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// DefaultCacheBytes bounds the render cache when Options.CacheBytes is 0.
const DefaultCacheBytes = 64 << 20

// DefaultCacheTimeout is graphite-web's DEFAULT_CACHE_DURATION in seconds,
// used when Options.CacheTimeout is 0 and the request has no cacheTimeout.
const DefaultCacheTimeout = 60

// entryOverhead approximates an entry's memory beyond its key and body.
const entryOverhead = 160

// CacheStats are the render cache's counters since start.
type CacheStats struct {
	Hits      uint64 // responses served from the cache
	Misses    uint64 // cacheable requests rendered (not found, or expired)
	Expired   uint64 // misses that found an expired entry
	Evictions uint64 // entries dropped to stay within MaxBytes
	Bypassed  uint64 // requests with noCache or a cacheTimeout <= 0
	Coalesced uint64 // misses answered by a concurrent identical request's render
	Entries   int    // entries held now
	Bytes     int64  // their accounted size (keys, bodies, overhead)
	MaxBytes  int64  // the bound (0 = cache disabled)
}

// CacheStats returns the render cache's counters (all zero when disabled).
func (a *API) CacheStats() CacheStats {
	c := a.cache
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = len(c.m)
	s.Bytes = c.size
	s.MaxBytes = c.max
	return s
}

type cacheEntry struct {
	key        string
	ct         string
	body       []byte
	expires    int64 // unix seconds
	size       int64
	prev, next *cacheEntry
}

// renderCache is a size-bounded LRU of rendered /render responses.
type renderCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	m     map[string]*cacheEntry
	head  *cacheEntry // most recently used
	tail  *cacheEntry
	stats CacheStats
	// inflight has a channel per key being rendered, closed when done;
	// identical requests arriving meanwhile wait for it.
	inflight map[string]chan struct{}
	waiters  int
	// gen counts purges; a render started before the last one does not
	// store its (possibly stale) answer.
	gen uint64
}

// PurgeCache empties the render cache, so no answer computed before now is
// served again (after series were deleted or renamed). Renders running
// meanwhile do not store theirs.
func (a *API) PurgeCache() {
	c := a.cache
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.tail != nil {
		c.remove(c.tail)
	}
	c.gen++
}

func (c *renderCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func newRenderCache(max int64) *renderCache {
	return &renderCache{max: max, m: map[string]*cacheEntry{}, inflight: map[string]chan struct{}{}}
}

func (c *renderCache) unlink(e *cacheEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (c *renderCache) pushFront(e *cacheEntry) {
	e.next = c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *renderCache) remove(e *cacheEntry) {
	c.unlink(e)
	delete(c.m, e.key)
	c.size -= e.size
}

// get copies a fresh entry's response into ctx and returns its expiry.
func (c *renderCache) get(key []byte, now int64, ctx *fasthttp.RequestCtx) (expires int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[string(key)]
	if e == nil {
		c.stats.Misses++
		return 0, false
	}
	if now >= e.expires {
		c.remove(e)
		c.stats.Misses++
		c.stats.Expired++
		return 0, false
	}
	c.unlink(e)
	c.pushFront(e)
	c.stats.Hits++
	ctx.SetContentType(e.ct)
	ctx.Response.SetBodyRaw(e.body) // entries are immutable
	return e.expires, true
}

// add stores a response; bodies larger than an eighth of the bound are
// not cached, so one response cannot flush the whole cache.
func (c *renderCache) add(key []byte, ct string, body []byte, expires int64, gen uint64) {
	size := int64(len(key)+len(ct)+len(body)) + entryOverhead
	if size > c.max/8 {
		return
	}
	e := &cacheEntry{key: string(key), ct: ct, body: append([]byte(nil), body...), expires: expires, size: size}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // purged while this render ran
	}
	if old := c.m[e.key]; old != nil {
		c.remove(old)
	}
	for c.size+size > c.max && c.tail != nil {
		c.remove(c.tail)
		c.stats.Evictions++
	}
	c.m[e.key] = e
	c.pushFront(e)
	c.size += size
}

// join registers a render of key; when one is already running it
// returns that render's channel and false.
func (c *renderCache) join(key []byte) (chan struct{}, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.inflight[string(key)]; ch != nil {
		c.waiters++
		return ch, false
	}
	ch := make(chan struct{})
	c.inflight[string(key)] = ch
	return ch, true
}

func (c *renderCache) leave(key []byte, ch chan struct{}) {
	c.mu.Lock()
	delete(c.inflight, string(key))
	c.mu.Unlock()
	close(ch)
}

// waited answers from the entry a concurrent render stored, if any.
func (c *renderCache) waited(key []byte, now int64, ctx *fasthttp.RequestCtx) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiters--
	e := c.m[string(key)]
	if e == nil || now >= e.expires {
		return 0, false
	}
	c.unlink(e)
	c.pushFront(e)
	c.stats.Coalesced++
	ctx.SetContentType(e.ct)
	ctx.Response.SetBodyRaw(e.body)
	return e.expires, true
}

var keyPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// cacheTimeout returns the request's cache lifetime in seconds (0 = do
// not cache) like graphite-web's parseOptions: noCache, or a cacheTimeout
// (default DEFAULT_CACHE_DURATION) of 0, disable caching.
func (a *API) cacheTimeout(p *params) (int64, string) {
	t := a.defaultCacheTimeout
	if p.Has("cacheTimeout") {
		v := strings.TrimSpace(p.Get("cacheTimeout"))
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, "Invalid parameters (invalid cacheTimeout " + strconv.Quote(p.Get("cacheTimeout")) + ")"
		}
		t = n
	}
	if p.Has("noCache") || t <= 0 {
		return 0, ""
	}
	return min(t, 365*86400), ""
}

// appendCacheKey writes the normalized request: every parameter except
// from, until, now, noCache and those starting with "_" (graphite-web's
// hashRequest skips the latter too; cacheTimeout stays, so a request never
// gets an entry older than it allows), sorted by name with the
// values of one name in request order, then the resolved from, until and
// now. A time that depends on the wall clock (e.g. from=-1h, or until
// missing, so now itself) is written as its value at the start of the
// current timeout-long bucket of wall-clock time, marked relative; a time
// that does not (epoch seconds, dates, a fixed now=) is written exactly,
// marked absolute; a time that moved by other than the clock since the
// bucket start (calendar arithmetic across midnight) is written exactly
// and never shared. So relative requests made within one bucket share an
// entry (served at most timeout seconds late, as graphite-web's cache
// does), and no request is served a different absolute window.
func appendCacheKey(b []byte, p *params, wall time.Time, timeout int64, def *time.Location) ([]byte, bool) {
	kv := p.kv
	slices.SortStableFunc(kv, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) })
	for _, e := range kv {
		switch e[0] {
		case "from", "until", "now", "noCache":
			continue
		}
		if strings.HasPrefix(e[0], "_") {
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(e[0])))
		b = append(b, e[0]...)
		b = binary.AppendUvarint(b, uint64(len(e[1])))
		b = append(b, e[1]...)
	}
	loc := location(p, def)
	ws := wall.Unix()
	var v [3][3]int64 // [wall, wall+1s, bucket start][from, until, now]
	for i, clock := range [3]int64{ws, ws + 1, ws - ws%timeout} {
		f, u, n, err := timeRangeAt(p, loc, time.Unix(clock, 0))
		if err != nil {
			return b, false
		}
		v[i] = [3]int64{f.Unix(), u.Unix(), n.Unix()}
	}
	b = append(b, 0xff)
	for t := 0; t < 3; t++ {
		vw, vp, vb := v[0][t], v[1][t], v[2][t]
		switch {
		case vp == vw: // does not move with the clock
			b = append(b, 'A')
			b = binary.AppendVarint(b, vw)
		case vp == vw+1 && vw-vb == ws%timeout:
			// moves with the clock: keyed by its value at the bucket start
			b = append(b, 'R')
			b = binary.AppendVarint(b, vb)
		default: // calendar arithmetic crossed a boundary: exact only
			b = append(b, 'X')
			b = binary.AppendVarint(b, vw)
		}
	}
	return b, true
}

// renderCached serves /render through the response cache.
func (a *API) renderCached(ctx *fasthttp.RequestCtx) {
	c := a.cache
	if c == nil {
		a.render(ctx, true)
		return
	}
	p := readParams(ctx)
	timeout, msg := a.cacheTimeout(p)
	if msg != "" {
		badRequest(ctx, msg)
		return
	}
	wall := a.opts.Now()
	if timeout == 0 {
		c.mu.Lock()
		c.stats.Bypassed++
		c.mu.Unlock()
		a.render(ctx, true)
		neverCache(ctx, wall)
		return
	}
	kb := keyPool.Get().(*[]byte)
	defer keyPool.Put(kb)
	key, ok := appendCacheKey((*kb)[:0], p, wall, timeout, a.opts.TimeZone)
	*kb = key[:0]
	if !ok { // bad times: render answers the 400
		a.render(ctx, true)
		return
	}
	now := wall.Unix()
	if expires, ok := c.get(key, now, ctx); ok {
		cacheFor(ctx, wall, expires-now)
		return
	}
	ch, leader := c.join(key)
	if !leader {
		<-ch
		if expires, ok := c.waited(key, now, ctx); ok {
			cacheFor(ctx, wall, expires-now)
			return
		}
		a.render(ctx, true) // the other render failed or was not cacheable
		return
	}
	defer c.leave(key, ch)
	gen := c.generation()
	a.render(ctx, false) // its body is kept: not streamed
	if ctx.Response.StatusCode() != fasthttp.StatusOK {
		return
	}
	c.add(key, string(ctx.Response.Header.ContentType()), ctx.Response.Body(), now+timeout, gen)
	cacheFor(ctx, wall, timeout)
}

// cacheFor sets Django's patch_response_headers headers.
func cacheFor(ctx *fasthttp.RequestCtx, wall time.Time, seconds int64) {
	var buf [64]byte
	ctx.Response.Header.SetBytesV("Expires", wall.Add(time.Duration(seconds)*time.Second).UTC().AppendFormat(buf[:0], time.RFC1123[:len(time.RFC1123)-3]+"GMT"))
	b := append(buf[:0], "max-age="...)
	ctx.Response.Header.SetBytesV("Cache-Control", strconv.AppendInt(b, seconds, 10))
}

// neverCache sets Django's add_never_cache_headers headers.
func neverCache(ctx *fasthttp.RequestCtx, wall time.Time) {
	if ctx.Response.StatusCode() != fasthttp.StatusOK {
		return
	}
	var buf [64]byte
	ctx.Response.Header.SetBytesV("Expires", wall.UTC().AppendFormat(buf[:0], time.RFC1123[:len(time.RFC1123)-3]+"GMT"))
	ctx.Response.Header.Set("Cache-Control", "max-age=0, no-cache, no-store, must-revalidate, private")
}

func (a *API) initCache() {
	switch {
	case a.opts.CacheTimeout == 0:
		a.defaultCacheTimeout = DefaultCacheTimeout
	case a.opts.CacheTimeout > 0:
		a.defaultCacheTimeout = a.opts.CacheTimeout
	}
	switch {
	case a.opts.CacheBytes == 0:
		a.cache = newRenderCache(DefaultCacheBytes)
	case a.opts.CacheBytes > 0:
		a.cache = newRenderCache(a.opts.CacheBytes)
	}
}
