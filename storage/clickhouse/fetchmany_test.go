package clickhouse_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/cache"
	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
)

// TestFetchManyEqualsFetch: through the write buffer (storage/cache, as
// the server reads), FetchMany of foreign rows of every method, a series
// Plumbago wrote, points still buffered (over stored rows and alone), an
// name no aggregation rule names (the default: average) and one with no rows equals Fetch of each,
// bit for bit, with and without pushdown, over raw, coarse, unaligned and
// out-of-retention ranges; and it sends one query per kind of read (rows,
// or the cells of a pushed-down coarse read) where Fetch sends one per
// series.
func TestFetchManyEqualsFetch(t *testing.T) {
	const now = 1_700_100_000
	srv := server(t)
	db := fmt.Sprintf("many%d", dbSeq.Add(1))
	rules := pushdownRules(t)
	s, err := clickhouse.Open(clickhouse.Options{
		URLs: []string{srv.URL}, Tables: clickhouse.Tables{Database: db, Rollup: exactRollup},
		CreateTables: true, Rules: rules, Now: func() int64 { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeForeignRows(t, srv, db, now)
	var own []storage.Point
	for ts := int64(now - 7200); ts < now; ts += 10 {
		own = append(own, storage.Point{Timestamp: ts, Value: float64(ts%97) / 8})
	}
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "sum.own", Points: own}}}); err != nil {
		t.Fatal(err)
	}
	c, err := cache.New(s, nil, cache.Options{FlushInterval: time.Hour, Step: func(name string, from, now int64) int64 {
		sch, _, err := rules.Match(name)
		if err != nil {
			return 0
		}
		return schema.StepFor(sch.Retentions, now-from)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := c.NewProducer()
	p.AddPoint([]byte("average.s"), now-35, 1e6)
	p.AddPoint([]byte("last.fresh"), now-5, 7)
	p.Flush()
	for deadline := time.Now().Add(time.Minute); len(c.Buffered("average.s", nil))+len(c.Buffered("last.fresh", nil)) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the points are not buffered after a minute")
		}
	}
	var names []string
	for _, m := range pushdownMethods {
		names = append(names, m+".s")
	}
	names = append(names, "sum.own", "last.fresh", "no.schema", "max.norows")
	ranges := [][2]int64{
		{now - 600, now}, {now - 3500, now - 7}, {now - 5000, now}, {now - 4*3600 - 17, now - 3600},
		{now - 40*3600, now}, {now - 2*86400, now}, {now - 9*86400, now - 8*86400}, {now + 10, now + 60},
	}
	for _, pushdown := range []bool{false, true} {
		clickhouse.SetPushdown(s, pushdown)
		for _, r := range ranges {
			before := s.Stats()
			got, err := c.FetchMany(names, r[0], r[1], now)
			if err != nil {
				t.Fatalf("FetchMany %v: %v", r, err)
			}
			mid := s.Stats()
			for i, n := range names {
				want, err := c.Fetch(n, r[0], r[1], now)
				if errors.Is(err, storage.ErrNotFound) {
					want = nil
				} else if err != nil {
					t.Fatalf("Fetch %s %v: %v", n, r, err)
				}
				if d := storetest.SameSeries(got[i], want); d != "" {
					t.Errorf("pushdown %v, %v, %s: %s", pushdown, r, n, d)
				}
			}
			after := s.Stats()
			// Rows (every series in the raw archive; without pushdown;
			// absmax, which has none), and with pushdown in a coarse
			// archive cells per aggregate: sums (average, avg_zero, sum),
			// last, max, min.
			wantQueries := uint64(1)
			switch {
			case r[1] < now-7*86400 || r[0] > now:
				wantQueries = 0
			case pushdown && r[0] < now-3600:
				wantQueries = 5
			}
			if q := mid.FetchQueries - before.FetchQueries; q != wantQueries {
				t.Errorf("pushdown %v, %v: FetchMany sent %d queries, want %d", pushdown, r, q, wantQueries)
			}
			if q := after.FetchQueries - mid.FetchQueries; wantQueries > 0 && q != uint64(len(names)) {
				t.Errorf("pushdown %v, %v: Fetch of each sent %d queries, want %d", pushdown, r, q, len(names))
			}
		}
	}
	// The buffered points are in: over stored rows, and alone.
	got, err := c.FetchMany([]string{"last.fresh", "average.s"}, now-60, now, now)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] == nil || got[0].Values[4] != 7 || got[1] == nil || got[1].Values[1] != 1e6 {
		t.Errorf("buffered points missing: %+v %+v", got[0], got[1])
	}
}
