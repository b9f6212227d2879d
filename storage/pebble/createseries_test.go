package pebble

import (
	"strings"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

func parseRules(t *testing.T, schemas string) *schema.Rules {
	t.Helper()
	sc, err := schema.ParseSchemas(strings.NewReader(schemas))
	if err != nil {
		t.Fatal(err)
	}
	return &schema.Rules{Schemas: sc}
}

// New series alternating between two rules get each its own rule's
// archives (the writer's schema memo switches), a rules change is seen at
// once, and with Options.WritesIndexed the store leaves the index to the
// caller while without it the store adds every created name.
func TestCreateSeriesSchemaAndIndex(t *testing.T) {
	const now = 1_700_000_000
	for _, indexed := range []bool{false, true} {
		s := openTest(t, parseRules(t, "[fine]\npattern = ^a\\.\nretentions = 1s:1h\n[coarse]\npattern = .*\nretentions = 10s:1d\n"),
			func() int64 { return now })
		s.opts.WritesIndexed = indexed
		pt := []storage.Point{{Timestamp: now - 30, Value: 1}}
		b := &storage.Batch{}
		for _, n := range []string{"a.x", "b.y", "a.z", "b.w"} {
			b.Series = append(b.Series, storage.SeriesPoints{Name: n, Points: pt})
		}
		if err := s.Write(b); err != nil {
			t.Fatal(err)
		}
		s.opts.Rules = parseRules(t, "[coarse]\npattern = .*\nretentions = 60s:1d\n")
		if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "c.q", Points: pt}}}); err != nil {
			t.Fatal(err)
		}
		for n, step := range map[string]int64{"a.x": 1, "a.z": 1, "b.y": 10, "b.w": 10, "c.q": 60} {
			ser, err := s.Fetch(n, now-120, now, now)
			if err != nil {
				t.Fatalf("WritesIndexed=%v: fetching %s: %v", indexed, n, err)
			}
			if ser.Step != step {
				t.Errorf("WritesIndexed=%v: %s has step %d; want %d", indexed, n, ser.Step, step)
			}
		}
		want := 5
		if indexed {
			want = 0
		}
		if got := s.index.Len(); got != want {
			t.Errorf("WritesIndexed=%v: the store's index holds %d names; want %d", indexed, got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
