package pebble

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbago/plumbago/internal/realdata"
	"github.com/plumbago/plumbago/storage"
)

// The store under testdata/formatv0 was written by the block format before
// decimal scaling (header bits 3-7 zero: XOR floats, for/delta/dod
// integers), at commit 48b0c10, with
//
//	PLUMBAGO_WRITE_FORMAT_STORE=$PWD/storage/pebble/testdata/formatv0 \
//	  go test -run TestWriteFormatStore ./storage/pebble/
//
// TestFormatV0StoreReads opens a copy with today's code and compares every
// archive with a store the same points are written to now.

const formatNow = 1_700_000_000

var formatSchemas = "[all]\npattern = .*\nretentions = 10s:6h,1m:1d\n"
var formatAggregation = "[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"

// formatBatches returns the points of the compat store, in 8 writes: a
// collectd host's worth of realistic series plus integers, arbitrary
// floats and special values.
func formatBatches() []storage.Batch {
	d := realdata.Collectd(3, 1)
	const steps = 1100
	const writes = 8
	start := int64(formatNow - steps*10)
	batches := make([]storage.Batch, writes)
	add := func(w int, name string, ts int64, v float64) {
		b := &batches[w]
		if n := len(b.Series); n == 0 || b.Series[n-1].Name != name {
			b.Series = append(b.Series, storage.SeriesPoints{Name: name})
		}
		sp := &b.Series[len(b.Series)-1]
		sp.Points = append(sp.Points, storage.Point{Timestamp: ts, Value: v})
	}
	for i := 0; i < d.Len(); i++ {
		for s := 0; s < steps; s++ {
			v, ok := d.Next(i)
			if ok {
				add(s*writes/steps, d.Name(i), start+int64(s)*10, v)
			}
		}
	}
	for s := 0; s < steps; s++ {
		w, ts := s*writes/steps, start+int64(s)*10
		add(w, "other.ints", ts, float64(s%100))
		add(w, "other.floats", ts, math.Sin(float64(s))*1e3)
		if s%7 == 0 {
			add(w, "other.special", ts, []float64{math.Copysign(0, -1), math.Inf(1), 1e300, 5e-324, -2.5}[s/7%5])
		}
	}
	return batches
}

// TestWriteFormatStore writes the compat store with today's code into
// $PLUMBAGO_WRITE_FORMAT_STORE (run only when that is set).
func TestWriteFormatStore(t *testing.T) {
	dir := os.Getenv("PLUMBAGO_WRITE_FORMAT_STORE")
	if dir == "" {
		t.Skip("PLUMBAGO_WRITE_FORMAT_STORE not set")
	}
	opts := DefaultOptions()
	opts.Dir = dir
	opts.Rules = testRules(t, formatSchemas, formatAggregation)
	opts.Now = func() int64 { return formatNow }
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range formatBatches() {
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Open and close again: pebble deletes the WAL files of the first
	// run at the next open.
	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "LOCK"))
}

// copyDir copies the regular files of src into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
