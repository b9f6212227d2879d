package api

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plumbago/plumbago/query/events"
)

func FuzzParseEvent(f *testing.F) {
	for _, r := range eventReqs {
		if r.Method == "POST" {
			f.Add([]byte(r.Body))
		}
	}
	f.Add([]byte(`{"what": "x", "when": -62135596800, "tags": ["a", "b"]}`))
	f.Add([]byte(`{"what": "x", "when": 253402300799.9999999}`))
	f.Add([]byte(`{"what": {"a": [[[[]]]]}, "data": 1.5e-7, "tags": "\"a,b\" c"}`))
	f.Add([]byte(`{"what": "x"} {}`))
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, status, msg := parseEvent(body, now)
		if status != 0 {
			if msg == "" {
				t.Fatalf("status %d without a message", status)
			}
			return
		}
		if e.When < minEventMicros || e.When > maxEventMicros {
			t.Fatalf("when %d out of range", e.When)
		}
		s, _ := events.Open(events.Options{})
		if _, err := s.Add(e.When, e.What, e.Data, e.Tags); err != nil {
			t.Fatal(err)
		}
		got := s.Find(events.Query{From: minEventMicros, Until: maxEventMicros})
		if len(got) != 1 {
			t.Fatalf("stored event not found: %+v", e)
		}
		out := appendJSON(nil, []any{eventDict(&got[0])}, false, 0)
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("invalid JSON output %q", out)
		}
	})
}
