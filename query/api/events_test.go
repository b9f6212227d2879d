package api

import (
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/query/events"
)

func TestEventsHTTP(t *testing.T) {
	dir := t.TempDir()
	st, err := events.Open(events.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServerWith(t, emptySource{}, Options{Events: st}, time.Unix(1_700_000_500, 250_000_000))
	if status, _, body := srv.do(t, "POST", "/events/", "application/json", `{"what": "now", "tags": "deploy web"}`); status != 200 || len(body) != 0 {
		t.Fatalf("post: %d %s", status, body)
	}
	if status, _, _ := srv.do(t, "POST", "/events/", "", strings.Repeat(" ", events.MaxBodyBytes+1)); status != 413 {
		t.Fatalf("large post: %d", status)
	}
	want := `[{"when": 1700000500, "what": "now", "data": "", "tags": ["deploy", "web"], "id": 1}]`
	if _, ct, body := srv.get(t, "/events/get_data?from=-1min&tags=web"); string(body) != want || ct != "application/json" {
		t.Fatalf("get_data: %s %s", ct, body)
	}
	// until defaults to now, with its microseconds: the event at now is in.
	if _, _, body := srv.get(t, "/events/get_data?from=1700000500"); string(body) != want {
		t.Fatalf("get_data default until: %s", body)
	}
	if _, _, body := srv.get(t, "/events/get_data?from=1700000500&until=1700000500"); string(body) != "[]" {
		t.Fatalf("get_data until before the event's microseconds: %s", body)
	}
	if _, _, body := srv.get(t, "/events/get_data?from=yesterday_x"); !strings.HasPrefix(string(body), "Invalid parameters") {
		t.Fatalf("bad from: %s", body)
	}
	if _, _, body := srv.doHeader(t, "/events/1/", "Accept", "application/json"); string(body) != `{"id": 1, "when": "2023-11-14T22:21:40.250Z", "what": "now", "data": "", "tags": ["deploy", "web"]}` {
		t.Fatalf("detail: %s", body)
	}
	if status, ct, body := srv.get(t, "/events/"); status != 200 || ct != "text/html; charset=utf-8" || !strings.Contains(string(body), `<a href="/events/1/">now</a>`) {
		t.Fatalf("listing: %d %s %s", status, ct, body)
	}
	if _, _, body := srv.get(t, "/render?target=events('web')&from=1700000499&until=1700000502&format=json"); string(body) !=
		`[{"target": "events(\"web\")", "tags": {"name": "events(\"web\")"}, "datapoints": [[null, 1700000499], [1, 1700000500], [null, 1700000501]]}]` {
		t.Fatalf("events(): %s", body)
	}
	st.Close()
	// Persisted: a new store over the directory has the event.
	st2, err := events.Open(events.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if e, ok := st2.Get(1); !ok || e.What != "now" || e.When != 1_700_000_500_250_000 {
		t.Fatalf("reloaded %+v %v", e, ok)
	}
}
