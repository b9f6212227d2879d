package clickhouse_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/storetest"
)

// TestFetchManyBatchFigures measures the batch size of docs/clickhouse.md
// ("Reads"): 1,000 series of 100 points at 10 s (the figures' render),
// read as the query engine reads them (batches on 8 workers) with batches
// of 1 (Fetch per series), 50, 250 and 1,000 names, 10 rounds each, the
// median time of a round printed. It runs only when PLUMBAGO_CH_FIGURES is
// set: it is a measurement, not a check.
func TestFetchManyBatchFigures(t *testing.T) {
	if os.Getenv("PLUMBAGO_CH_FIGURES") == "" {
		t.Skip("a measurement for docs/clickhouse.md: PLUMBAGO_CH_FIGURES=1 go test -run TestFetchManyBatchFigures -v ./storage/clickhouse/")
	}
	const now = 1_700_000_000
	srv := server(t)
	s := openStore(t, storetest.SuiteRules(t), func() int64 { return now }, nil)
	defer s.Close()
	names := make([]string, 1000)
	var rows []string
	for i := range names {
		names[i] = fmt.Sprintf("loadtest.w1.m%05d", i)
		for k := int64(0); k < 100; k++ {
			ts := now - 1000 + 10*k
			rows = append(rows, fmt.Sprintf("('%s',%d,%d,'%s',1)", names[i], k, ts, time.Unix(ts, 0).UTC().Format(time.DateOnly)))
		}
	}
	srv.Query(t, fmt.Sprintf("INSERT INTO %s.graphite (Path, Value, Time, Date, Timestamp) VALUES %s", clickhouse.DatabaseOf(s), strings.Join(rows, ",")))
	for _, batch := range []int{1, 50, 250, 1000} {
		var took []time.Duration
		for range 10 {
			start := time.Now()
			work := make(chan []string)
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for b := range work {
						got, err := s.FetchMany(b, now-1000, now, now)
						if err != nil || got[0] == nil {
							t.Errorf("FetchMany: %v", err)
						}
					}
				}()
			}
			for i := 0; i < len(names); i += batch {
				work <- names[i:min(i+batch, len(names))]
			}
			close(work)
			wg.Wait()
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		t.Logf("batch %4d: median %v of 10 rounds (min %v, max %v)", batch, took[5].Round(time.Millisecond), took[0].Round(time.Millisecond), took[9].Round(time.Millisecond))
	}
}
