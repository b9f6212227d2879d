package pebble

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/plumbago/plumbago/internal/realdata"
	"github.com/plumbago/plumbago/storage"
)

// BenchmarkRealdataBytes measures the bytes per point of the whole pebble
// directory on internal/realdata's datasets (issue 19): series x 2,160
// points at 10 s (schema 10s:12h,1m:7d, average, xFilesFactor 0), written
// time-major 360 steps (an hour) per Write, then closed and reopened
// (reported as B/point), then fully compacted and closed (B/point-compacted).
// The data's own entropy (values given the previous value) is reported
// beside as entropy-B/point. Series: $PLUMBAGO_REALDATA_SERIES (10,000 by
// default; the collectd set rounds it to whole hosts of 38). Run with
// -benchtime=1x; each op is one whole run.
func BenchmarkRealdataBytes(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("PLUMBAGO_REALDATA_SERIES")); err == nil && v > 0 {
		n = v
	}
	for _, tc := range []struct {
		name string
		data func() *realdata.Dataset
	}{
		{"gauges", func() *realdata.Dataset { return realdata.Gauges(1, n, 2) }},
		{"collectd", func() *realdata.Dataset { return realdata.Collectd(1, (n+37)/38) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				runRealdataBytes(b, tc.data())
			}
		})
	}
}

func runRealdataBytes(b *testing.B, d *realdata.Dataset) {
	opts := realdataOptions(b)
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	e := realdata.NewEntropy(d)
	writeRealdata(b, s, d, e)
	points := float64(e.Points())
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if s, err = Open(opts); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	reportDirBytes(b, opts.Dir, points, "B/point")
	roOpts := opts
	roOpts.ReadOnly = true
	if s, err = Open(roOpts); err != nil {
		b.Fatal(err)
	}
	logSplit(b, s, opts.Dir, points)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	// Settled: reopened and left idle until level 0 is empty, compaction
	// debt 0 and no compaction runs (what a server does by itself after a
	// load, docs/pebble.md "Compaction and settling"), then closed.
	settleOpts := opts
	settleOpts.IdleFlush = time.Second
	if s, err = Open(settleOpts); err != nil {
		b.Fatal(err)
	}
	b.Logf("reopened: %+v", s.Stats())
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		st := s.Stats()
		if st.L0Files == 0 && st.CompactionDebtBytes == 0 && st.CompactionsInProgress == 0 {
			b.Logf("settled: %+v", st)
			logSplit(b, s, opts.Dir, points)
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("not settled 5 minutes after the reopen: %+v", st)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	reportDirBytes(b, opts.Dir, points, "B/point-settled")
	if s, err = Open(opts); err != nil {
		b.Fatal(err)
	}
	if err := s.Flush(true); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	reportDirBytes(b, opts.Dir, points, "B/point-compacted")
	b.ReportMetric(e.BytesPerPoint(), "entropy-B/point")
	b.ReportMetric(points, "points")
}

const (
	realdataSteps = 2160
	realdataNow   = int64(1_700_000_000)
)

// realdataOptions are the options of the realdata benchmarks: a fresh
// directory, schema 10s:12h,1m:7d, average, xFilesFactor 0, a fixed clock.
func realdataOptions(b *testing.B) Options {
	opts := DefaultOptions()
	opts.Dir = b.TempDir()
	opts.Rules = testRules(b, "[all]\npattern = .*\nretentions = 10s:12h,1m:7d\n",
		"[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n")
	opts.Now = func() int64 { return realdataNow }
	return opts
}

// writeRealdata writes realdataSteps steps of every series of d ending at
// realdataNow, time-major, 360 steps (an hour) per Write, counting them
// into e.
func writeRealdata(b *testing.B, s *Store, d *realdata.Dataset, e *realdata.Entropy) {
	const perWrite = 360
	start := realdataNow - realdataSteps*10
	var batch storage.Batch
	for s0 := 0; s0 < realdataSteps; s0 += perWrite {
		batch.Reset()
		for i := 0; i < d.Len(); i++ {
			var pts []storage.Point
			for st := s0; st < s0+perWrite; st++ {
				v, ok := d.Next(i)
				e.Add(i, v, ok)
				if ok {
					pts = append(pts, storage.Point{Timestamp: start + int64(st)*10, Value: v})
				}
			}
			if len(pts) > 0 {
				batch.Series = append(batch.Series, storage.SeriesPoints{Name: d.Name(i), Points: pts})
			}
		}
		if err := s.Write(&batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRealdataFetch measures a Fetch of one whole gauge series (its
// 2,160 raw points, the last 6 hours) from a compacted store of
// $PLUMBAGO_REALDATA_SERIES (2,000 by default) realdata gauges, series
// taken in a random order: with the default 64 MiB of caches (warm after
// the first pass) and with 1 MiB (nearly every block read from the
// sstables, through the OS page cache): what the sstable block size and
// the block encoding cost a read.
func BenchmarkRealdataFetch(b *testing.B) {
	n := 2_000
	if v, err := strconv.Atoi(os.Getenv("PLUMBAGO_REALDATA_SERIES")); err == nil && v > 0 {
		n = v
	}
	d := realdata.Gauges(1, n, 2)
	opts := realdataOptions(b)
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	writeRealdata(b, s, d, realdata.NewEntropy(d))
	if err := s.Flush(true); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	for _, cache := range []int64{64 << 20, 1 << 20} {
		b.Run(fmt.Sprintf("cache=%dMiB", cache>>20), func(b *testing.B) {
			o := opts
			o.CacheSize = cache
			s, err := Open(o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				got, err := s.Fetch(d.Name(order[i%n]), realdataNow-realdataSteps*10, realdataNow, realdataNow)
				if err != nil || len(got.Values) != realdataSteps {
					b.Fatal(err, len(got.Values))
				}
				i++
			}
		})
	}
}

// reportDirBytes reports dir's bytes per point as metric unit, and logs
// the exact figures (a metric prints four digits).
func reportDirBytes(b *testing.B, dir string, points float64, unit string) {
	n := dirBytes(b, dir)
	b.ReportMetric(float64(n)/points, unit)
	b.Logf("%s: %d bytes / %.0f points = %.5f", unit, n, points, float64(n)/points)
}

// dirBytes is du -sb: the apparent size of every file under dir.
func dirBytes(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// logSplit logs where a store's bytes are (issue 19): the values of each
// ring's blocks (raw 10 s, 1-minute averages), the other records, and the
// sstables' data blocks, index and filters beside the whole files, then
// every other file of the directory.
func logSplit(b *testing.B, s *Store, dir string, points float64) {
	it, err := s.db.NewIter(nil)
	if err != nil {
		b.Fatal(err)
	}
	valBytes := map[string]int64{}
	keys := map[string]int64{}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		what := string(k[:1])
		if ring, _, _, ok := parseDataKey(k); ok && int(ring) < len(s.ringList) {
			what = fmt.Sprintf("D ring step %ds", s.ringList[ring].step)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			b.Fatal(err)
		}
		valBytes[what] += int64(len(v))
		keys[what]++
	}
	if err := it.Close(); err != nil {
		b.Fatal(err)
	}
	for what, n := range valBytes {
		b.Logf("split: %-16s %8d records, values %10d bytes, %.5f B/point", what, keys[what], n, float64(n)/points)
	}
	levels, err := s.db.SSTables(pebble.WithProperties())
	if err != nil {
		b.Fatal(err)
	}
	var files, data, index, filter, rawKey, rawVal, entries uint64
	for l, tables := range levels {
		for _, t := range tables {
			files += t.Size
			data += t.Properties.DataSize
			index += t.Properties.IndexSize
			filter += t.Properties.FilterSize
			rawKey += t.Properties.RawKeySize
			rawVal += t.Properties.RawValueSize
			entries += t.Properties.NumEntries
		}
		if len(tables) > 0 {
			b.Logf("split: level %d: %d tables", l, len(tables))
		}
	}
	b.Logf("split: sstables %d bytes (%.5f B/point): %d entries, data blocks %d (values %d, keys %d), index %d, filter %d, the rest %d",
		files, float64(files)/points, entries, data, rawVal, rawKey, index, filter, int64(files)-int64(data+index+filter))
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Ext(p) == ".sst" {
			return err
		}
		fi, err := e.Info()
		if err == nil {
			b.Logf("split: file %s %d bytes", filepath.Base(p), fi.Size())
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}
