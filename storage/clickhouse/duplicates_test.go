package clickhouse_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// TestFetchOneRowPerSlot: a copy resumed after a kill, or a retried
// insert, writes rows again, and ClickHouse holds a (Path, Time) twice
// until a merge. Fetch takes one row per slot, the newest version
// (argMax by Timestamp), at the finest archive and in the coarse slots it
// computes (a sum would count a duplicate twice).
func TestFetchOneRowPerSlot(t *testing.T) {
	dir := t.TempDir()
	sc, ag := filepath.Join(dir, "s.conf"), filepath.Join(dir, "a.conf")
	if err := os.WriteFile(sc, []byte("[all]\npattern = .*\nretentions = 10s:1h,1m:1d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ag, []byte("[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = sum\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := schema.Load(sc, ag)
	if err != nil {
		t.Fatal(err)
	}
	const now = 1_699_999_980 // a multiple of 60
	s := openStore(t, rules, func() int64 { return now }, nil)
	defer s.Close()
	write := func(base float64) {
		t.Helper()
		var pts []storage.Point
		for i := int64(0); i < 12; i++ {
			pts = append(pts, storage.Point{Timestamp: now - 600 + 10*i, Value: base + float64(i)})
		}
		if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "dup.a", Points: pts}}}); err != nil {
			t.Fatal(err)
		}
	}
	write(100) // the first copy
	write(0)   // a later write of the same slots (a newer version)
	write(0)   // the same rows again (a resumed copy's batch)
	srv := server(t)
	db := fmt.Sprintf("t%d", dbSeq.Load())
	if got := srv.Query(t, "SELECT count(), uniqExact(Time) FROM "+db+".graphite WHERE Path = 'dup.a' FORMAT TabSeparated"); got != "36\t12\n" {
		t.Fatalf("rows, distinct slots: %q, want 36 rows in 12 slots", got)
	}
	fine, err := s.Fetch("dup.a", now-610, now-480, now)
	if err != nil {
		t.Fatal(err)
	}
	if fine.Step != 10 || fine.Start != now-600 || len(fine.Values) != 13 {
		t.Fatalf("fine fetch %d/%d/%d", fine.Start, fine.Step, len(fine.Values))
	}
	for i := 0; i < 12; i++ {
		if fine.Values[i] != float64(i) {
			t.Errorf("slot %d: %v, want the newest version's %d", fine.Start+int64(i)*10, fine.Values[i], i)
		}
	}
	// 1 m slots from 2 h back: sums of the 10 s slots, each counted once.
	coarse, err := s.Fetch("dup.a", now-7200, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if coarse.Step != 60 {
		t.Fatalf("coarse step %d", coarse.Step)
	}
	i := (now - 600 - coarse.Start) / 60
	if got := coarse.Values[i : i+2]; got[0] != 0+1+2+3+4+5 || got[1] != 6+7+8+9+10+11 {
		t.Errorf("1 m slots %v, want [15 51]", got)
	}
	if !math.IsNaN(coarse.Values[i+2]) {
		t.Errorf("slot after: %v", coarse.Values[i+2])
	}
}
