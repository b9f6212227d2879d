package pebble

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage/cache"
	"github.com/plumbago/plumbago/storage/index"
)

func TestZZMem(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	metrics, steps := envInt("ZZ_SERIES", 1_000_000), envInt("ZZ_STEPS", 20)
	names := make([][]byte, metrics)
	for i := range names {
		names[i] = []byte("loadtest.w1.host" + strconv.Itoa(i%1000) + ".metric" + strconv.Itoa(i))
	}
	now := time.Now().Unix()
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Rules = w1Rules(t)
	opts.Now = func() int64 { return now }
	opts.MemTableSize = envInt("ZZ_MEM", 64<<20)
	idx := index.New()
	opts.Index = idx
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	copts := cache.DefaultOptions()
	copts.Step = func(string, int64, int64) int64 { return 1 }
	c, err := cache.New(s, idx, copts)
	if err != nil {
		t.Fatal(err)
	}
	base := now - int64(steps)
	start := time.Now()
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
	for c.Stats().Committed < uint64(metrics*steps) {
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("load %v, %.0f points/s, peak RSS %.0f MiB", time.Since(start), float64(metrics*steps)/time.Since(start).Seconds(), peakRSSMB())
	names = nil
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap inuse %d MiB, sys %d MiB; pebble %s", ms.HeapInuse>>20, ms.Sys>>20, "")
	m := s.db.Metrics()
	t.Logf("pebble memtables %d (%d B) zombie %d, cache %d B", m.MemTable.Count, m.MemTable.Size, m.MemTable.ZombieCount, m.BlockCache.Size)
	f, _ := os.Create("/tmp/settle/heap.prof")
	pprof.WriteHeapProfile(f)
	f.Close()
	c.Close()
	s.Close()
}

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return d
}
