package api

import (
	"context"
	"testing"
	"time"

	"github.com/plumbago/plumbago/query"
)

// TestRenderBusyWhenBudgetFull: with the query memory budget held by
// another render, /render waits query-queue-wait and answers 503 with
// Retry-After, naming the limits; once released it answers 200.
func TestRenderBusyWhenBudgetFull(t *testing.T) {
	srv := startServerWith(t, emptySource{}, Options{Limits: query.Limits{MemoryBudget: 1000 * query.BytesPerPoint, QueueWait: 5 * time.Millisecond}}, time.Unix(3600, 0))
	hold, err := srv.api.ev.Reserve(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	uri := `/render?target=identity("x")&from=0&until=3600&format=raw`
	status, _, body := srv.do(t, "GET", uri, "", "")
	want := "query memory budget full: waited 5ms for 3840 bytes: query memory budget exhausted (64000 bytes) (query-memory-budget, query-queue-wait); retry later: server busy"
	if status != 503 || string(body) != want {
		t.Fatalf("with the budget held: %d %s, want 503 %s", status, body, want)
	}
	hold()
	status, _, body = srv.do(t, "GET", uri, "", "")
	if status != 200 || len(body) == 0 {
		t.Fatalf("after release: %d %s", status, body)
	}
	// A render larger than the whole budget is the client's: 400.
	status, _, body = srv.do(t, "GET", `/render?target=identity("x")&from=0&until=3600&target=identity("y")&until=360000&format=raw`, "", "")
	want = "the targets would read 12000 points, more than the limit of 1000 points per request (render-max-points); narrow the time range or the series: query limit exceeded"
	if status != 400 || string(body) != want {
		t.Fatalf("over the budget: %d %s, want 400 %s", status, body, want)
	}
	if s := srv.api.BudgetStats(); s.Used != 0 || s.Waiting != 0 {
		t.Fatalf("budget after the requests: %+v", s)
	}
}
