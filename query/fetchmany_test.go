package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/storetest"
)

// batchSource is memSource read through ManyFetcher, batch names at a
// time; it records each FetchMany's names.
type batchSource struct {
	*memSource
	batch int
	mu    sync.Mutex
	calls [][]string
}

func (b *batchSource) FetchBatch() int { return b.batch }

func (b *batchSource) FetchMany(names []string, from, until, now int64) ([]*storage.Series, error) {
	b.mu.Lock()
	b.calls = append(b.calls, slices.Clone(names))
	b.mu.Unlock()
	return storetest.FetchEach(b.memSource, names, from, until, now)
}

// TestFetchManyBatches: a Source with FetchMany gets a pattern's names in
// batches of FetchBatch (sorted, each name once), answers the same
// renders as per-name fetches, and stays within the request's limits; a
// FetchBatch of 0 means per-name fetches.
func TestFetchManyBatches(t *testing.T) {
	mem := newMemSource()
	for i := range 8 {
		mem.add(fmt.Sprintf("m.s%d", i), 10, func(ts int64) float64 { return float64(ts%50 + int64(i)) })
	}
	req := Request{From: 1000, Until: 1100, Now: 2000}
	want := evalJSON(t, mem, req, 0, "m.*", "sumSeries(m.s{1,3,9})")
	src := &batchSource{memSource: mem, batch: 3}
	if got := evalJSON(t, src, req, 0, "m.*", "sumSeries(m.s{1,3,9})"); got != want {
		t.Errorf("through FetchMany:\n%s\nwant\n%s", got, want)
	}
	slices.SortFunc(src.calls, func(a, b []string) int { return slices.Compare(a, b) })
	wantCalls := [][]string{{"m.s0", "m.s1", "m.s2"}, {"m.s1", "m.s3"}, {"m.s3", "m.s4", "m.s5"}, {"m.s6", "m.s7"}}
	if fmt.Sprint(src.calls) != fmt.Sprint(wantCalls) {
		t.Errorf("FetchMany calls %v, want %v", src.calls, wantCalls)
	}
	ev := NewEvaluator(src, Limits{MaxPoints: 50})
	if _, err := ev.Eval(context.Background(), req, []string{"m.*"}); !errors.Is(err, ErrLimit) {
		t.Errorf("points limit through FetchMany: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewEvaluator(src, Limits{}).Eval(ctx, req, []string{"m.*"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	off := &batchSource{memSource: mem}
	if got := evalJSON(t, off, req, 0, "m.*"); got != evalJSON(t, mem, req, 0, "m.*") || len(off.calls) != 0 {
		t.Errorf("FetchBatch 0: %d FetchMany calls", len(off.calls))
	}
}
