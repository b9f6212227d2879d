package clickhouse_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/clickhouse/chtest"
	"github.com/plumbago/plumbago/storage/schema"
)

const pushdownSchemas = `
[all]
pattern = .*
retentions = 10s:1h,1m:6h,10m:2d
`

// pushdownMethods are the methods the test writes a series for, one
// series each, named after the method. absmax and absmin read every row
// (no pushdown): they are in as a check of the switch.
var pushdownMethods = []string{"average", "sum", "last", "max", "min", "avg_zero", "absmax"}

func pushdownRules(t *testing.T) *schema.Rules {
	t.Helper()
	s, err := schema.ParseSchemas(strings.NewReader(pushdownSchemas))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range pushdownMethods {
		fmt.Fprintf(&b, "[%s]\npattern = ^%s\\.\nxFilesFactor = 0.5\naggregationMethod = %s\n", m, m, m)
	}
	a, err := schema.ParseAggregations(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return &schema.Rules{Schemas: s, Aggregations: a}
}

// TestPushdownEqualsRawReads writes rows as another writer
// (carbon-clickhouse) would: unaligned times, several rows per finest slot,
// duplicate versions of a Time, NaN values, gaps of every length, lone rows
// at coarse slot starts in the rolled-up age range. Then every coarse read
// computed in ClickHouse must equal, bit for bit, the same read aggregated
// in Plumbago from every row, for each method; and it must move fewer rows.
func TestPushdownEqualsRawReads(t *testing.T) {
	const now = 1_700_100_000
	srv := server(t)
	db := fmt.Sprintf("pushdown%d", dbSeq.Add(1))
	s, err := clickhouse.Open(clickhouse.Options{
		URLs: []string{srv.URL}, Tables: clickhouse.Tables{Database: db, Rollup: exactRollup},
		CreateTables: true, Rules: pushdownRules(t), Now: func() int64 { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeForeignRows(t, srv, db, now)
	// Every coarse read: ranges in the 1m and the 10m archive, aligned or
	// not, from an hour to the whole retention.
	type rng2 struct{ from, until int64 }
	var ranges []rng2
	for _, age := range []int64{3601, 5000, 4 * 3600, 6 * 3600, 6*3600 + 1, 12 * 3600, 40 * 3600, 2 * 86400} {
		for _, span := range []int64{3600, 3*3600 + 17, 2 * 86400} {
			ranges = append(ranges, rng2{now - age, min(now-age+span, now)})
		}
	}
	for _, m := range pushdownMethods {
		name := m + ".s"
		for _, r := range ranges {
			clickhouse.SetPushdown(s, false)
			before := s.Stats()
			want, werr := s.Fetch(name, r.from, r.until, now)
			mid := s.Stats()
			clickhouse.SetPushdown(s, true)
			got, gerr := s.Fetch(name, r.from, r.until, now)
			after := s.Stats()
			if werr != nil || gerr != nil {
				if !errors.Is(werr, storage.ErrNotFound) || !errors.Is(gerr, storage.ErrNotFound) {
					t.Fatalf("%s %v: raw %v, pushdown %v", name, r, werr, gerr)
				}
				continue
			}
			if got.Start != want.Start || got.Step != want.Step || len(got.Values) != len(want.Values) {
				t.Fatalf("%s %v: pushdown start %d step %d len %d, raw %d %d %d", name, r, got.Start, got.Step, len(got.Values), want.Start, want.Step, len(want.Values))
			}
			known := 0
			for i := range want.Values {
				w, g := want.Values[i], got.Values[i]
				if math.Float64bits(w) != math.Float64bits(g) && !(math.IsNaN(w) && math.IsNaN(g)) {
					t.Fatalf("%s %v slot %d (t=%d): pushdown %v, raw %v", name, r, i, got.Start+int64(i)*got.Step, g, w)
				}
				if !math.IsNaN(w) {
					known++
				}
			}
			if known == 0 {
				t.Fatalf("%s %v: no value known: the data misses the range: %+v", name, r, want)
			}
			rawRows, cellRows := mid.FetchRows-before.FetchRows, after.FetchRows-mid.FetchRows
			if m != "absmax" && cellRows >= rawRows {
				t.Errorf("%s %v: pushdown read %d rows, raw %d: want fewer", name, r, cellRows, rawRows)
			}
		}
	}
}

// writeForeignRows writes a series "<method>.s" of every pushdownMethods
// into db's points table as another writer (carbon-clickhouse) would,
// over the two days before now: unaligned times, several rows per finest
// slot, duplicate versions of a Time, NaN values, gaps of every length,
// lone rows at coarse slot starts in the rolled-up age range.
func writeForeignRows(t *testing.T, srv *chtest.Server, db string, now int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(17, 6))
	// Lone rows at slot starts, as GraphiteMergeTree leaves them, with no
	// other row within 20 minutes.
	lones := []int64{now - 3*3600 - (now-3*3600)%60, now - 30*3600 - (now-30*3600)%600}
	for _, m := range pushdownMethods {
		var rows []string
		add := func(t int64, v float64, ver int) {
			for _, l := range lones {
				if t >= l-1200 && t < l+1200 && ver != 3 {
					return
				}
			}
			val := fmt.Sprintf("%v", v)
			if math.IsNaN(v) {
				val = "nan"
			}
			rows = append(rows, fmt.Sprintf("('%s.s',%s,%d,'%s',%d)", m, val, t, time.Unix(t, 0).UTC().Format(time.DateOnly), ver))
		}
		for t := now - 2*86400; t < now; {
			switch r := rng.IntN(1000); {
			case r < 2: // a gap of up to 20 minutes
				t += rng.Int64N(1200)
			case r < 30:
				add(t, math.NaN(), 1)
			default:
				v := math.Round(rng.NormFloat64()*1e6) / 1e3 // not exact in binary
				add(t, v, 1)
				if rng.IntN(20) == 0 { // a newer version of the same Time
					add(t, v*3+0.1, 2)
				}
			}
			if now-t > 6*3600 {
				t += 1 + rng.Int64N(14)
			} else {
				t += 1 + rng.Int64N(9)
			}
		}
		// Lone rows at slot starts, as GraphiteMergeTree leaves them.
		for _, l := range lones {
			add(l, 42.5, 3)
		}
		srv.Query(t, fmt.Sprintf("INSERT INTO %s.graphite (Path, Value, Time, Date, Timestamp) VALUES %s", db, strings.Join(rows, ",")))
	}
}
