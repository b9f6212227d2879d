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

// TestFormatV0StoreReads opens a copy of the store the previous block
// format wrote and checks that every archive of every series reads exactly
// as a store written now with the same points, that writes on top of it
// merge, and that Reencode rewrites its blocks in today's format (smaller)
// without changing a value.
func TestFormatV0StoreReads(t *testing.T) {
	rules := testRules(t, formatSchemas, formatAggregation)
	clock := func() int64 { return formatNow }
	opts := DefaultOptions()
	opts.Dir = copyDir(t, filepath.Join("testdata", "formatv0"))
	opts.Rules = rules
	opts.Now = clock
	old, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	fresh := openTest(t, rules, clock)
	defer fresh.Close()
	for _, b := range formatBatches() {
		if err := fresh.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	seen := map[string]bool{}
	for _, sp := range formatBatches()[0].Series {
		if !seen[sp.Name] {
			seen[sp.Name] = true
			names = append(names, sp.Name)
		}
	}
	if len(names) != 41 {
		t.Fatalf("%d series in the first batch, want 41", len(names))
	}
	compare := func(what string) {
		t.Helper()
		for _, n := range names {
			for _, from := range []int64{formatNow - 6*3600 + 10, formatNow - 86400 + 60} {
				want, err := fresh.Fetch(n, from, formatNow, formatNow)
				if err != nil {
					t.Fatal(err)
				}
				got, err := old.Fetch(n, from, formatNow, formatNow)
				if err != nil {
					t.Fatalf("%s: %s: %v", what, n, err)
				}
				if got.Start != want.Start || got.Step != want.Step || len(got.Values) != len(want.Values) {
					t.Fatalf("%s: %s: %d values from %d step %d, want %d from %d step %d", what, n,
						len(got.Values), got.Start, got.Step, len(want.Values), want.Start, want.Step)
				}
				known := 0
				for i, v := range want.Values {
					if math.Float64bits(v) != math.Float64bits(got.Values[i]) && !(math.IsNaN(v) && math.IsNaN(got.Values[i])) {
						t.Fatalf("%s: %s step %d: %v, want %v", what, n, got.Start+int64(i)*got.Step, got.Values[i], v)
					}
					if !math.IsNaN(v) {
						known++
					}
				}
				if known == 0 {
					t.Fatalf("%s: %s: nothing stored", what, n)
				}
			}
		}
	}
	compare("as written by the old format")
	before := old.Stats().TableBytes
	rewritten, err := old.Reencode()
	if err != nil {
		t.Fatal(err)
	}
	if rewritten < 41 {
		t.Errorf("Reencode rewrote %d blocks, want at least one a series", rewritten)
	}
	if err := old.Flush(true); err != nil {
		t.Fatal(err)
	}
	after := old.Stats().TableBytes
	t.Logf("%d blocks rewritten; sstables %d -> %d bytes", rewritten, before, after)
	if after*2 > before {
		t.Errorf("sstables %d bytes after Reencode, %d before: want at most half", after, before)
	}
	compare("after Reencode")
	if again, err := old.Reencode(); err != nil || again != 0 {
		t.Errorf("second Reencode rewrote %d blocks (%v), want 0", again, err)
	}
	// New points merge into the rewritten blocks as into fresh ones.
	more := storage.Batch{Series: []storage.SeriesPoints{{Name: names[0], Points: []storage.Point{{Timestamp: formatNow - 5, Value: 12.5}}}}}
	for _, s := range []*Store{old, fresh} {
		if err := s.Write(&more); err != nil {
			t.Fatal(err)
		}
	}
	compare("after a write")
}
