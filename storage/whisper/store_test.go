package whisper

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

var nan = math.NaN()

func batch(name string, pts ...storage.Point) *storage.Batch {
	return &storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: pts}}}
}

func pts(tv ...float64) []storage.Point {
	var out []storage.Point
	for i := 0; i+1 < len(tv); i += 2 {
		out = append(out, storage.Point{Timestamp: int64(tv[i]), Value: tv[i+1]})
	}
	return out
}

func TestWriteFetchExact(t *testing.T) {
	dir := t.TempDir()
	now := int64(1000)
	rules := mustRules(t, "[a]\npattern = .*\nretentions = 10:6,60:3\n", "[a]\npattern = .*\naggregationMethod = sum\nxFilesFactor = 0.5\n")
	s, idx := openStore(t, dir, rules, &now)
	// 950..1000 fit archive 0 (60 s), 900 only archive 1 (180 s), 700 nothing.
	b := batch("a.b.c", pts(1000, 6, 950, 1, 960, 2, 970, 3, 700, 99, 980, 4, 990, 5, 900, 7)...)
	if err := s.Write(b); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Created != 1 || st.UpdateOps != 1 || st.PointsWritten != 7 || st.PointsDropped != 1 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
	if !idx.Has("a.b.c") {
		t.Error("created metric not indexed")
	}
	fi, err := os.Stat(filepath.Join(dir, "a", "b", "c.wsp"))
	if err != nil || fi.Size() != 16+24+9*12 {
		t.Fatalf("file: %v %v", fi, err)
	}
	for _, tc := range []struct {
		from, until, now int64
		start, step      int64
		vals             []float64
	}{
		{940, 1000, 1000, 950, 10, []float64{1, 2, 3, 4, 5, 6}},
		// 900's slot group (900..950) has 1 of 6 points: below xff, not propagated;
		// 960..1010 has 5 of 6: sum 20.
		{800, 1000, 1000, 840, 60, []float64{nan, 7, 20}},
		{0, 1000, 1000, 840, 60, []float64{nan, 7, 20}},
		{955, 955, 1000, 960, 10, []float64{2}},
		{960, 975, 1000, 970, 10, []float64{3}},
		{960, 985, 1000, 970, 10, []float64{3, 4}},
		{1001, 2000, 1000, 1001, 10, nil}, // future: Python returns None
		{100, 800, 1000, 100, 10, nil},    // beyond retention: None
	} {
		got, err := s.Fetch("a.b.c", tc.from, tc.until, tc.now)
		if err != nil {
			t.Fatalf("Fetch(%d,%d,%d): %v", tc.from, tc.until, tc.now, err)
		}
		if got.Start != tc.start || got.Step != tc.step || !sameFloats(got.Values, tc.vals) {
			t.Errorf("Fetch(%d,%d,%d) = %d %d %v, want %d %d %v", tc.from, tc.until, tc.now,
				got.Start, got.Step, got.Values, tc.start, tc.step, tc.vals)
		}
	}
	if _, err := s.Fetch("a.b.c", 10, 5, 1000); err == nil {
		t.Error("from > until: want an error")
	}
	if _, err := s.Fetch("a.b.x", 0, 1000, 1000); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown metric: %v", err)
	}
	if _, err := s.Fetch("a.b.c.d", 0, 1000, 1000); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("metric below a leaf: %v", err)
	}

	// A second batch: the slot 960 gets a later value; propagation redoes 960.
	now = 1005
	if err := s.Write(batch("a.b.c", pts(1001, 10, 962, 20)...)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Fetch("a.b.c", 945, 1005, 1005)
	if !sameFloats(got.Values, []float64{1, 20, 3, 4, 5, 10}) || got.Start != 950 {
		t.Errorf("after rewrite: %d %v", got.Start, got.Values)
	}
	got, _ = s.Fetch("a.b.c", 850, 1005, 1005)
	// 960 group now 20+3+4+5+10 = 42 (slot 950 is not in it)
	if !sameFloats(got.Values, []float64{7, 42}) || got.Start != 900 {
		t.Errorf("after rewrite, archive 1: %d %v", got.Start, got.Values)
	}
}

func TestSlotLastWins(t *testing.T) {
	now := int64(10000)
	rules := mustRules(t, "[a]\npattern = .*\nretentions = 10:100\n", "")
	s, _ := openStore(t, t.TempDir(), rules, &now)
	// 9951 and 9955 share slot 9950: the larger timestamp wins whatever the
	// arrival order; equal timestamps: the later arrival wins.
	if err := s.Write(batch("m", pts(9955, 1, 9951, 2, 9960, 3, 9960, 4)...)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Fetch("m", 9949, 9960, now)
	if !sameFloats(got.Values, []float64{1, 4}) {
		t.Errorf("got %v", got.Values)
	}
}

func TestMethodsPropagation(t *testing.T) {
	// One slot group of 4 with values -3, missing, 2, 1 (in time order).
	for _, tc := range []struct {
		method string
		xff    string
		want   float64
	}{
		{"average", "0.5", 0},
		{"sum", "0.5", 0},
		{"last", "0.5", 1},
		{"max", "0.5", 2},
		{"min", "0.5", -3},
		{"avg_zero", "0.5", 0},
		{"absmax", "0.5", -3},
		{"absmin", "0.5", 1},
		{"sum", "0.75", 0},   // 3/4 known >= 0.75
		{"sum", "0.76", nan}, // 3/4 < 0.76: not propagated
		{"sum", "1", nan},
		{"sum", "0", 0},
	} {
		now := int64(4000)
		rules := mustRules(t, "[a]\npattern = .*\nretentions = 1:100,4:100\n",
			"[a]\npattern = .*\naggregationMethod = "+tc.method+"\nxFilesFactor = "+tc.xff+"\n")
		s, _ := openStore(t, t.TempDir(), rules, &now)
		if err := s.Write(batch("m", pts(3980, -3, 3982, 2, 3983, 1)...)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Fetch("m", 3800, 3980, now)
		if err != nil || got.Step != 4 {
			t.Fatalf("%s: %v %+v", tc.method, err, got)
		}
		// the group starting 3980 is the last value (range (3800, 3980] → ends at 3984)
		v := got.Values[len(got.Values)-1]
		if got.Start+int64(len(got.Values)-1)*4 != 3980 || !sameFloats([]float64{v}, []float64{tc.want}) {
			t.Errorf("%s xff %s: group value %v (start %d len %d), want %v", tc.method, tc.xff, v, got.Start, len(got.Values), tc.want)
		}
	}
}

func TestHostileNames(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "tree")
	now := int64(1000)
	s, _ := openStore(t, dir, nil, &now)
	bad := []string{"", ".", "..", "a..b", ".a", "a.", "../etc/passwd", "a/b", "..a/..", "a\x00b",
		strings.Repeat("x", 252), strings.Repeat("a.", 600) + "a"}
	b := &storage.Batch{}
	for _, n := range bad {
		b.Series = append(b.Series, storage.SeriesPoints{Name: n, Points: pts(990, 1)})
	}
	b.Series = append(b.Series, storage.SeriesPoints{Name: "ok.name", Points: pts(990, 1)})
	if err := s.Write(b); err != nil {
		t.Fatalf("Write: %v (invalid names are dropped and counted, not errors)", err)
	}
	st := s.Stats()
	if st.InvalidNames != uint64(len(bad)) || st.Errors != 0 || st.Created != 1 {
		t.Errorf("stats %+v", st)
	}
	var files []string
	filepath.Walk(parent, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, strings.TrimPrefix(p, parent))
		}
		return nil
	})
	if len(files) != 1 || files[0] != "/tree/ok/name.wsp" {
		t.Errorf("files %v", files)
	}
	for _, n := range bad {
		if _, err := s.Fetch(n, 0, 1000, 1000); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Fetch(%q): %v", n, err)
		}
	}
	// Names that look odd but are fine segments.
	for _, n := range []string{"a-b.c_d", "a b.c", "ümlaut.x", "a\\b", "x.wsp"} {
		if err := s.Write(batch(n, pts(990, 1)...)); err != nil {
			t.Errorf("Write(%q): %v", n, err)
		}
	}
}

func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	now := int64(1000)
	s, _ := openStore(t, dir, nil, &now)
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name+".wsp"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hdr := encodeHeader(nil, []schema.Retention{{SecondsPerPoint: 10, Points: 100}}, schema.Average, 0.5)
	write("truncated", append(hdr, make([]byte, 500)...)) // needs 1200 data bytes
	bad := append([]byte(nil), hdr...)
	bad[3] = 9 // aggregation type 9
	write("badagg", append(bad, make([]byte, 1200)...))
	for _, n := range []string{"truncated", "badagg"} {
		err := s.Write(batch(n, pts(990, 1)...))
		var we *storage.WriteError
		if !errors.Is(err, ErrCorrupt) || !errors.As(err, &we) || len(we.Failed) != 1 || we.Failed[0].Index != 0 || we.Failed[0].Name != n {
			t.Errorf("Write(%s): %v, want a WriteError for series 0 wrapping ErrCorrupt", n, err)
		}
		if _, err := s.Fetch(n, 0, 1000, 1000); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Fetch(%s): %v, want ErrCorrupt", n, err)
		}
	}
}

// TestEmptyFileRecreated: a zero-length file (a create interrupted by a
// crash or a full disk) is replaced on the next write; reads of it are
// ErrCorrupt until then.
func TestEmptyFileRecreated(t *testing.T) {
	dir := t.TempDir()
	now := int64(1000)
	s, _ := openStore(t, dir, mustRules(t, "[a]\npattern = .*\nretentions = 10:100\n", ""), &now)
	if err := os.WriteFile(filepath.Join(dir, "empty.wsp"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch("empty", 0, 1000, 1000); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Fetch of an empty file: %v, want ErrCorrupt", err)
	}
	if err := s.Write(batch("empty", pts(990, 5)...)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Fetch("empty", 980, 990, 1000)
	if err != nil || !sameFloats(got.Values, []float64{5}) {
		t.Errorf("after rewrite: %v %v", got, err)
	}
	if st := s.Stats(); st.EmptyRecreated != 1 || st.Created != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestNoSchema(t *testing.T) {
	dir := t.TempDir()
	now := int64(1000)
	rules := mustRules(t, "[a]\npattern = ^only\\.\nretentions = 60:10\n", "")
	s, _ := openStore(t, dir, rules, &now)
	if err := s.Write(batch("other.metric", pts(990, 1, 991, 2)...)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if st := s.Stats(); st.NoSchema != 2 || st.Errors != 0 || st.Created != 0 {
		t.Errorf("stats %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); !os.IsNotExist(err) {
		t.Errorf("directory created for an unmatched metric: %v", err)
	}
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	now := int64(1000)
	s, _ := openStore(t, dir, nil, &now)
	names := []string{"a.b.c", "a.b.d", "a.e", "x", "deep.1.2.3.4.5.6.7.8"}
	for _, n := range names {
		if err := s.Write(batch(n, pts(990, 1)...)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// junk that is not a metric
	os.WriteFile(filepath.Join(dir, "a", "notes.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "a", "b.c.wsp"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden.wsp"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "y.wsp"), []byte("x"), 0o644)
	os.Symlink(filepath.Join(dir, "x.wsp"), filepath.Join(dir, "link.wsp"))
	os.Symlink(dir, filepath.Join(dir, "loop"))

	s2, idx := openStore(t, dir, nil, &now)
	want := append(append([]string(nil), names...), "link")
	sort.Strings(want)
	var got []string
	idx.Walk(func(n string) bool { got = append(got, n); return true })
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("scanned %v, want %v", got, want)
	}
	if s2.Stats().ScannedFiles != uint64(len(want)) {
		t.Errorf("ScannedFiles %d", s2.Stats().ScannedFiles)
	}
	nodes, err := s2.Find("a.*")
	if err != nil || len(nodes) != 2 || nodes[0] != (storage.Node{Path: "a.b", Branch: true}) || nodes[1] != (storage.Node{Path: "a.e", Leaf: true}) {
		t.Errorf("Find: %v %v", nodes, err)
	}
}

func TestClosed(t *testing.T) {
	now := int64(1000)
	s, _ := openStore(t, t.TempDir(), nil, &now)
	s.Close()
	if err := s.Write(batch("a", pts(990, 1)...)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := Open(Options{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "Index is required") {
		t.Errorf("Open without Index: %v", err)
	}
	o := DefaultOptions(t.TempDir(), index.New())
	if err := o.Validate(); err != nil || o.Workers <= 0 || len(o.Rules.Schemas) == 0 {
		t.Errorf("DefaultOptions: %+v %v", o, err)
	}
	o.Workers = -1
	if err := o.Validate(); err == nil {
		t.Error("negative Workers: want an error")
	}
}

// TestRunLongerThanArchive: one write holding more consecutive slots than
// the first archive has (future points plus the oldest covered slot). The
// ring keeps the newest value of each slot and nothing is written outside
// the archive (Python whisper would write the excess into the next archive).
func TestRunLongerThanArchive(t *testing.T) {
	dir := t.TempDir()
	now := int64(1000)
	rules := mustRules(t, "[a]\npattern = .*\nretentions = 10:6,60:100\n", "[a]\npattern = .*\naggregationMethod = max\nxFilesFactor = 0\n")
	s, _ := openStore(t, dir, rules, &now)
	// 940 (age 60) .. 1030 (30 s ahead): 10 consecutive slots in a 6-slot ring.
	var ps []storage.Point
	for ts := int64(940); ts <= 1030; ts += 10 {
		ps = append(ps, storage.Point{Timestamp: ts, Value: float64(ts)})
	}
	if err := s.Write(batch("m", ps...)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Fetch("m", 970, 1030, 1030)
	if got.Start != 980 || !sameFloats(got.Values, []float64{980, 990, 1000, 1010, 1020, 1030}) {
		t.Errorf("archive 0: %d %v", got.Start, got.Values)
	}
	// Propagation reads the ring after the write, where 940 and 950 were
	// overwritten by 1000 and 1010: the 900 group gets nothing, 960 gets
	// max(980..1010), 1020 gets max(1020, 1030).
	got, _ = s.Fetch("m", 800, 1030, 1030)
	if got.Start != 840 || got.Step != 60 || !sameFloats(got.Values, []float64{nan, nan, 1010, 1030}) {
		t.Errorf("archive 1: %d %d %v", got.Start, got.Step, got.Values)
	}
}

// TestConcurrentWriters: 4 goroutines write interleaved timestamps of the
// same 20 metrics while 2 others fetch; every point must be there at the end
// (one writer per file at a time, no lost or torn update).
func TestConcurrentWriters(t *testing.T) {
	now := int64(100_000)
	rules := mustRules(t, "[a]\npattern = .*\nretentions = 1:2000,60:100\n", "[a]\npattern = .*\naggregationMethod = sum\nxFilesFactor = 0\n")
	s, _ := openStore(t, t.TempDir(), rules, &now)
	const writers, metrics, perWriter = 4, 20, 250
	done := make(chan struct{})
	var wg, rg sync.WaitGroup
	for r := 0; r < 2; r++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				for m := 0; m < metrics; m++ {
					if _, err := s.Fetch("c.m"+strconv.Itoa(m), now-1000, now, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				ts := now - 1999 + int64(i*writers+w)
				b := &storage.Batch{}
				for m := 0; m < metrics; m++ {
					b.Series = append(b.Series, storage.SeriesPoints{Name: "c.m" + strconv.Itoa(m), Points: []storage.Point{{Timestamp: ts, Value: 1}}})
				}
				if err := s.Write(b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	rg.Wait()
	for m := 0; m < metrics; m++ {
		got, err := s.Fetch("c.m"+strconv.Itoa(m), now-2000, now, now)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, v := range got.Values {
			if v == 1 {
				n++
			}
		}
		if n != writers*perWriter {
			t.Errorf("c.m%d: %d points, want %d", m, n, writers*perWriter)
		}
	}
	if st := s.Stats(); st.Created != metrics || st.PointsWritten != writers*perWriter*metrics {
		t.Errorf("stats %+v", st)
	}
}

// TestHandBuiltRules: Rules not made by the parsers (unsorted retentions, an
// invalid list) are sorted or refused at create time.
func TestHandBuiltRules(t *testing.T) {
	dir := t.TempDir()
	now := int64(10_000)
	r := mustRules(t, "[a]\npattern = ^a\\.\nretentions = 1:1\n[b]\npattern = ^b\\.\nretentions = 1:1\n", "")
	r.Schemas[0].Retentions = []schema.Retention{{SecondsPerPoint: 60, Points: 10}, {SecondsPerPoint: 10, Points: 6}}
	r.Schemas[1].Retentions = []schema.Retention{{SecondsPerPoint: 10, Points: 6}, {SecondsPerPoint: 15, Points: 100}}
	s, _ := openStore(t, dir, r, &now)
	if err := s.Write(batch("a.x", pts(9990, 1)...)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Fetch("a.x", 9950, 9990, now)
	if got.Step != 10 {
		t.Errorf("first archive step %d, want 10", got.Step)
	}
	if err := s.Write(batch("b.x", pts(9990, 1)...)); err == nil || !strings.Contains(err.Error(), "evenly divide") {
		t.Errorf("invalid hand-built retentions: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b", "x.wsp")); !os.IsNotExist(err) {
		t.Errorf("file created for invalid retentions: %v", err)
	}
}
