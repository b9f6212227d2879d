package api

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestRenderRecycledValuesStayPrivate: renders hand their fetched
// values' buffers back for later fetches (storage.GetValues, query's
// RecycleValues); renders of different series and functions, one after
// the other and on 8 goroutines at once over one pebble store, answer
// exactly what each answered alone first.
func TestRenderRecycledValuesStayPrivate(t *testing.T) {
	a := pebbleBenchAPI(t)
	uris := []string{
		"/render?target=app.host0.cpu0.m0&from=-6h&until=now&format=json",
		"/render?target=app.host3.cpu1.m7&from=-6h&until=now&format=json",
		"/render?target=movingAverage(app.host3.cpu1.m1*,'5min')&from=-6h&until=now&format=json",
		"/render?target=summarize(app.host3.cpu1.*,'1h','sum')&from=-6h&until=now&format=json",
		"/render?target=sumSeries(app.host3.cpu1.*)&from=-6h&until=now&format=csv",
		"/render?target=app.host3.cpu1.m9&target=app.host3.cpu1.m8&from=-2h&until=now&format=raw",
	}
	render := func(uri string) []byte {
		var req fasthttp.Request
		req.SetRequestURI("http://graphite" + uri)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, nil, nil)
		a.Handle(&ctx)
		if ctx.Response.StatusCode() != 200 {
			t.Errorf("%s: %d %.200s", uri, ctx.Response.StatusCode(), ctx.Response.Body())
		}
		return append([]byte(nil), ctx.Response.Body()...)
	}
	want := make([][]byte, len(uris))
	for i, u := range uris {
		want[i] = render(u)
		if len(want[i]) < 100 {
			t.Fatalf("%s: %q", u, want[i])
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 12 {
				i := (g + k) % len(uris)
				if got := render(uris[i]); !bytes.Equal(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d, round %d: %s answered %d bytes differing from its first %d", g, k, uris[i], len(got), len(want[i]))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
