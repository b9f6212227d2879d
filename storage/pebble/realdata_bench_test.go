package pebble

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

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
	const steps, perWrite = 2160, 360
	const now = int64(1_700_000_000)
	start := now - steps*10
	opts := DefaultOptions()
	opts.Dir = b.TempDir()
	opts.Rules = testRules(b, "[all]\npattern = .*\nretentions = 10s:12h,1m:7d\n",
		"[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n")
	opts.Now = func() int64 { return now }
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	e := realdata.NewEntropy(d)
	var batch storage.Batch
	for s0 := 0; s0 < steps; s0 += perWrite {
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
	b.ReportMetric(float64(dirBytes(b, opts.Dir))/points, "B/point")
	if s, err = Open(opts); err != nil {
		b.Fatal(err)
	}
	if err := s.Flush(true); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(dirBytes(b, opts.Dir))/points, "B/point-compacted")
	b.ReportMetric(e.BytesPerPoint(), "entropy-B/point")
	b.ReportMetric(points, "points")
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
