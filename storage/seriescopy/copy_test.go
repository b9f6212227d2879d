package seriescopy

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

const testNow = 1_700_000_000

func testRules(t *testing.T, retentions string) *schema.Rules {
	t.Helper()
	dir := t.TempDir()
	sc := filepath.Join(dir, "schemas.conf")
	ag := filepath.Join(dir, "aggregation.conf")
	if err := os.WriteFile(sc, []byte("[all]\npattern = .*\nretentions = "+retentions+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ag, []byte("[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := schema.Load(sc, ag)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func openWhisper(t *testing.T, rules *schema.Rules) *whisper.Store {
	t.Helper()
	st, err := whisper.Open(whisper.Options{Dir: t.TempDir(), Rules: rules, Index: index.New(), Now: func() int64 { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	<-st.ScanDone()
	t.Cleanup(func() { st.Close() })
	return st
}

func openPebble(t *testing.T, rules *schema.Rules) *pebble.Store {
	t.Helper()
	o := pebble.DefaultOptions()
	o.Dir, o.Rules, o.Now = t.TempDir(), rules, func() int64 { return testNow }
	st, err := pebble.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testSeries writes, for each name, 10 s points over the last 30 minutes,
// 1 m points 3 to 20 hours old (archive 1 only) and 5 m points 2 to 5 days
// old (archive 2 only): 180 + 52 + 30 points.
func testSeries(t *testing.T, dst Dest, names ...string) {
	t.Helper()
	var b storage.Batch
	for k, n := range names {
		var pts []storage.Point
		for i := int64(0); i < 180; i++ {
			pts = append(pts, storage.Point{Timestamp: testNow - 1800 + 10*i, Value: float64(k*1000) + float64(i%17)})
		}
		for i := int64(0); i < 52; i++ {
			pts = append(pts, storage.Point{Timestamp: testNow - 20*3600 + 1200*i, Value: float64(i)})
		}
		for i := int64(0); i < 30; i++ {
			pts = append(pts, storage.Point{Timestamp: testNow - 5*86400 + 8640*i, Value: -float64(i)})
		}
		b.Series = append(b.Series, storage.SeriesPoints{Name: n, Points: pts})
	}
	if err := dst.Write(&b); err != nil {
		t.Fatal(err)
	}
}

// whisperAndPebble opens a whisper store holding testSeries for names and an
// empty pebble store, both under the rules 10s:1h,1m:1d,5m:7d, which it
// returns too.
func whisperAndPebble(t *testing.T, names ...string) (*schema.Rules, *whisper.Store, *pebble.Store) {
	t.Helper()
	rules := testRules(t, "10s:1h,1m:1d,5m:7d")
	ws := openWhisper(t, rules)
	testSeries(t, ws, names...)
	return rules, ws, openPebble(t, rules)
}

func retentionsOf(st interface {
	SeriesRetentions(string) ([]schema.Retention, error)
}) func(string) ([]schema.Retention, error) {
	return st.SeriesRetentions
}

// sameFetch compares name's fetch from a and b over (from, testNow].
func sameFetch(t *testing.T, a, b Source, name string, from int64) {
	t.Helper()
	x, err := a.Fetch(name, from, testNow, testNow)
	if err != nil {
		t.Fatal(err)
	}
	y, err := b.Fetch(name, from, testNow, testNow)
	if err != nil {
		t.Fatalf("%s from %d: %v", name, from, err)
	}
	if x.Start != y.Start || x.Step != y.Step || len(x.Values) != len(y.Values) {
		t.Fatalf("%s from %d: start/step/len %d/%d/%d, copy %d/%d/%d", name, from, x.Start, x.Step, len(x.Values), y.Start, y.Step, len(y.Values))
	}
	known := 0
	for i := range x.Values {
		if !(x.Values[i] == y.Values[i] || math.IsNaN(x.Values[i]) && math.IsNaN(y.Values[i])) {
			t.Errorf("%s from %d: slot %d: %v, copy %v", name, from, x.Start+int64(i)*x.Step, x.Values[i], y.Values[i])
		}
		if !math.IsNaN(x.Values[i]) {
			known++
		}
	}
	if known == 0 {
		t.Fatalf("%s from %d: no values to compare", name, from)
	}
}

// TestCopyEveryArchive copies whisper into pebble and pebble into whisper:
// every archive's fetch of the copy equals the source's.
func TestCopyEveryArchive(t *testing.T) {
	names := []string{"a.b", "a.c", "t.x;dc=eu;host=h1"}
	rules, ws, ps := whisperAndPebble(t, names...)
	sum, err := Run(context.Background(), ws, ps, Job{Names: names, Retentions: retentionsOf(ws), Now: testNow, BatchSeries: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 3 || sum.Points != 3*(180+52+30) || sum.Failed != 0 || sum.Missing != 0 {
		t.Fatalf("summary %+v", sum)
	}
	ws2 := openWhisper(t, rules)
	if _, err := Run(context.Background(), ps, ws2, Job{Names: append(names, "gone"), Retentions: retentionsOf(ps), Now: testNow}); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		for _, from := range []int64{testNow - 1800, testNow - 3600, testNow - 86400, testNow - 7*86400} {
			sameFetch(t, ws, ps, n, from)
			sameFetch(t, ws, ws2, n, from)
		}
	}
}

// TestCopyTimeBounds copies only the points in (From, Until].
func TestCopyTimeBounds(t *testing.T) {
	_, ws, ps := whisperAndPebble(t, "a.b")
	from, until := int64(testNow-3*86400), int64(testNow-600)
	sum, err := Run(context.Background(), ws, ps, Job{Names: []string{"a.b"}, Retentions: retentionsOf(ws), Now: testNow, From: from, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	// 121 of the 10 s points (up to now-600), the 52 1 m ones, 9 of the
	// 5 m ones (after now-3d).
	if sum.Points != 121+52+9 {
		t.Fatalf("points %d, want %d", sum.Points, 121+52+9)
	}
	src, _ := ws.Fetch("a.b", testNow-1800, testNow, testNow)
	got, _ := ps.Fetch("a.b", testNow-1800, testNow, testNow)
	for i, v := range got.Values {
		ts := got.Start + int64(i)*got.Step
		want := src.Values[i]
		if ts > until {
			want = math.NaN()
		}
		if !(v == want || math.IsNaN(v) && math.IsNaN(want)) {
			t.Errorf("slot %d: %v, want %v", ts, v, want)
		}
	}
}

// TestCopyResumes: a series the state records is skipped, the others are
// copied and recorded; the state survives a reopen; another job's state is
// refused.
func TestCopyResumes(t *testing.T) {
	_, ws, ps := whisperAndPebble(t, "a.b", "a.c", "a.d")
	path := filepath.Join(t.TempDir(), "state")
	st, err := OpenState(path, "job 1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Record([]string{"a.c"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// A kill cut the next line short: it is dropped.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`"a.d`)
	f.Close()
	if st, err = OpenState(path, "job 1"); err != nil {
		t.Fatal(err)
	}
	if st.Len() != 1 || !st.Done("a.c") || st.Done("a.d") {
		t.Fatalf("state after reopen: %d names", st.Len())
	}
	names := []string{"a.b", "a.c", "a.d"}
	sum, err := Run(context.Background(), ws, ps, Job{Names: names, Retentions: retentionsOf(ws), Now: testNow, State: st, BatchSeries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != 1 || sum.Done != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if _, err := ps.Fetch("a.c", testNow-60, testNow, testNow); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a.c was copied again: %v", err)
	}
	st.Close()
	b, _ := os.ReadFile(path)
	if want := stateMagic + `"job 1"` + "\n\"a.c\"\n\"a.b\"\n\"a.d\"\n"; string(b) != want {
		t.Errorf("state file:\n%s\nwant\n%s", b, want)
	}
	if _, err := OpenState(path, "job 2"); !errors.Is(err, ErrOtherJob) {
		t.Errorf("another job's state: %v", err)
	}
}

func TestParseState(t *testing.T) {
	for _, tc := range []struct {
		in    string
		job   string
		names []string
		good  int64
		err   bool
	}{
		{in: ""},
		{in: "plumbago copy"},
		{in: stateMagic + `"j"`},
		{in: stateMagic + "\"j\"\n", job: "j", good: int64(len(stateMagic)) + 4},
		{in: stateMagic + "\"j\"\n\"a\\nb\"\n\"c", job: "j", names: []string{"a\nb"}, good: int64(len(stateMagic)) + 11},
		{in: "garbage\n", err: true},
		{in: "garbage", err: true},
		{in: stateMagic + "j\n", err: true},
		{in: stateMagic + "\"j\"\nname\n", err: true},
		{in: stateMagic + "\"j\"\n\"\"\n", err: true},
		{in: stateMagic + "\"j\"\n\"" + strings.Repeat("x", MaxStateLine) + "\"\n", err: true},
	} {
		job, names, good, err := ParseState(strings.NewReader(tc.in))
		if (err != nil) != tc.err {
			t.Errorf("%.40q: err %v", tc.in, err)
			continue
		}
		if err == nil && (job != tc.job || good != tc.good || strings.Join(names, "|") != strings.Join(tc.names, "|")) {
			t.Errorf("%.40q: job %q names %q good %d; want %q %q %d", tc.in, job, names, good, tc.job, tc.names, tc.good)
		}
	}
}

// FuzzParseState: any input parses or is refused, never panics, and the
// whole lines it accepts parse again to the same result.
func FuzzParseState(f *testing.F) {
	f.Add(stateMagic + "\"j\"\n\"a.b\"\n\"c")
	f.Add(stateMagic + "\"j\"\n")
	f.Add("x\n")
	f.Add(stateMagic + "\"j\\x00\"\n\"\\u00e9\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		job, names, good, err := ParseState(strings.NewReader(in))
		if err != nil {
			return
		}
		if good > int64(len(in)) {
			t.Fatalf("good %d past the input's %d bytes", good, len(in))
		}
		job2, names2, good2, err := ParseState(strings.NewReader(in[:good]))
		if err != nil || job2 != job || good2 != good || len(names2) != len(names) {
			t.Fatalf("the whole lines reparse differently: %v %q %d", err, job2, good2)
		}
	})
}

// TestCopyStopsOnWriteError: a destination that fails a write (a closed
// store) stops the copy with that error, the reading goroutine ends, and
// the state records nothing.
func TestCopyStopsOnWriteError(t *testing.T) {
	_, ws, ps := whisperAndPebble(t, "a.b", "a.c", "a.d")
	ps.Close()
	st, err := OpenState(filepath.Join(t.TempDir(), "state"), "job")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum, err := Run(context.Background(), ws, ps, Job{Names: []string{"a.b", "a.c", "a.d"}, Retentions: retentionsOf(ws), Now: testNow, State: st, BatchSeries: 1})
	if !errors.Is(err, pebble.ErrClosed) || sum.Done != 0 {
		t.Fatalf("Run into a closed store: %v, %+v", err, sum)
	}
	st2, err := OpenState(filepath.Join(filepath.Dir(st.path), "state"), "job")
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if st2.Len() != 0 {
		t.Errorf("state holds %d names", st2.Len())
	}
}
