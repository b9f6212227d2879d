package pebble

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage/cache"
	"github.com/plumbago/plumbago/storage/index"
)

// BenchmarkCacheW1 is W1 in process, without the network: two producers
// (as two event loops would) add 100,000 new metrics x 100 points at 1 s,
// step by step in W1's order, through the write buffer (storage/cache,
// default options: 1 s flushes, 2xGOMAXPROCS shards) into the store, until
// the cache reports every point committed. One op is the whole W1
// (10 M points); run with -benchtime=1x. cpu-ns/point is the process's
// CPU time (pebble's flushes and compactions and the GC included) over the
// points: steadier than points/s on a shared machine.
func BenchmarkCacheW1(b *testing.B) {
	const metrics, steps = 100_000, 100
	names := make([][]byte, metrics)
	for i := range names {
		names[i] = []byte("loadtest.w1.host" + strconv.Itoa(i%1000) + ".metric" + strconv.Itoa(i))
	}
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		now := time.Now().Unix()
		s, _, c := benchCachedStore(b, now, false)
		base := now - steps
		b.StartTimer()
		start := time.Now()
		cpu0 := processCPU()
		var wg sync.WaitGroup
		for pr := 0; pr < 2; pr++ {
			wg.Add(1)
			go func(pr int) {
				defer wg.Done()
				p := c.NewProducer()
				for st := 0; st < steps; st++ {
					for i := pr; i < metrics; i += 2 {
						p.AddPoint(names[i], base+int64(st), float64((i+st)%100))
						if i&1023 == pr {
							p.Flush()
						}
					}
				}
				p.Flush()
			}(pr)
		}
		wg.Wait()
		for c.Stats().Committed < metrics*steps {
			time.Sleep(2 * time.Millisecond)
		}
		el := time.Since(start)
		cpu := processCPU() - cpu0
		b.StopTimer()
		b.ReportMetric(metrics*steps/el.Seconds(), "points/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/(metrics*steps), "cpu-ns/point")
		c.Close()
		if err := s.Flush(true); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(s.Stats().TableBytes)/(metrics*steps), "bytes/point")
		s.Close()
	}
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

// benchCachedStore opens a W1-ruled store and a write buffer with default
// options in front of it, both feeding one index.
func benchCachedStore(b *testing.B, now int64, writesIndexed bool) (*Store, *index.Index, *cache.Cache) {
	s := benchStore(b, now)
	idx := index.New()
	s.index = idx
	s.opts.WritesIndexed = writesIndexed
	copts := cache.DefaultOptions()
	copts.Step = func(string, int64, int64) int64 { return 1 }
	c, err := cache.New(s, idx, copts)
	if err != nil {
		b.Fatal(err)
	}
	return s, idx, c
}

// peakRSSMB returns the process's peak resident set (VmHWM) in MiB.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkCacheNewSeries measures what a new series costs on its way in:
// one producer adds one point to each of 200,000 names never seen, through
// the write buffer into the store and its index, until all are committed.
// It reports CPU time, allocations and bytes per new series (one op is the
// whole run; use -benchtime=1x). The sub-benchmarks differ in
// Options.WritesIndexed: "index-twice" is the store adding each name the
// write buffer already added.
func BenchmarkCacheNewSeries(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		name := "index-twice"
		if indexed {
			name = "index-once"
		}
		b.Run(name, func(b *testing.B) { benchCacheNewSeries(b, indexed) })
	}
}

func benchCacheNewSeries(b *testing.B, writesIndexed bool) {
	const metrics = 200_000
	names := make([][]byte, metrics)
	for i := range names {
		names[i] = []byte("loadtest.new.host" + strconv.Itoa(i%1000) + ".metric" + strconv.Itoa(i))
	}
	var cpu time.Duration
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		now := time.Now().Unix()
		s, idx, c := benchCachedStore(b, now, writesIndexed)
		b.StartTimer()
		cpu0 := processCPU()
		p := c.NewProducer()
		for i, name := range names {
			p.AddPoint(name, now-1, float64(i%100))
			if i&1023 == 1023 {
				p.Flush()
			}
		}
		p.Flush()
		for c.Stats().Committed < metrics {
			time.Sleep(2 * time.Millisecond)
		}
		b.StopTimer()
		cpu += processCPU() - cpu0
		c.Close()
		if got := idx.Len(); got != metrics {
			b.Fatalf("index holds %d names; want %d", got, metrics)
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*metrics), "ns/series")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*metrics), "cpu-ns/series")
}

// processCPU is the CPU time (user and system) the process used so far:
// on a shared machine it measures work where wall time measures the load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
