package whisper

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gowhisper "github.com/go-graphite/go-whisper"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
)

// W1's schema: 1s:15m,1m:1d, average, xFilesFactor 0; 100 points at 1 s
// steps per series and write.
const (
	benchSchema = "[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n"
	benchAgg    = "[w1]\npattern = .*\naggregationMethod = average\nxFilesFactor = 0\n"
	benchPoints = 100
	benchNow    = int64(1_700_000_000)
)

func benchBatch(name string, now int64) *storage.Batch {
	b := &storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: make([]storage.Point, benchPoints)}}}
	for i := range b.Series[0].Points {
		b.Series[0].Points[i] = storage.Point{Timestamp: now - benchPoints + 1 + int64(i), Value: float64(i % 7)}
	}
	return b
}

// benchDir is a fresh directory under $PLUMBAGO_BENCH_DIR (e.g. /dev/shm to
// take the disk out of the figures) or the test's temp dir.
func benchDir(b *testing.B) string {
	b.Helper()
	root := os.Getenv("PLUMBAGO_BENCH_DIR")
	if root == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(root, "plumbago-bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func benchStore(b *testing.B, dir string, sparse bool) *Store {
	b.Helper()
	now := benchNow
	s, err := Open(Options{Dir: dir, Rules: mustRules(b, benchSchema, benchAgg), Index: index.New(), Sparse: sparse, Now: func() int64 { return now }})
	if err != nil {
		b.Fatal(err)
	}
	<-s.ScanDone()
	return s
}

func reportPerPoint(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPoints), "ns/point")
	b.SetBytes(benchPoints * pointSize)
}

// BenchmarkWriteNew: one op = one series of 100 points into a file that does
// not exist yet (create + update_many).
func BenchmarkWriteNew(b *testing.B) {
	for _, sparse := range []bool{false, true} {
		b.Run(fmt.Sprintf("sparse=%v", sparse), func(b *testing.B) {
			s := benchStore(b, benchDir(b), sparse)
			defer s.Close()
			batches := make([]*storage.Batch, b.N)
			for i := range batches {
				batches[i] = benchBatch("bench.new."+strconv.Itoa(i/1000)+".m"+strconv.Itoa(i), benchNow)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Write(batches[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportPerPoint(b)
		})
	}
	// 4 writers, as storage/cache's default 2 x GOMAXPROCS shards on this box.
	b.Run("parallel4", func(b *testing.B) {
		s := benchStore(b, benchDir(b), false)
		defer s.Close()
		batches := make([]*storage.Batch, b.N)
		for i := range batches {
			batches[i] = benchBatch("bench.new."+strconv.Itoa(i/1000)+".m"+strconv.Itoa(i), benchNow)
		}
		var n atomic.Int64
		b.SetParallelism(2)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Write(batches[n.Add(1)-1]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		reportPerPoint(b)
	})
}

// BenchmarkWriteExisting: one op = one series of 100 points into one of 1000
// existing files (open + update_many + close), serial and with 2 writers.
func BenchmarkWriteExisting(b *testing.B) {
	const files = 1000
	s := benchStore(b, benchDir(b), false)
	defer s.Close()
	batches := make([]*storage.Batch, files)
	for i := range batches {
		batches[i] = benchBatch("bench.old."+strconv.Itoa(i%10)+".m"+strconv.Itoa(i), benchNow)
		if err := s.Write(batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := s.Write(batches[i%files]); err != nil {
				b.Fatal(err)
			}
		}
		reportPerPoint(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Write(batches[n.Add(1)%files]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportPerPoint(b)
	})
}

// BenchmarkGoWhisperExisting is the same workload through go-whisper
// (go-carbon's path: open, UpdateMany, close), for comparison.
func BenchmarkGoWhisperExisting(b *testing.B) {
	const files = 1000
	s := benchStore(b, benchDir(b), false)
	paths := make([]string, files)
	for i := range paths {
		name := "bench.gw." + strconv.Itoa(i%10) + ".m" + strconv.Itoa(i)
		if err := s.Write(benchBatch(name, benchNow)); err != nil {
			b.Fatal(err)
		}
		paths[i], _ = s.FilePath(name)
	}
	s.Close()
	gowhisper.Now = func() time.Time { return time.Unix(benchNow, 0) }
	defer func() { gowhisper.Now = time.Now }()
	src := benchBatch("x", benchNow).Series[0].Points
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := gowhisper.OpenWithOptions(paths[i%files], &gowhisper.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ps := make([]*gowhisper.TimeSeriesPoint, len(src))
		for j, p := range src {
			ps[j] = &gowhisper.TimeSeriesPoint{Time: int(p.Timestamp), Value: p.Value}
		}
		if err := w.UpdateMany(ps); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
	b.StopTimer()
	reportPerPoint(b)
}

var (
	scanOnce sync.Once
	scanTree string
)

const scanFiles = 100_000

// BenchmarkScan: the startup scan of a tree of 100,000 small whisper files
// (100 directories of 1000), made once by copying one file.
func BenchmarkScan(b *testing.B) {
	scanOnce.Do(func() {
		dir, err := os.MkdirTemp(os.Getenv("PLUMBAGO_BENCH_DIR"), "plumbago-scan-bench")
		if err != nil {
			b.Fatal(err)
		}
		now := benchNow
		s, err := Open(Options{Dir: dir, Rules: mustRules(b, "[s]\npattern = .*\nretentions = 60:10\n", ""), Index: index.New(), Now: func() int64 { return now }})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Write(batch("proto", storage.Point{Timestamp: now, Value: 1})); err != nil {
			b.Fatal(err)
		}
		s.Close()
		proto, err := os.ReadFile(filepath.Join(dir, "proto.wsp"))
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "proto.wsp"))
		for d := 0; d < scanFiles/1000; d++ {
			sub := filepath.Join(dir, "servers", "host"+strconv.Itoa(d), "cpu")
			if err := os.MkdirAll(sub, 0o755); err != nil {
				b.Fatal(err)
			}
			for f := 0; f < 1000; f++ {
				if err := os.WriteFile(filepath.Join(sub, "m"+strconv.Itoa(f)+".wsp"), proto, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
		scanTree = dir
	})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		idx := index.New()
		s, err := Open(Options{Dir: scanTree, Index: idx})
		if err != nil {
			b.Fatal(err)
		}
		<-s.ScanDone()
		s.Close()
		if idx.Len() != scanFiles {
			b.Fatalf("scanned %d names, want %d", idx.Len(), scanFiles)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*scanFiles), "ns/file")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if scanTree != "" {
		os.RemoveAll(scanTree)
	}
	os.Exit(code)
}

// BenchmarkFetch: whisper.fetch of the last 15 minutes (900 points of the
// 1 s archive) of an existing file.
func BenchmarkFetch(b *testing.B) {
	s := benchStore(b, benchDir(b), false)
	defer s.Close()
	if err := s.Write(benchBatch("bench.fetch", benchNow)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sr, err := s.Fetch("bench.fetch", benchNow-900, benchNow, benchNow)
		if err != nil || len(sr.Values) != 900 {
			b.Fatal(err, len(sr.Values))
		}
	}
}

// BenchmarkWriteCycle: one op = one write cycle of the write buffer over
// 1,000 existing files: one Write of 1,000 series × 10 points, then (sync=
// true) the Sync the write buffer makes before it trims its write-ahead
// log. The difference between the two is the cost of whisper durability.
func BenchmarkWriteCycle(b *testing.B) {
	const files, perSeries = 1000, 10
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			s := benchStore(b, benchDir(b), false)
			defer s.Close()
			batch := &storage.Batch{}
			for i := 0; i < files; i++ {
				batch.Series = append(batch.Series, storage.SeriesPoints{Name: "bench.cycle." + strconv.Itoa(i%10) + ".m" + strconv.Itoa(i), Points: make([]storage.Point, perSeries)})
			}
			cycle := 0
			fill := func() {
				base := benchNow - 800 + int64(cycle*perSeries%700)
				for i := range batch.Series {
					for k := range batch.Series[i].Points {
						batch.Series[i].Points[k] = storage.Point{Timestamp: base + int64(k), Value: float64(cycle + k)}
					}
				}
				cycle++
			}
			fill()
			if err := s.Write(batch); err != nil { // create the files
				b.Fatal(err)
			}
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fill()
				b.StartTimer()
				if err := s.Write(batch); err != nil {
					b.Fatal(err)
				}
				if sync {
					if err := s.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*files*perSeries), "ns/point")
		})
	}
}
