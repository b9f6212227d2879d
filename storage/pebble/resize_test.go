package pebble

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

func testRules(t testing.TB, schemas, aggregation string) *schema.Rules {
	t.Helper()
	s, err := schema.ParseSchemas(strings.NewReader(schemas))
	if err != nil {
		t.Fatal(err)
	}
	a, err := schema.ParseAggregations(strings.NewReader(aggregation))
	if err != nil {
		t.Fatal(err)
	}
	return &schema.Rules{Schemas: s, Aggregations: a}
}

// TestResizeMatchesWhisper writes the same points into a whisper file and a
// pebble series of one schema, re-shapes both to another (finer and
// coarser archives, other method and xFilesFactor) with whisper.Resize
// (checked against Debian's whisper-resize in storage/whisper and
// cmd/plumbago) and Store.ResizeSeries, and compares every new archive
// over its whole retention, value for value.
func TestResizeMatchesWhisper(t *testing.T) {
	const now = int64(1_700_000_000)
	clock := func() int64 { return now }
	rules := testRules(t, "[all]\npattern = .*\nretentions = 10s:6h,1m:1d\n",
		"[all]\npattern = .*\nxFilesFactor = 0.5\naggregationMethod = average\n")
	ps := openTest(t, rules, clock)
	defer ps.Close()
	wdir := t.TempDir()
	ws, err := whisper.Open(whisper.Options{Dir: wdir, Index: index.New(), Rules: rules, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	// Points over 6h (more than one writer chunk per archive); a
	// gap and negative values make xFilesFactor and max/min matter.
	var pts []storage.Point
	for ts := now - 6*3600 + 30; ts <= now; ts += 7 {
		if ts%900 < 200 {
			continue
		}
		pts = append(pts, storage.Point{Timestamp: ts, Value: float64(ts%97) - 40})
	}
	// Written in several batches, as a server would.
	for i := 0; i < len(pts); i += 500 {
		b := &storage.Batch{Series: []storage.SeriesPoints{{Name: "a.b", Points: pts[i:min(i+500, len(pts))]}}}
		if err := ps.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := ws.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}

	for _, l := range []Layout{
		{Archives: []schema.Retention{{SecondsPerPoint: 5, Points: 60}, {SecondsPerPoint: 60, Points: 120}, {SecondsPerPoint: 600, Points: 72}}, Method: schema.Max, XFilesFactor: 0.3},
		{Archives: []schema.Retention{{SecondsPerPoint: 30, Points: 240}, {SecondsPerPoint: 300, Points: 72}}, Method: schema.Sum, XFilesFactor: 0},
	} {
		if _, _, err := whisper.Resize(filepath.Join(wdir, "a", "b.wsp"), whisper.Layout(l), now); err != nil {
			t.Fatal(err)
		}
		if err := ps.ResizeSeries("a.b", l, now); err != nil {
			t.Fatal(err)
		}
		got, ok := ps.SeriesLayout("a.b")
		if !ok || got.Differs(l) {
			t.Fatalf("layout after resize = %+v, want %+v", got, l)
		}
		f, err := whisper.OpenFile(filepath.Join(wdir, "a", "b.wsp"))
		if err != nil {
			t.Fatal(err)
		}
		known := 0
		for _, a := range l.Archives {
			from := now - a.MaxRetention() + a.SecondsPerPoint
			want, _, err := f.Fetch(from, now, now)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ps.Fetch("a.b", from, now, now)
			if err != nil {
				t.Fatal(err)
			}
			if got.Start != want.Start || got.Step != want.Step || len(got.Values) != len(want.Values) {
				t.Fatalf("archive %v: pebble start %d step %d n %d, whisper start %d step %d n %d",
					a, got.Start, got.Step, len(got.Values), want.Start, want.Step, len(want.Values))
			}
			for i, w := range want.Values {
				g := got.Values[i]
				if math.IsNaN(w) != math.IsNaN(g) || !math.IsNaN(w) && math.Abs(w-g) > 1e-9*math.Max(1, math.Abs(w)) {
					t.Fatalf("archive %v slot %d (ts %d): pebble %v, whisper %v", a, i, want.Start+int64(i)*want.Step, g, w)
				}
				if !math.IsNaN(w) {
					known++
				}
			}
		}
		f.Close()
		if known < 100 {
			t.Fatalf("only %d known values compared", known)
		}
		t.Logf("%v: %d known values equal", l.Archives, known)
	}

	// The resized series survives a reopen, and the old data is gone.
	dir := ps.opts.Dir
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Dir, opts.Rules, opts.Now = dir, rules, clock
	ps2, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ps2.Close()
	if l, ok := ps2.SeriesLayout("a.b"); !ok || l.Method != schema.Sum || len(l.Archives) != 2 {
		t.Fatalf("after reopen: %+v %v", l, ok)
	}
	if n := ps2.Stats().Series; n != 1 {
		t.Fatalf("series after reopen = %d, want 1", n)
	}
	if err := ps2.ResizeSeries("no.such", Layout{Archives: []schema.Retention{{SecondsPerPoint: 1, Points: 1}}, Method: schema.Average}, now); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("resizing a missing series: %v", err)
	}
}
