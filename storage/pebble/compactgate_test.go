package pebble

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

const gateSeries = 2000

func gateName(i int) string { return fmt.Sprintf("gate.h%02d.m%03d", i/100, i%100) }

// writeGateSeries writes gateSeries series, one point each (series i has
// the value i), and closes the store cleanly.
func writeGateSeries(t *testing.T, dir string) {
	t.Helper()
	s, err := Open(loadTestOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, gateSeries)
	for i := range names {
		names[i] = gateName(i)
	}
	writeNames(t, s, names)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// l0Store writes a store whose level 0 holds two or more overlapping
// sstables (three when the store's own compaction of its last flush did not
// run before Close), the
// state a clean stop leaves after writes (its last flush), with no
// compaction run since: every key rewritten twice, a flush after each,
// compactions off.
func l0Store(t *testing.T) (dir string, l0 int64) {
	t.Helper()
	dir = t.TempDir()
	writeGateSeries(t, dir)
	po := pebbleOptions(loadTestOptions(dir))
	po.DisableAutomaticCompactions = true
	db, err := pebble.Open(dir, po)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		it, err := db.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		b := db.NewBatch()
		for it.First(); it.Valid(); it.Next() {
			if err := b.Set(it.Key(), it.Value(), nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := errors.Join(it.Close(), b.Commit(pebble.Sync), db.Flush()); err != nil {
			t.Fatal(err)
		}
	}
	if l0 = db.Metrics().Levels[0].TablesCount; l0 < 2 {
		t.Fatalf("level 0 holds %d sstables, want 2 or more", l0)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, l0
}

func sstables(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

// openGated opens the pebble DB in dir with its compactions held by the
// returned gate; the DB closes with the test.
func openGated(t *testing.T, dir string) (*pebble.DB, *compactionGate) {
	t.Helper()
	po := pebbleOptions(loadTestOptions(dir))
	g := holdCompactions(po)
	db, err := pebble.Open(dir, po)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, g
}

// A store with level 0 to compact opens without compacting (pebble.Open
// waited for the compaction its scheduler started during the open) and
// compacts once the gate is released.
func TestOpenHoldsCompactions(t *testing.T) {
	dir, l0 := l0Store(t)
	before := sstables(t, dir)
	db, gate := openGated(t, dir)
	// pebble's own scheduler grants within one grantEvery of the open.
	time.Sleep(3 * grantEvery)
	m := db.Metrics()
	if m.Compact.Count != 0 || m.Compact.NumInProgress != 0 || m.Levels[0].TablesCount != l0 {
		t.Fatalf("before release: %d compactions done, %d running, %d sstables in level 0; want 0, 0, %d",
			m.Compact.Count, m.Compact.NumInProgress, m.Levels[0].TablesCount, l0)
	}
	if after := sstables(t, dir); !slices.Equal(after, before) {
		t.Fatalf("the open changed the sstables: %v, was %v", after, before)
	}
	gate.release()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m = db.Metrics()
		if m.Compact.Count > 0 && m.Levels[0].TablesCount == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after release: %d compactions done, %d sstables in level 0; want > 0 and 0", m.Compact.Count, m.Levels[0].TablesCount)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// After a clean Close the WAL holds nothing: the next open replays nothing
// into a new sstable (with compactions held, the sstables stay as they are).
func TestCloseLeavesNothingToReplay(t *testing.T) {
	dir := t.TempDir()
	writeGateSeries(t, dir)
	before := sstables(t, dir)
	po := pebbleOptions(loadTestOptions(dir))
	holdCompactions(po)
	db, err := pebble.Open(dir, po)
	if err != nil {
		t.Fatal(err)
	}
	after := sstables(t, dir)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, before) || len(before) == 0 {
		t.Fatalf("sstables after the open %v, before %v: want the same, not none", after, before)
	}
}

// A store opened with level 0 to compact serves every series, then
// compacts level 0 in the background once the names are loaded. Then,
// with nothing waiting, the gate's granter sleeps: its timer fires no more
// (an idle server's pebble has no 100 ms wake-up). The ticks are counted,
// not timed, so load cannot fail the test; a granter ticking every
// grantEvery for the DB's life (as before) never disarms and fails it.
func TestStoreCompactsAfterLoad(t *testing.T) {
	dir, _ := l0Store(t)
	opts := loadTestOptions(dir)
	opts.LoadNamesInBackground = true
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitLoaded(t, s)
	if err := s.LoadErr(); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1234, gateSeries - 1} {
		if got := lastValue(t, s, gateName(i)); got != float64(i) {
			t.Fatalf("%s = %v, want %d", gateName(i), got, i)
		}
	}
	g := s.gate.Load()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.Stats()
		waiting, armed := gateState(g)
		if st.Compactions > 0 && st.L0Files == 0 && !waiting && !armed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the load: %d compactions, %d sstables in level 0, waiting %t, timer armed %t; want > 0, 0, false, false",
				st.Compactions, st.L0Files, waiting, armed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := g.ticks.Load()
	time.Sleep(5 * grantEvery)
	if after := g.ticks.Load(); after != before {
		t.Fatalf("the idle gate ticked %d times in %v, want 0", after-before, 5*grantEvery)
	}
}

// gateState is whether g's DB has a compaction waiting and whether its
// granter waits with its timer armed (a stale timer fires once more).
func gateState(g *compactionGate) (waiting, armed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.waiting, g.mu.armed
}

// A refused TrySchedule arms the granter's timer once the gate is released;
// the DB reporting nothing waiting disarms it.
func TestGateTicksOnlyWhileWaiting(t *testing.T) {
	_, g := openGated(t, t.TempDir())
	if ok, _ := g.TrySchedule(); ok {
		t.Fatal("TrySchedule granted before release")
	}
	if waiting, _ := gateState(g); !waiting {
		t.Fatal("a refused TrySchedule left the gate not waiting")
	}
	g.release()
	// The empty DB has no compaction waiting: the granter's next look
	// (at release or its first tick) clears the flag and stops ticking.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if waiting, armed := gateState(g); !waiting && !armed {
			break
		}
		if time.Now().After(deadline) {
			waiting, armed := gateState(g)
			t.Fatalf("20 s after release on an empty DB: waiting %t, timer armed %t; want false, false", waiting, armed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := g.ticks.Load()
	time.Sleep(5 * grantEvery)
	if after := g.ticks.Load(); after != before {
		t.Fatalf("the gate ticked %d times with nothing waiting, want 0", after-before)
	}
}
