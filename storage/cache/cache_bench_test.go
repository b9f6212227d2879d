package cache

import (
	"hash/maphash"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/limits"
)

// discard is a Store that only counts, so the benchmark measures the cache.
type discard struct{ n atomic.Int64 }

func (d *discard) Write(b *storage.Batch) error { d.n.Add(int64(b.Points())); return nil }
func (d *discard) Fetch(string, int64, int64, int64) (*storage.Series, error) {
	return nil, storage.ErrNotFound
}
func (d *discard) Find(string) ([]storage.Node, error) { return nil, nil }
func (d *discard) Close() error                        { return nil }

// BenchmarkProducerToStore measures one producer feeding 10,000 series
// through the lanes, the shard consumers and the writers, until every point
// reached the store.
func BenchmarkProducerToStore(b *testing.B) {
	names := make([][]byte, 10000)
	for i := range names {
		names[i] = []byte("servers.host" + strconv.Itoa(i%100) + ".cpu.metric" + strconv.Itoa(i))
	}
	d := &discard{}
	c, err := New(d, nil, Options{Shards: 4, FlushInterval: 50 * time.Millisecond, Step: func(string, int64, int64) int64 { return 1 }})
	if err != nil {
		b.Fatal(err)
	}
	p := c.NewProducer()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.AddPoint(names[i%len(names)], int64(1700000000+i/len(names)), float64(i&63))
		if i&1023 == 1023 {
			p.Flush()
		}
	}
	p.Flush()
	c.Close()
	b.StopTimer()
	if got := d.n.Load(); got != int64(b.N) {
		b.Fatalf("store got %d points; want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkProducerToStoreWithLimits is BenchmarkProducerToStore with a
// series cap and a throughput quota on every name: the per-point check
// (limits.Binding.Take) must not allocate.
func BenchmarkProducerToStoreWithLimits(b *testing.B) {
	names := make([][]byte, 10000)
	for i := range names {
		names[i] = []byte("servers.host" + strconv.Itoa(i%100) + ".cpu.metric" + strconv.Itoa(i))
	}
	rules, _, err := limits.ParseQuotas(strings.NewReader("[*]\nthroughput = max\nmetrics = 1,000,000\n"))
	if err != nil {
		b.Fatal(err)
	}
	d := &discard{}
	idx := index.New()
	lim := limits.New(limits.Config{MaxSeries: 1_000_000, Rules: rules})
	c, err := New(d, idx, Options{Shards: 4, FlushInterval: 50 * time.Millisecond, Step: func(string, int64, int64) int64 { return 1 }, Limits: lim})
	if err != nil {
		b.Fatal(err)
	}
	p := c.NewProducer()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.AddPoint(names[i%len(names)], int64(1700000000+i/len(names)), float64(i&63))
		if i&1023 == 1023 {
			p.Flush()
		}
	}
	p.Flush()
	c.Close()
	b.StopTimer()
	if got := d.n.Load(); got != int64(b.N) {
		b.Fatalf("store got %d points; want %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkBufferedPoints measures what the write buffer holds for points
// not yet written: one producer adds 20 points to each of 100,000 series
// (timestamps 10 s apart) with no write cycle in between, as at the peak
// of a burst of new series. Values are loadtest's small integers or
// two-decimal gauges. It reports the time per point, the heap the buffer
// holds per point (series included) after a GC, and Stats.BufferedBytes
// per point, and the process's CPU time per point (user and system: on a
// shared machine wall time measures the load). One op is the whole run; use -benchtime=1x.
func BenchmarkBufferedPoints(b *testing.B) {
	b.Run("integers", func(b *testing.B) {
		benchBufferedPoints(b, func(i, k int) float64 { return float64((i + k) % 100) })
	})
	b.Run("decimals", func(b *testing.B) {
		benchBufferedPoints(b, func(i, k int) float64 { return float64((i*7+k*13)%10000) / 100 })
	})
}

func benchBufferedPoints(b *testing.B, value func(i, k int) float64) {
	const metrics, points = 100_000, 20
	names := make([][]byte, metrics)
	for i := range names {
		names[i] = []byte("loadtest.buf.host" + strconv.Itoa(i%1000) + ".metric" + strconv.Itoa(i))
	}
	var heap, held float64
	var cpu time.Duration
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		d := &discard{}
		c, err := New(d, nil, Options{Shards: 4, FlushInterval: time.Hour, IdleSeriesAfter: -1, Step: func(string, int64, int64) int64 { return 10 }})
		if err != nil {
			b.Fatal(err)
		}
		p := c.NewProducer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0 := processCPU()
		b.StartTimer()
		for k := range points {
			for i, name := range names {
				p.AddPoint(name, int64(1_700_000_000+10*k), value(i, k))
			}
			p.Flush()
		}
		for c.Stats().Buffered < metrics*points {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		cpu += processCPU() - cpu0
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		held += float64(c.Stats().BufferedBytes)
		c.Close()
	}
	total := float64(b.N * metrics * points)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/point")
	b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/point")
	b.ReportMetric(heap/total, "heap-B/point")
	b.ReportMetric(held/total, "held-B/point")
}

// processCPU is the CPU time (user and system) the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSeriesCycles drives the point buffers of 10,000 series through
// write cycles as W1's second pass does (100,000 series × 100 points in
// about 2.5 one-second cycles): each cycle every series takes 30 points,
// step by step across the series, then the cycle starts (startFlush), 10
// more points arrive while it writes, and the written points are dropped.
// It measures appendPoint and dropFlushing alone, with their buffer
// growth; one op is one cycle (400,000 points).
func BenchmarkSeriesCycles(b *testing.B) {
	const nSeries, before, during = 10_000, 30, 10
	ss := make([]series, nSeries)
	ts := int64(1_700_000_000)
	add := func(k int) {
		for range k {
			for i := range ss {
				ss[i].appendPoint(ts, float64((i+int(ts))%100))
			}
			ts++
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		add(before)
		for i := range ss {
			ss[i].startFlush()
		}
		add(during)
		for i := range ss {
			ss[i].dropFlushing()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nSeries*(before+during)), "ns/point")
}

// BenchmarkNewSeries measures filing new series as the server does (an
// index and a series cap, no quota rules): one op is one point of a name
// the buffer and the index have not seen, flat names under one parent as
// in loadtest's 1 M series run, until every point reached the store.
func BenchmarkNewSeries(b *testing.B) {
	names := make([][]byte, b.N)
	for i := range names {
		names[i] = []byte("loadtest.m1.m" + strconv.Itoa(10_000_000 + i)[1:])
	}
	d := &discard{}
	idx := index.New()
	lim := limits.New(limits.Config{MaxSeries: int64(b.N) + 1, Walk: idx.Walk})
	c, err := New(d, idx, Options{Shards: 2, FlushInterval: 50 * time.Millisecond, Step: func(string, int64, int64) int64 { return 1 }, Limits: lim})
	if err != nil {
		b.Fatal(err)
	}
	p := c.NewProducer()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range names {
		p.AddPoint(names[i], 1700000000, float64(i&63))
	}
	p.Flush()
	c.Close()
	b.StopTimer()
	if got := d.n.Load(); got != int64(b.N) || idx.Len() != b.N {
		b.Fatalf("store got %d points, index %d names; want %d", got, idx.Len(), b.N)
	}
}

// BenchmarkShardIngest hands one shard 512-point chunks of W1's second
// pass (100,000 known series, step after step across them) and writes
// every 40 steps, as the shard's writer does about once a second at W1's
// rate; the clock runs only while ingest files the points (lookChunk,
// appendPoint). One op is one point.
func BenchmarkShardIngest(b *testing.B) {
	const nSeries, chunkPoints, cycle = 100_000, 512, 40
	d := &discard{}
	c, err := New(d, nil, Options{Shards: 1, FlushInterval: time.Hour, IdleSeriesAfter: -1, Step: func(string, int64, int64) int64 { return 1 }})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	sh := c.shards[0]
	names := make([][]byte, nSeries)
	hashes := make([]uint64, nSeries)
	for i := range names {
		names[i] = []byte("loadtest.w1.m" + strconv.Itoa(100000+i))
		hashes[i] = maphash.Bytes(c.seed, names[i])
	}
	ch := &chunk{}
	ts := int64(1_700_000_000)
	step := func() { // one point of every series, in chunks
		for i := 0; i < nSeries; i += chunkPoints {
			ch.reset()
			for j := i; j < min(i+chunkPoints, nSeries); j++ {
				ch.add(hashes[j], names[j], ts, float64((j+int(ts))%100))
			}
			sh.ingest(ch)
		}
		ts++
	}
	for range cycle { // the first pass: the series exist, written once
		step()
	}
	sh.writeOnce(true, false)
	// The thread's CPU time, not the wall clock: on a shared machine the
	// wall measures the load.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n += nSeries {
		t0 := threadCPU()
		step()
		cpu += threadCPU() - t0
		if ts%cycle == 0 {
			b.StopTimer()
			sh.writeOnce(true, false)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/point")
}

// threadCPU is the CPU time (user and system) the calling thread used so
// far.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
