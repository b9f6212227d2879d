package clickhouse_test

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/clickhouse/chtest"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// server is the package's ClickHouse, with the suite's rules as its
// graphite_rollup.
func server(t *testing.T) *chtest.Server {
	return chtest.Shared(t, chtest.Options{ConfigD: map[string]string{
		"rollup.xml": clickhouse.RollupXML(storetest.SuiteRules(t), ""),
		"exact.xml":  chtest.ExactRollup(exactRollup),
	}})
}

// exactRollup is the rollup section of tests on a fake clock.
const exactRollup = "graphite_rollup_exact"

var dbSeq atomic.Int64

// openStore opens a store on a database of its own.
func openStore(t *testing.T, rules *schema.Rules, now func() int64, idx *index.Index) *clickhouse.Store {
	t.Helper()
	srv := server(t)
	db := fmt.Sprintf("t%d", dbSeq.Add(1))
	s, err := clickhouse.Open(clickhouse.Options{
		URLs: []string{srv.URL}, Tables: clickhouse.Tables{Database: db, Rollup: exactRollup},
		CreateTables: true, Rules: rules, Now: now, Index: idx,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store {
		return openStore(t, rules, now, nil)
	})
}

// TestConformancePushdown runs storetest with the first rollup level of
// coarse reads computed in ClickHouse.
func TestConformancePushdown(t *testing.T) {
	storetest.Run(t, func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store {
		s := openStore(t, rules, now, nil)
		clickhouse.SetPushdown(s, true)
		return s
	})
}

// TestUnreachable: with no server answering, Write fails with an error the
// write buffer keeps the points for (storage.Unavailable) and counts it.
func TestUnreachable(t *testing.T) {
	srv := server(t)
	s, err := clickhouse.Open(clickhouse.Options{URLs: []string{srv.URL}, Tables: clickhouse.Tables{Database: "unreach", Rollup: exactRollup},
		CreateTables: true, Rules: storetest.SuiteRules(t), Now: func() int64 { return 1_700_000_100 }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.Query(t, "RENAME TABLE unreach.graphite TO unreach.graphite_away")
	err = s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "a.b", Points: []storage.Point{{Timestamp: 1_700_000_000, Value: 1}}}}})
	if err == nil || !storage.Unavailable(err) || !errors.Is(err, storage.ErrUnreachable) {
		t.Fatalf("write without the points table: %v, want an error wrapping ErrUnreachable", err)
	}
	if st := s.Stats(); st.InsertErrors != 1 || st.PointsWritten != 0 {
		t.Errorf("stats %+v: want 1 insert error, 0 points written", st)
	}
	srv.Query(t, "RENAME TABLE unreach.graphite_away TO unreach.graphite")
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "a.b", Points: []storage.Point{{Timestamp: 1_700_000_000, Value: 1}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Query(t, "SELECT Path, Value, Time FROM unreach.graphite FORMAT TabSeparated"); got != "a.b\t1\t1700000000\n" {
		t.Errorf("points table: %q", got)
	}
	_ = math.NaN
}
