package pebble

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// TestSettlesAfterBulkLoad bulk-loads a store with a small memtable (many
// flushes, many level-0 files), then leaves it idle: without a write, a
// restart or a manual compaction, level 0 must drain, the compaction debt
// reach zero and the last memtable be flushed (its WAL released), as
// Stats (what /metrics shows) reports. Every point is still there after.
func TestSettlesAfterBulkLoad(t *testing.T) {
	const series, steps, perWrite = 4000, 720, 60 // 2.88 M points at 10 s, written in time order
	sc, err := schema.ParseSchemas(strings.NewReader("[q]\npattern = .*\nretentions = 10s:12h,1m:7d\n"))
	if err != nil {
		t.Fatal(err)
	}
	ag, err := schema.ParseAggregations(strings.NewReader("[q]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	now -= now % 60
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Rules = &schema.Rules{Schemas: sc, Aggregations: ag}
	opts.Now = func() int64 { return now }
	opts.MemTableSize = 1 << 20
	opts.IdleFlush = time.Second
	var onIdle atomic.Int64
	opts.OnIdleFlush = func() { onIdle.Add(1) }
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	base := now - steps*10
	value := func(i, p int) float64 { return float64((i*7919+p*104729)%10000) / 100 } // two decimals, noisy
	name := func(i int) string { return fmt.Sprintf("settle.host%03d.m%02d", i/40, i%40) }
	var b storage.Batch
	for st := 0; st < steps; st += perWrite {
		b.Reset()
		for i := 0; i < series; i++ {
			pts := make([]storage.Point, 0, perWrite)
			for p := st; p < st+perWrite; p++ {
				pts = append(pts, storage.Point{Timestamp: base + int64(p)*10, Value: value(i, p)})
			}
			b.Series = append(b.Series, storage.SeriesPoints{Name: name(i), Points: pts})
		}
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	// Then the live edge: one point per series, as a write buffer flush
	// sends it. It stays in the memtable (and its WAL) until a flush.
	b.Reset()
	for i := 0; i < series; i++ {
		b.Series = append(b.Series, storage.SeriesPoints{Name: name(i), Points: []storage.Point{{Timestamp: now, Value: value(i, steps)}}})
	}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	loaded := s.Stats()
	t.Logf("after the load: %d flushes, %d L0 files in %d sublevels, debt %d B, %d compactions, WAL %d files %d B live",
		loaded.Flushes, loaded.L0Files, loaded.L0Sublevels, loaded.CompactionDebtBytes, loaded.Compactions, loaded.WALFiles, loaded.WALLiveBytes)
	if loaded.Flushes < 10 {
		t.Fatalf("the load made %d flushes; want a bulk load of at least 10", loaded.Flushes)
	}

	// Settled: level 0 empty, nothing left to compact, no compaction
	// running, the last memtable flushed by the idle flush (one live WAL
	// file, holding nothing).
	settled := func(st Stats) bool {
		return st.L0Files == 0 && st.L0Sublevels == 0 && st.CompactionDebtBytes == 0 && st.CompactionsInProgress == 0 &&
			st.IdleFlushes >= 1 && st.WALFiles == 1 && st.WALLiveBytes == 0
	}
	deadline := time.Now().Add(3 * time.Minute) // seconds when idle; generous for a loaded machine
	st := s.Stats()
	for !settled(st) {
		if time.Now().After(deadline) {
			t.Fatalf("not settled after 3 minutes idle: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
		st = s.Stats()
	}
	t.Logf("settled: %d flushes (%d idle), %d compactions, read amplification %d, WAL %d obsolete files, %d B on disk",
		st.Flushes, st.IdleFlushes, st.Compactions, st.ReadAmp, st.WALObsoleteFiles, st.WALDiskBytes)
	// The flushed WAL files are deleted, not kept for recycling: the one
	// live file is the only log on disk.
	if logs, err := filepath.Glob(filepath.Join(opts.Dir, "*.log")); err != nil || len(logs) != 1 || st.WALObsoleteFiles != 0 {
		t.Errorf("WAL files on disk %v (%v), %d obsolete; want the live one only", logs, err, st.WALObsoleteFiles)
	}
	if n := onIdle.Load(); n != st.IdleFlushes {
		t.Errorf("OnIdleFlush called %d times for %d idle flushes", n, st.IdleFlushes)
	}
	if st.Compactions <= loaded.Compactions {
		t.Errorf("no compaction ran while idle (%d before, %d after)", loaded.Compactions, st.Compactions)
	}
	if st.PointsWritten != series*(steps+1) {
		t.Errorf("points written %d, want %d", st.PointsWritten, series*(steps+1))
	}
	// Settling lost nothing: every value of a few series, both archives.
	for _, i := range []int{0, 1, series / 2, series - 1} {
		got, err := s.Fetch(name(i), base-10, now, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Step != 10 || len(got.Values) != steps+1 || got.Start != base {
			t.Fatalf("%s: step %d start %d, %d values; want 10, %d, %d", name(i), got.Step, got.Start, len(got.Values), base, steps+1)
		}
		for p := 0; p <= steps; p++ {
			if got.Values[p] != value(i, p) {
				t.Fatalf("%s slot %d: %v, want %v", name(i), p, got.Values[p], value(i, p))
			}
		}
	}
}

// TestIdleFlushUnderTrickle: after a burst the store keeps taking a few
// points a second (a server's own metrics); the memtables must still be
// flushed and the WAL released once the writes of the last IdleFlush are a
// trickle beside what the memtables hold.
func TestIdleFlushUnderTrickle(t *testing.T) {
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.IdleFlush = 300 * time.Millisecond
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().Unix()
	now -= now % 60
	var b storage.Batch
	for i := 0; i < 2000; i++ { // the burst: 2,000 series x 100 points
		pts := make([]storage.Point, 100)
		for p := range pts {
			pts[p] = storage.Point{Timestamp: now - 1000 + int64(p)*10, Value: float64(i*100+p) / 4}
		}
		b.Series = append(b.Series, storage.SeriesPoints{Name: fmt.Sprintf("burst.s%04d", i), Points: pts})
	}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.WALLiveBytes == 0 || st.IdleFlushes != 0 {
		t.Fatalf("after the burst: WAL %d B live, %d idle flushes; want data in the memtable and none", st.WALLiveBytes, st.IdleFlushes)
	}
	// The trickle: one point every 20 ms, never idle for IdleFlush.
	deadline := time.Now().Add(time.Minute)
	for k := 0; ; k++ {
		b.Reset()
		b.Series = append(b.Series, storage.SeriesPoints{Name: "carbon.self", Points: []storage.Point{{Timestamp: now, Value: float64(k)}}})
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.IdleFlushes >= 1 && st.WALLiveBytes < 4096 {
			t.Logf("flushed under the trickle after %d writes; WAL %d B live", k, st.WALLiveBytes)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no flush after a minute of trickle: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := s.Fetch("burst.s1999", now-1010, now-10, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != now-1000 || got.Step != 10 || len(got.Values) != 100 {
		t.Fatalf("burst.s1999 after the flush: start %d step %d, %d values; want %d, 10, 100", got.Start, got.Step, len(got.Values), now-1000)
	}
	for p, v := range got.Values {
		if want := float64(199900+p) / 4; v != want {
			t.Fatalf("burst.s1999 slot %d after the flush: %v, want %v", p, v, want)
		}
	}
}
