package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
)

// rssSampler records a process's RSS every 20 ms until stopped.
type rssSampler struct {
	mu   sync.Mutex
	peak int64
	last int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			rss := vmRSS(t, pid)
			s.mu.Lock()
			s.peak, s.last = max(s.peak, rss), rss
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *rssSampler) end() int64 {
	close(s.stop)
	<-s.done
	return s.peak
}

// settledRSS is a server's steady RSS under light traffic: it calls light
// every 300 ms and samples the RSS until the last 20 samples (6 s) lie
// within 4 MiB of each other and the anonymous RSS is within freeSlack of
// the Go heap in use, and returns the largest of the 20. Right after a
// burst the RSS is still falling while the server gives the burst's memory
// back (internal/memrelease checks every few seconds, later on a loaded
// machine): a maximum taken then is the burst's tail, not the steady state,
// and it made a later burst's rise over "steady" look too small. A flat RSS
// is not enough: free heap the runtime has not yet returned can sit flat
// for longer than the window (a steady state of 163 MiB with 141 MB
// anonymous for 111 MiB of heap in use, session 15), and a bound taken
// from it proves less. Fails when the RSS has not settled in 2 minutes.
func settledRSS(t *testing.T, p *proc, light func(i int)) int64 {
	t.Helper()
	const window, spread, freeSlack = 20, 4 << 20, 24 << 20
	pid := p.cmd.Process.Pid
	var samples []int64
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; ; i++ {
		light(i)
		time.Sleep(300 * time.Millisecond) // pacing the light traffic, not synchronisation
		samples = append(samples, vmRSS(t, pid))
		if len(samples) > window {
			samples = samples[1:]
		}
		if lo, hi := slices.Min(samples), slices.Max(samples); len(samples) == window && hi-lo <= spread {
			anon, heap := procStatusBytes(t, pid, "RssAnon"), int64(p.metric(t, "plumbago_go_heap_bytes"))
			if anon <= heap+freeSlack {
				t.Logf("RSS settled after %d samples of light traffic: %.1f to %.1f MiB (anonymous %.1f MiB, Go heap in use %.1f MiB)",
					i+1, float64(lo)/(1<<20), float64(hi)/(1<<20), float64(anon)/(1<<20), float64(heap)/(1<<20))
				return hi
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("RSS not settled within 4 MiB over 6 s of light traffic, with the anonymous RSS within %d MiB of the Go heap in use, in 2 minutes; last samples %v (%s; Go heap in use %.1f MiB)",
				freeSlack>>20, samples, rssParts(t, pid), p.metric(t, "plumbago_go_heap_bytes")/(1<<20))
		}
	}
}

// statsdTimerFlood sends perKey samples of each of keys timers over TCP
// (none lost), values 0..999 repeated.
func statsdTimerFlood(t *testing.T, addr, prefix string, keys, perKey int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, keys)
	for k := 0; k < keys; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			var chunk []byte
			for v := 0; v < 1000; v++ {
				chunk = fmt.Appendf(chunk, "%s.t%d:%d|ms\n", prefix, k, v)
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			buf := bytes.Repeat(chunk, 100)
			for sent := 0; sent < perKey; sent += 100_000 {
				if _, err := c.Write(buf); err != nil {
					errs <- err
					return
				}
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// rssParts is the anonymous and file-backed parts of the RSS, for logs.
func rssParts(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "RssAnon:") || strings.HasPrefix(line, "RssFile:") {
			parts = append(parts, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(parts, ", ")
}

// TestMemoryReturnsAfterSpike (issue #16 item 4), both backends: the
// binary under a 512 MiB memory budget, light steady traffic; its steady
// RSS is measured; then a spike (a statsd timer flood, expensive renders
// of 10-day series, a burst of points for the existing series); the peak
// must stay under the budget and, once the spike is over, the RSS must
// come back to within 1.5 × steady + 24 MiB within 60 s.
func TestMemoryReturnsAfterSpike(t *testing.T) {
	eachBackend(t, testMemoryReturns)
}

func testMemoryReturns(t *testing.T, bin, backend string) {
	saddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	_, config := statsdFiles(t, "")
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[big]\npattern = ^big\\.\nretentions = 1s:10d\n\n[all]\npattern = .*\nretentions = 1s:1h\n")
	p := startPlumbago(t, bin, "--backend", backend, "--data-dir", filepath.Join(dir, "data"), "--statsd-addr", saddr,
		"--schemas", schemas, "--config", config, "--memory-budget", "512MiB",
		// The twelve renders queue for the budget; on a loaded machine
		// the default 10 s wait can run out (a 503), which is not what
		// this test is about.
		"--query-queue-wait", "2m",
		// Blocks the spike's renders read stay in pebble's block cache
		// (a quarter of the budget, in the Go heap of a static build):
		// memory held by design, not the spike's; a small cache keeps it
		// from hiding a leak. Ignored by the whisper backend.
		"--pebble-cache", "8MiB")
	pid := p.cmd.Process.Pid
	now := time.Now().Unix()
	var lines []string
	for i := 0; i < 100; i++ {
		lines = append(lines, fmt.Sprintf("steady.s%03d %d %d", i, i, now-10))
	}
	lines = append(lines, fmt.Sprintf("big.a 1 %d", now-10), fmt.Sprintf("big.b 2 %d", now-10))
	sendCarbon(t, p.carbon, lines...)
	statsdTimerFlood(t, saddr, "steady", 2, 1000)
	waitMetric(t, p, "plumbago_points_committed_total", 102)
	steady := settledRSS(t, p, func(i int) {
		sendCarbon(t, p.carbon, fmt.Sprintf("steady.s000 %d %d", i, time.Now().Unix()))
	})
	steadyParts := rssParts(t, pid)
	s := sampleRSS(t, pid)
	var wg sync.WaitGroup
	wg.Add(5)
	go func() { defer wg.Done(); statsdTimerFlood(t, saddr, "flood", 4, 4_000_000) }()
	for r := 0; r < 3; r++ {
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				a := renderGet(t, p.http, "target=big.a&target=big.b&from=-10d")
				if a.code != 200 {
					t.Errorf("render: %d %q", a.code, a.body)
				}
			}
		}()
	}
	go func() {
		defer wg.Done()
		c, err := net.Dial("tcp", p.carbon)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		var b []byte
		for i := 0; i < 1000; i++ {
			for k := 0; k < 100; k++ {
				b = fmt.Appendf(b, "steady.s%03d %d %d\n", k, i, now-1000+int64(i))
			}
		}
		if _, err := c.Write(b); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	waitMetric(t, p, "plumbago_statsd_metrics_total", 4*4_000_000+2*1000)
	peak := s.end()
	bound := steady*3/2 + 24<<20
	t.Logf("%s: steady %.1f MiB (%s), peak %.1f MiB, bound for the return %.1f MiB", backend,
		float64(steady)/(1<<20), steadyParts, float64(peak)/(1<<20), float64(bound)/(1<<20))
	if peak > 512<<20 {
		t.Errorf("peak RSS %.1f MiB; want under the 512 MiB --memory-budget", float64(peak)/(1<<20))
	}
	if peak <= bound {
		t.Fatalf("peak RSS %.1f MiB is within the bound for the return (%.1f MiB): the spike proves nothing", float64(peak)/(1<<20), float64(bound)/(1<<20))
	}
	// Points of the spike still waiting in the write buffer are work in
	// progress, not leftovers (whisper on a loaded machine writes the
	// burst for a while): the 60 s start once the buffer has drained.
	drain := time.Now().Add(3 * time.Minute)
	for p.metric(t, "plumbago_buffered_points") > 0 {
		if time.Now().After(drain) {
			t.Fatalf("%v points still buffered 3 min after the spike", p.metric(t, "plumbago_buffered_points"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	for vmRSS(t, pid) > bound {
		if time.Now().After(deadline) {
			t.Fatalf("RSS %.1f MiB 60 s after the spike (%s; Go heap in use %.1f MiB, %v forced releases); want back under %.1f MiB (1.5 × steady + 24 MiB)",
				float64(vmRSS(t, pid))/(1<<20), rssParts(t, pid), p.metric(t, "plumbago_go_heap_bytes")/(1<<20),
				p.metric(t, "plumbago_memory_releases_total"), float64(bound)/(1<<20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s: RSS back to %.1f MiB (%s) %v after the spike; %v forced releases", backend, float64(vmRSS(t, pid))/(1<<20),
		rssParts(t, pid), time.Since(start).Round(100*time.Millisecond), p.metric(t, "plumbago_memory_releases_total"))
	p.stop(t)
}

// TestMemoryReturnsAfterSeriesBurst (issue #19 item 4: "RSS returns to
// within 1.5× of its steady state after an ingest burst"), pebble: the
// binary under a 512 MiB memory budget. A first burst creates 200,000 new
// series (one point each, 4 connections, as fast as the server takes
// them); once committed and the RSS has settled (settledRSS), the steady
// state of a server holding them is measured under light traffic. Then the
// burst: 40 more points for each of the 200,000 series (8 M points). Once
// every point is committed the RSS
// must come back within 120 s to 1.5 × steady + 24 MiB; the burst must
// have raised the RSS by 32 MiB or more over steady, or it proves nothing.
func TestMemoryReturnsAfterSeriesBurst(t *testing.T) {
	const series, perSeries = 200_000, 40
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1h\n")
	// No carbon.agents self-metrics: on a loaded box the test outlasts
	// their minute and they would add series to the count below.
	cfg := writeFile(t, dir, "plumbago.toml", "[carbon]\nmetric-interval = \"0s\"\n")
	p := startPlumbago(t, bin, "--config", cfg, "--backend", "pebble", "--data-dir", filepath.Join(dir, "data"),
		"--schemas", schemas, "--memory-budget", "512MiB", "--max-series", "-1", "--pebble-idle-flush", "2s")
	pid := p.cmd.Process.Pid
	now := time.Now().Unix()
	created := time.Now()
	burstSeries(t, p, series, 1, now-int64(perSeries+1)*10)
	t.Logf("%d new series committed in %v; RSS %.1f MiB", series, time.Since(created).Round(100*time.Millisecond), float64(vmRSS(t, pid))/(1<<20))
	steady := settledRSS(t, p, func(i int) {
		sendCarbon(t, p.carbon, fmt.Sprintf("burst.b000.s000000 %d %d", i, time.Now().Unix()))
	})
	steadyParts := memParts(t, p)
	s := sampleRSS(t, pid)
	burstStart := time.Now()
	burstSeries(t, p, series, perSeries, now-int64(perSeries)*10)
	burst := time.Since(burstStart)
	peak := s.end()
	// The return must meet the bound (1.5 × steady + 24 MiB) and
	// give back at least half of what the burst added: with a small burst
	// the bound alone sits above the peak and proves nothing.
	bound := min(steady*3/2+24<<20, steady+(peak-steady)/2)
	t.Logf("steady %.1f MiB with %d series (%s), burst of %d points committed in %v, peak %.1f MiB, bound for the return %.1f MiB",
		float64(steady)/(1<<20), series, steadyParts, series*perSeries, burst.Round(100*time.Millisecond), float64(peak)/(1<<20), float64(bound)/(1<<20))
	if got := p.metric(t, "plumbago_pebble_series"); got != series {
		t.Fatalf("plumbago_pebble_series = %v; want %d", got, series)
	}
	if peak < steady+32<<20 {
		t.Fatalf("peak RSS %.1f MiB, less than 32 MiB over steady (%.1f MiB): the burst proves nothing", float64(peak)/(1<<20), float64(steady)/(1<<20))
	}
	start := time.Now()
	deadline := start.Add(120 * time.Second)
	for vmRSS(t, pid) > bound {
		if time.Now().After(deadline) {
			t.Fatalf("RSS %.1f MiB 120 s after the burst (%s; %v idle flushes); want back under %.1f MiB (1.5 × steady + 24 MiB, at most half the burst's rise over steady)",
				float64(vmRSS(t, pid))/(1<<20), memParts(t, p), p.metric(t, "plumbago_pebble_idle_flushes_total"), float64(bound)/(1<<20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("RSS back to %.1f MiB (%s) %v after the burst", float64(vmRSS(t, pid))/(1<<20), memParts(t, p),
		time.Since(start).Round(100*time.Millisecond))
	p.stop(t)
}

// memParts is where a pebble server's memory is, for logs: the RSS's
// anonymous and file-backed parts, the Go heap in use, pebble's memtables
// and its block cache.
func memParts(t *testing.T, p *proc) string {
	return fmt.Sprintf("%s; Go heap in use %.1f MiB, memtables %.1f MiB, block cache %.1f MiB", rssParts(t, p.cmd.Process.Pid),
		p.metric(t, "plumbago_go_heap_bytes")/(1<<20), p.metric(t, "plumbago_pebble_memtable_bytes")/(1<<20),
		p.metric(t, "plumbago_pebble_block_cache_bytes")/(1<<20))
}

// burstSeries sends perSeries points (at 10 s steps from start) to each of
// the series burst.bNNN.sNNNNNN over 4 connections as fast as the server
// takes them, and waits (up to 5 minutes: minutes on a loaded 2-core box)
// until all of them are committed.
func burstSeries(t *testing.T, p *proc, series, perSeries int, start int64) {
	t.Helper()
	const conns = 4
	committed := p.metric(t, "plumbago_points_committed_total")
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			conn, err := net.Dial("tcp", p.carbon)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			var b []byte
			for j := 0; j < perSeries; j++ {
				for i := c; i < series; i += conns {
					b = fmt.Appendf(b, "burst.b%03d.s%06d %d.25 %d\n", i%1000, i, j, start+int64(j)*10)
					if len(b) >= 1<<20 {
						if _, err := conn.Write(b); err != nil {
							t.Error(err)
							return
						}
						b = b[:0]
					}
				}
			}
			if _, err := conn.Write(b); err != nil {
				t.Error(err)
			}
		}(c)
	}
	wg.Wait()
	want := committed + float64(series*perSeries)
	for deadline := time.Now().Add(5 * time.Minute); p.metric(t, "plumbago_points_committed_total") < want; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("plumbago_points_committed_total = %v 5 minutes after the burst started; want %v",
				p.metric(t, "plumbago_points_committed_total"), want)
		}
	}
}
