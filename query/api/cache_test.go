package api

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/valyala/fasthttp"
)

// countingSource answers every fetch with the fetch's sequence number as
// each value, so a cached response is told from a fresh one.
type countingSource struct {
	idx     *index.Index
	fetches atomic.Int64
}

func newCountingSource(names ...string) *countingSource {
	idx := index.New()
	for _, n := range names {
		idx.Add(n)
	}
	return &countingSource{idx: idx}
}

func (c *countingSource) Find(p string) ([]storage.Node, error) { return c.idx.Find(p) }

func (c *countingSource) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	if !c.idx.Has(name) {
		return nil, storage.ErrNotFound
	}
	n := float64(c.fetches.Add(1))
	start := from - from%60 + 60
	v := make([]float64, max((until-start)/60, 0))
	for i := range v {
		v[i] = n
	}
	return &storage.Series{Name: name, Start: start, Step: 60, Values: v}, nil
}

type testClock struct{ t atomic.Int64 }

func (c *testClock) Now() time.Time { return time.Unix(c.t.Load(), 0) }

func newCachedAPI(src *countingSource, clock *testClock, cacheBytes int64) *API {
	return New(src, Options{Now: clock.Now, CacheBytes: cacheBytes, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

type resp struct {
	status       int
	body         string
	cacheControl string
	expires      string
}

func serve(a *API, method, uri, body string) resp {
	var req fasthttp.Request
	req.SetRequestURI("http://graphite" + uri)
	req.Header.SetMethod(method)
	if body != "" {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyString(body)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	if !a.Handle(&ctx) {
		return resp{status: 404}
	}
	return resp{status: ctx.Response.StatusCode(), body: string(ctx.Response.Body()),
		cacheControl: string(ctx.Response.Header.Peek("Cache-Control")), expires: string(ctx.Response.Header.Peek("Expires"))}
}

func TestRenderCache(t *testing.T) {
	src := newCountingSource("a.b", "a.c")
	clock := &testClock{}
	const t0 = 1_000_025 // its 60 s bucket is [1000020, 1000080)
	clock.t.Store(t0)
	a := newCachedAPI(src, clock, 0)
	body := func(n int, from, until int64) string {
		var sb strings.Builder
		sb.WriteString(`[{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [`)
		first := true
		for ts := from - from%60 + 60; ts+60 <= until; ts += 60 {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			fmt.Fprintf(&sb, "[%d.0, %d]", n, ts)
		}
		sb.WriteString("]}]")
		return sb.String()
	}
	check := func(step string, r resp, wantStatus int, wantBody, wantCC string, want CacheStats) {
		t.Helper()
		if r.status != wantStatus || (wantBody != "" && r.body != wantBody) || r.cacheControl != wantCC {
			t.Fatalf("%s: got %d %q cc=%q\nwant %d %q cc=%q", step, r.status, r.body, r.cacheControl, wantStatus, wantBody, wantCC)
		}
		got := a.CacheStats()
		got.Entries, got.Bytes, got.MaxBytes = 0, 0, 0
		if got != want {
			t.Fatalf("%s: stats %+v, want %+v", step, got, want)
		}
	}
	rel := "/render?target=a.b&from=-10min&format=json"
	check("first", serve(a, "GET", rel, ""), 200, body(1, t0-600, t0), "max-age=60", CacheStats{Misses: 1})
	if r := serve(a, "GET", rel, ""); r.expires != "Mon, 12 Jan 1970 13:48:05 GMT" {
		t.Fatalf("Expires %q", r.expires)
	}
	clock.t.Store(t0 + 30)
	check("same bucket", serve(a, "GET", rel, ""), 200, body(1, t0-600, t0), "max-age=30", CacheStats{Hits: 2, Misses: 1})
	// Same request in another spelling: parameter order, _salt, -600s.
	check("normalized", serve(a, "GET", "/render?format=json&_salt=7&from=-600s&target=a.b", ""), 200, body(1, t0-600, t0), "max-age=30", CacheStats{Hits: 3, Misses: 1})
	check("form post", serve(a, "POST", "/render?format=json", "target=a.b&from=-10min"), 200, body(1, t0-600, t0), "max-age=30", CacheStats{Hits: 4, Misses: 1})
	// Another bucket of wall-clock time: the relative window moved on.
	clock.t.Store(t0 + 55)
	check("next bucket", serve(a, "GET", rel, ""), 200, body(2, t0+55-600, t0+55), "max-age=60", CacheStats{Hits: 4, Misses: 2})
	// Target order and other parameters are part of the key.
	check("order", serve(a, "GET", "/render?target=a.c&target=a.b&from=-10min&format=json", ""), 200, "", "max-age=60", CacheStats{Hits: 4, Misses: 3})
	check("mdp", serve(a, "GET", rel+"&maxDataPoints=5", ""), 200, "", "max-age=60", CacheStats{Hits: 4, Misses: 4})

	// Absolute windows are keyed exactly and live cacheTimeout seconds.
	abs := "/render?target=a.b&from=990000&until=990600&format=json"
	check("abs", serve(a, "GET", abs, ""), 200, body(6, 990000, 990600), "max-age=60", CacheStats{Hits: 4, Misses: 5})
	check("abs other", serve(a, "GET", "/render?target=a.b&from=990010&until=990600&format=json", ""), 200, body(7, 990010, 990600), "max-age=60", CacheStats{Hits: 4, Misses: 6})
	clock.t.Store(t0 + 100) // same bucket (now= is part of the key)
	check("abs hit", serve(a, "GET", abs, ""), 200, body(6, 990000, 990600), "max-age=15", CacheStats{Hits: 5, Misses: 6})
	clock.t.Store(t0 + 115)
	check("abs next bucket", serve(a, "GET", abs, ""), 200, body(8, 990000, 990600), "max-age=60", CacheStats{Hits: 5, Misses: 7})

	// A fixed now= makes every time absolute: entries live cacheTimeout
	// seconds across buckets, then expire.
	fixed := "/render?target=a.b&now=990600&from=-10min&format=json"
	check("fixed now", serve(a, "GET", fixed, ""), 200, body(9, 990000, 990600), "max-age=60", CacheStats{Hits: 5, Misses: 8})
	clock.t.Store(t0 + 170)
	check("fixed now hit", serve(a, "GET", fixed, ""), 200, body(9, 990000, 990600), "max-age=5", CacheStats{Hits: 6, Misses: 8})
	clock.t.Store(t0 + 175)
	check("fixed now expired", serve(a, "GET", fixed, ""), 200, body(10, 990000, 990600), "max-age=60", CacheStats{Hits: 6, Misses: 9, Expired: 1})
	// ... and is not confused with until=990600 given as epoch.
	check("same window other request", serve(a, "GET", "/render?target=a.b&from=990000&until=990600&format=json", ""), 200, body(11, 990000, 990600), "max-age=60", CacheStats{Hits: 6, Misses: 10, Expired: 1})

	// noCache and cacheTimeout=0 bypass the cache both ways.
	nc := "max-age=0, no-cache, no-store, must-revalidate, private"
	check("noCache", serve(a, "GET", fixed+"&noCache", ""), 200, body(12, 990000, 990600), nc, CacheStats{Hits: 6, Misses: 10, Expired: 1, Bypassed: 1})
	check("timeout 0", serve(a, "GET", fixed+"&cacheTimeout=0", ""), 200, body(13, 990000, 990600), nc, CacheStats{Hits: 6, Misses: 10, Expired: 1, Bypassed: 2})
	check("bad timeout", serve(a, "GET", fixed+"&cacheTimeout=x", ""), 400, "Invalid parameters (invalid cacheTimeout \"x\")", "", CacheStats{Hits: 6, Misses: 10, Expired: 1, Bypassed: 2})
	// A longer cacheTimeout widens the bucket of relative requests.
	long := rel + "&cacheTimeout=600"
	clock.t.Store(1_200_010)
	check("long", serve(a, "GET", long, ""), 200, body(14, 1_200_010-600, 1_200_010), "max-age=600", CacheStats{Hits: 6, Misses: 11, Expired: 1, Bypassed: 2})
	clock.t.Store(1_200_500)
	check("long hit", serve(a, "GET", long, ""), 200, body(14, 1_200_010-600, 1_200_010), "max-age=110", CacheStats{Hits: 7, Misses: 11, Expired: 1, Bypassed: 2})
	// Errors are not cached.
	check("error", serve(a, "GET", "/render?target=nosuch(a.b)&format=json", ""), 400, "", "", CacheStats{Hits: 7, Misses: 12, Expired: 1, Bypassed: 2})
	check("error again", serve(a, "GET", "/render?target=nosuch(a.b)&format=json", ""), 400, "", "", CacheStats{Hits: 7, Misses: 13, Expired: 1, Bypassed: 2})
	if s := a.CacheStats(); s.MaxBytes != DefaultCacheBytes || s.Entries != 10 || s.Bytes <= 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRenderCacheEviction(t *testing.T) {
	src := newCountingSource("a.b")
	clock := &testClock{}
	clock.t.Store(1_000_000)
	a := newCachedAPI(src, clock, 8000)
	uri := func(i int) string {
		return fmt.Sprintf("/render?target=a.b&from=%d&until=%d&format=json", 999000+i, 999100)
	}
	first := serve(a, "GET", uri(0), "").body
	for i := 1; i < 40; i++ {
		serve(a, "GET", uri(i), "")
		if r := serve(a, "GET", uri(0), ""); r.body != first { // keep entry 0 recently used
			t.Fatalf("entry 0 evicted at %d: %s", i, r.body)
		}
		if s := a.CacheStats(); s.Bytes > 8000 {
			t.Fatalf("cache holds %d bytes over its 8000 bound", s.Bytes)
		}
	}
	s := a.CacheStats()
	if s.Evictions == 0 || s.Entries < 2 || s.Entries >= 40 || s.Hits != 39 || s.Misses != 40 {
		t.Fatalf("stats %+v", s)
	}
	// The oldest of the others was evicted: fetching it renders again.
	before := src.fetches.Load()
	serve(a, "GET", uri(1), "")
	if src.fetches.Load() != before+1 {
		t.Fatal("evicted entry served")
	}
	// Responses over an eighth of the bound are not stored.
	big := New(src, Options{Now: clock.Now, CacheBytes: 1000})
	serve(big, "GET", "/render?target=a.b&from=990000&until=999000&format=json", "")
	if s := big.CacheStats(); s.Entries != 0 {
		t.Fatalf("big response cached: %+v", s)
	}
	if s := New(src, Options{CacheBytes: -1}).CacheStats(); s != (CacheStats{}) {
		t.Fatalf("disabled cache stats %+v", s)
	}
}

// TestRenderCacheCalendar: a calendar time (midnight) that changes inside
// a bucket is never served the other day's window.
func TestRenderCacheCalendar(t *testing.T) {
	src := newCountingSource("a.b")
	clock := &testClock{}
	a := newCachedAPI(src, clock, 0)
	const midnight = 12 * 86400 // 1036800; with cacheTimeout=7 the bucket is [1036798, 1036805)
	uri := "/render?target=a.b&from=midnight&format=json&cacheTimeout=7"
	var bodies []string
	for _, w := range []int64{midnight - 1, midnight + 1, midnight + 3} {
		clock.t.Store(w)
		bodies = append(bodies, serve(a, "GET", uri, "").body)
	}
	if src.fetches.Load() != 2 || bodies[1] != bodies[2] || bodies[0] == bodies[1] {
		t.Fatalf("fetches %d, bodies %q", src.fetches.Load(), bodies)
	}
	// Before midnight the window is the whole day; one second after, it is
	// one second long (no whole minute: no points).
	if bodies[1] != "[]" || !strings.HasPrefix(bodies[0], `[{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [[1.0, 950460]`) {
		t.Fatalf("after midnight: %s", bodies[1])
	}
}

func TestRenderCacheConcurrent(t *testing.T) {
	src := newCountingSource("a.b", "a.c")
	clock := &testClock{}
	clock.t.Store(1_000_000)
	a := newCachedAPI(src, clock, 20_000)
	const workers, per = 4, 150
	done := make(chan bool)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := 0; i < per; i++ {
				uri := fmt.Sprintf("/render?target=a.*&from=%d&until=990700&format=json", 990000+(i*7+w)%40*10)
				if r := serve(a, "GET", uri, ""); r.status != 200 || !strings.HasPrefix(r.body, `[{"target": "a.b"`) {
					t.Errorf("%s: %d %s", uri, r.status, r.body)
				}
				if i%50 == 0 {
					clock.t.Add(1)
				}
			}
			done <- true
		}(w)
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	s := a.CacheStats()
	if s.Hits+s.Misses != workers*per || s.Hits == 0 || s.Bytes > 20_000 {
		t.Fatalf("stats %+v", s)
	}
}

// blockingSource blocks every fetch until release is closed.
type blockingSource struct {
	*countingSource
	release chan struct{}
}

func (b *blockingSource) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	<-b.release
	return b.countingSource.Fetch(name, from, until, now)
}

func TestRenderCacheCoalesces(t *testing.T) {
	src := &blockingSource{countingSource: newCountingSource("a.b"), release: make(chan struct{})}
	clock := &testClock{}
	clock.t.Store(1_000_000)
	a := New(src, Options{Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	const n = 5
	bodies := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() { bodies <- serve(a, "GET", "/render?target=a.b&from=-10min&format=json", "").body }()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		a.cache.mu.Lock()
		w := a.cache.waiters
		a.cache.mu.Unlock()
		if w == n-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters, want %d", w, n-1)
		}
	}
	close(src.release)
	first := <-bodies
	for i := 1; i < n; i++ {
		if b := <-bodies; b != first {
			t.Fatalf("bodies differ: %s vs %s", b, first)
		}
	}
	if f := src.fetches.Load(); f != 1 {
		t.Fatalf("%d fetches, want 1", f)
	}
	if s := a.CacheStats(); s.Misses != n || s.Coalesced != n-1 || s.Hits != 0 {
		t.Fatalf("stats %+v", s)
	}
}
