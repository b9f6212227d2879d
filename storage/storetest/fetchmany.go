package storetest

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/plumbago/plumbago/storage"
)

// ManyFetcher is a Store that reads many series in one request
// (storage/clickhouse). The suite checks it against Fetch; a store without
// it is checked through FetchEach.
type ManyFetcher interface {
	FetchMany(names []string, from, until, now int64) ([]*storage.Series, error)
}

// Fetcher is what FetchEach reads: a Store, or any other source with
// Store's Fetch.
type Fetcher interface {
	Fetch(name string, from, until, now int64) (*storage.Series, error)
}

// FetchEach is FetchMany for a source without it: Fetch of each name, nil
// for storage.ErrNotFound.
func FetchEach(s Fetcher, names []string, from, until, now int64) ([]*storage.Series, error) {
	out := make([]*storage.Series, len(names))
	for i, n := range names {
		ser, err := s.Fetch(n, from, until, now)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i] = ser
	}
	return out, nil
}

// fetchMany is s's FetchMany, or FetchEach.
func fetchMany(s storage.Store, names []string, from, until, now int64) ([]*storage.Series, error) {
	if m, ok := s.(ManyFetcher); ok {
		return m.FetchMany(names, from, until, now)
	}
	return FetchEach(s, names, from, until, now)
}

// SameSeries reports how got differs from want (nil = not found), bit for
// bit; "" when they are the same.
func SameSeries(got, want *storage.Series) string {
	if got == nil || want == nil {
		if got != want {
			return fmt.Sprintf("got %v, want %v", got, want)
		}
		return ""
	}
	if got.Name != want.Name || got.Start != want.Start || got.Step != want.Step || len(got.Values) != len(want.Values) {
		return fmt.Sprintf("got %s start %d step %d len %d, want %s start %d step %d len %d",
			got.Name, got.Start, got.Step, len(got.Values), want.Name, want.Start, want.Step, len(want.Values))
	}
	for i, w := range want.Values {
		if g := got.Values[i]; math.Float64bits(g) != math.Float64bits(w) && !(math.IsNaN(g) && math.IsNaN(w)) {
			return fmt.Sprintf("value %d (ts %d): got %v, want %v", i, got.Start+int64(i)*got.Step, g, w)
		}
	}
	return ""
}

// testFetchMany: FetchMany of names of every method (rows in every
// archive, rows beyond the finest retention), unknown names and a name
// twice equals Fetch of each, over raw, coarse, unaligned, future and
// out-of-retention ranges.
func testFetchMany(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	var names []string
	for i, m := range []string{"avg", "sum", "max", "min", "last", "avg_zero", "absmax", "absmin", "xff03"} {
		name := "many." + m
		pts := tenMinutes()
		for k := range pts {
			pts[k].Value = float64((k*7+i)%13) - 4.5
		}
		// Beyond the 10 s archive's hour and beyond the 1 m archive's day.
		pts = append(pts, storage.Point{Timestamp: now0 - 7195 - int64(i), Value: float64(i)}, storage.Point{Timestamp: now0 - 3*86400 + int64(i), Value: 9})
		write(t, s, name, pts...)
		names = append(names, name)
	}
	names = append(names, "no.such.metric", names[2], "many.none.avg")
	for _, r := range [][2]int64{
		{now0 - 300, now0}, {now0 - 295, now0 - 101}, {now0 - 7300, now0}, {now0 - 2*86400, now0},
		{now0 - 3*86400 - 300, now0 - 3*86400 + 300}, {now0 - 50, now0 - 50}, {now0 + 10, now0 + 100},
		{now0 - 9*86400, now0 - 8*86400}, {now0 - 30*86400, now0},
	} {
		got, err := fetchMany(s, names, r[0], r[1], now0)
		if err != nil {
			t.Fatalf("FetchMany (%d, %d]: %v", r[0], r[1], err)
		}
		if len(got) != len(names) {
			t.Fatalf("FetchMany (%d, %d]: %d series for %d names", r[0], r[1], len(got), len(names))
		}
		want, err := FetchEach(s, names, r[0], r[1], now0)
		if err != nil {
			t.Fatalf("Fetch (%d, %d]: %v", r[0], r[1], err)
		}
		for i, n := range names {
			if d := SameSeries(got[i], want[i]); d != "" {
				t.Errorf("FetchMany (%d, %d] %s: %s", r[0], r[1], n, d)
			}
		}
		if got[len(names)-3] != nil || got[len(names)-1] != nil {
			t.Errorf("FetchMany (%d, %d]: unknown names found", r[0], r[1])
		}
	}
	if _, err := fetchMany(s, names, now0, now0-10, now0); err == nil {
		t.Error("FetchMany with from > until: no error")
	}
}
