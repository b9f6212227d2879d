package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestQueryBudgetAndTimeoutEndToEnd runs the per-process query memory
// budget and the evaluation timeout on the built binary, both backends,
// with renders of stored series (a 1 s : 10 d schema, so one render of a
// series over 10 days is estimated at 864,000 points, 55,296,000 bytes, from
// its archives before anything is fetched) against a 56 MiB budget that
// holds one of them at a time:
//
//   - queue: a render holding part of the budget (a slow movingMedian,
//     seconds of work) and three such renders sent at once behind it: all
//     three wait, none is refused (query-queue-wait 60 s), each answers its
//     exact points, and the budget is all given back;
//   - refusal and timeout: with query-queue-wait 300 ms and render-timeout
//     3 s, a render that would work for minutes holds most of the budget;
//     two renders sent meanwhile get 503 with the documented body and
//     Retry-After: 1 after their 300 ms wait; the slow one answers 503
//     "query timed out" within the timeout and a slack; afterwards the
//     budget is free, the refused render succeeds and /healthz is 200.
//
// The peak RSS stays under 256 MiB through each run (never near an OOM).
func TestQueryBudgetAndTimeoutEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	for _, backend := range []string{"pebble", "whisper"} {
		t.Run(backend+"/queue", func(t *testing.T) { testQueryBudgetQueue(t, bin, backend) })
		t.Run(backend+"/refusal-and-timeout", func(t *testing.T) { testQueryBudgetRefusalAndTimeout(t, bin, backend) })
	}
}

const (
	budgetFlag     = "56MiB"  // 58,720,256 bytes: 917,504 points
	budgetBytes    = 58720256 //
	tenDaysBytes   = 55296000 // 864,000 points of a 1 s : 10 d series
	rssBoundBudget = 256 << 20
)

// renderAnswer is one /render response and how long it took.
type renderAnswer struct {
	code       int
	body       string
	retryAfter string
	took       time.Duration
}

func renderGet(t *testing.T, addr, query string) renderAnswer {
	start := time.Now()
	r, err := http.Get("http://" + addr + "/render?noCache=1&format=json&noNullPoints=1&" + query)
	if err != nil {
		t.Error(err)
		return renderAnswer{}
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
	}
	return renderAnswer{r.StatusCode, string(b), r.Header.Get("Retry-After"), time.Since(start)}
}

// renderAsync sends the render in the background.
func renderAsync(t *testing.T, addr, query string) <-chan renderAnswer {
	ch := make(chan renderAnswer, 1)
	go func() { ch <- renderGet(t, addr, query) }()
	return ch
}

// budgetServer starts the binary with the budget flags and series q.a
// (value 1), q.b (2), q.c (3), q.d (4), one point each at ts, queryable.
func budgetServer(t *testing.T, bin, backend string, extra ...string) (*proc, int64) {
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 1s:10d\n")
	args := append([]string{"--backend", backend, "--data-dir", filepath.Join(dir, "data"), "--schemas", schemas,
		"--query-memory-budget", budgetFlag}, extra...)
	p := startPlumbago(t, bin, args...)
	ts := time.Now().Unix() - 100
	sendCarbon(t, p.carbon, fmt.Sprintf("q.a 1 %d", ts), fmt.Sprintf("q.b 2 %d", ts), fmt.Sprintf("q.c 3 %d", ts), fmt.Sprintf("q.d 4 %d", ts))
	for _, s := range []string{"a", "b", "c", "d"} {
		waitFor(t, "q."+s+" queryable", func() bool {
			a := renderGet(t, p.http, "target=q."+s+"&from=-5min")
			return a.code == 200 && a.body != "[]"
		})
	}
	return p, ts
}

// tenDays is the expected answer of a render of series q.<s> over 10 days.
func tenDays(s string, v float64, ts int64) string {
	return fmt.Sprintf(`[{"target": "q.%s", "tags": {"name": "q.%s"}, "datapoints": [[%s, %d]]}]`, s, s, jsonFloat(v), ts)
}

func testQueryBudgetQueue(t *testing.T, bin, backend string) {
	p, ts := budgetServer(t, bin, backend, "--query-queue-wait", "60s", "--render-timeout", "60s")
	pid := p.cmd.Process.Pid
	// The holder: 40,000 points estimated, 80,000 more charged when
	// movingMedian reads its window; 40,000 × 40,000 window steps of work
	// (movingMedian walks each point's window: not the sum path others speed up).
	const holderBytes = 120_000 * 64
	holder := renderAsync(t, p.http, "target=movingMedian(q.a,40000)&from=-40000s")
	waitFor(t, "the holder's whole reservation", func() bool {
		return p.metric(t, "plumbago_query_memory_reserved_bytes") >= holderBytes
	})
	// Each of these needs 55,296,000 of the 58,720,256 bytes: they queue
	// behind the holder and then behind each other.
	var wg sync.WaitGroup
	answers := map[string]renderAnswer{}
	var mu sync.Mutex
	for _, s := range []string{"b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := renderGet(t, p.http, "target=q."+s+"&from=-10d")
			mu.Lock()
			answers[s] = a
			mu.Unlock()
		}()
	}
	waitFor(t, "three renders waiting for the budget", func() bool {
		return p.metric(t, "plumbago_query_queue_waiting") == 3
	})
	h := <-holder
	wg.Wait()
	if h.code != 200 {
		t.Errorf("holder: %d %q", h.code, h.body)
	}
	for i, s := range []string{"b", "c", "d"} {
		if a, want := answers[s], tenDays(s, float64(i+2), ts); a.code != 200 || a.body != want {
			t.Errorf("q.%s over 10 days after waiting: %d %q; want 200 %q", s, a.code, a.body, want)
		}
	}
	for name, want := range map[string]float64{
		"plumbago_query_budget_waited_total":   3,
		"plumbago_query_budget_refused_total":  0,
		"plumbago_query_memory_reserved_bytes": 0,
		"plumbago_query_queue_waiting":         0,
		"plumbago_query_memory_budget_bytes":   budgetBytes,
	} {
		if got := p.metric(t, name); got != want {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
	peak := peakRSS(t, pid)
	t.Logf("%s: peak RSS %.1f MiB; holder took %v", backend, float64(peak)/(1<<20), h.took.Round(time.Millisecond))
	if peak > rssBoundBudget {
		t.Errorf("peak RSS %d MiB; want under %d MiB", peak>>20, rssBoundBudget>>20)
	}
	p.stop(t)
}

func testQueryBudgetRefusalAndTimeout(t *testing.T, bin, backend string) {
	const timeout, slack = 3 * time.Second, 10 * time.Second
	p, ts := budgetServer(t, bin, backend, "--query-queue-wait", "300ms", "--render-timeout", timeout.String())
	pid := p.cmd.Process.Pid
	// 300,000 points estimated and 600,000 charged (900,000 of the 917,504
	// the budget holds); 300,000 × 300,000 window steps of work: minutes.
	const slowBytes = 900_000 * 64
	slow := renderAsync(t, p.http, "target=movingMedian(q.a,300000)&from=-300000s")
	waitFor(t, "the slow render's whole reservation", func() bool {
		return p.metric(t, "plumbago_query_memory_reserved_bytes") >= slowBytes
	})
	wantBusy := fmt.Sprintf("query memory budget full: waited 300ms for %d bytes: query memory budget exhausted (%d bytes) "+
		"(query-memory-budget, query-queue-wait); retry later: server busy", tenDaysBytes, budgetBytes)
	b, c := renderAsync(t, p.http, "target=q.b&from=-10d"), renderAsync(t, p.http, "target=q.c&from=-10d")
	for s, ch := range map[string]<-chan renderAnswer{"b": b, "c": c} {
		if a := <-ch; a.code != 503 || a.body != wantBusy || a.retryAfter != "1" {
			t.Errorf("q.%s while the budget is held: %d %q Retry-After %q; want 503 %q Retry-After 1", s, a.code, a.body, a.retryAfter, wantBusy)
		}
	}
	s := <-slow
	if want := "query timed out: evaluating: context deadline exceeded"; s.code != 503 || s.body != want {
		t.Errorf("slow render: %d %q; want 503 %q", s.code, s.body, want)
	}
	if s.took < timeout || s.took > timeout+slack {
		t.Errorf("slow render answered after %v; want within [%v, %v]", s.took, timeout, timeout+slack)
	}
	// The server keeps answering: the budget is free again, the refused
	// render succeeds, /healthz is 200.
	waitFor(t, "the budget given back", func() bool { return p.metric(t, "plumbago_query_memory_reserved_bytes") == 0 })
	if a, want := renderGet(t, p.http, "target=q.b&from=-10d"), tenDays("b", 2, ts); a.code != 200 || a.body != want {
		t.Errorf("q.b after the timeout: %d %q; want 200 %q", a.code, a.body, want)
	}
	if code, body := healthz(t, p.http, 10*time.Second, 200); code != 200 {
		t.Errorf("/healthz after the timeout: %d %q", code, body)
	}
	if got := p.metric(t, "plumbago_query_budget_refused_total"); got != 2 {
		t.Errorf("plumbago_query_budget_refused_total = %v; want 2", got)
	}
	peak := peakRSS(t, pid)
	t.Logf("%s: peak RSS %.1f MiB; timed-out render answered after %v", backend, float64(peak)/(1<<20), s.took.Round(time.Millisecond))
	if peak > rssBoundBudget {
		t.Errorf("peak RSS %d MiB; want under %d MiB", peak>>20, rssBoundBudget>>20)
	}
	p.stop(t)
}
