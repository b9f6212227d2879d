package pebble

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
)

const testNow = 1_700_000_123

// TestReopenOracle writes a stream of small batches, closing and reopening
// the store halfway (so the writer's tails start empty and it must read
// blocks back), and compares with Python whisper.
func TestReopenOracle(t *testing.T) {
	storetest.HavePythonWhisper(t)
	rules := storetest.SuiteRules(t)
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Rules = rules
	opts.Now = func() int64 { return testNow }
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	names := []string{"re.a.average", "re.a.sum", "re.b.max", "re.b.last"}
	batches := map[string][][]storage.Point{}
	for _, n := range names {
		ts := int64(testNow - 3000)
		for ts < testNow-100 {
			var b []storage.Point
			for k := 1 + r.IntN(8); k > 0; k-- {
				b = append(b, storage.Point{Timestamp: ts, Value: float64(r.IntN(1000)) / 8})
				ts += 10 * int64(1+r.IntN(2))
			}
			batches[n] = append(batches[n], b)
		}
	}
	for round := 0; ; round++ {
		var b storage.Batch
		for _, n := range names {
			if round < len(batches[n]) {
				b.Series = append(b.Series, storage.SeriesPoints{Name: n, Points: batches[n][round]})
			}
		}
		if len(b.Series) == 0 {
			break
		}
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
		if round == 20 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(opts); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer s.Close()
	fetches := [][2]int64{{testNow - 3500, testNow}, {testNow - 86400, testNow}, {testNow - 7*86400, testNow}}
	for _, n := range names {
		sch, agg, err := rules.Match(n)
		if err != nil {
			t.Fatal(err)
		}
		want := storetest.PythonWhisper(t, sch.Retentions, agg.Method, agg.XFilesFactor, testNow, batches[n], fetches)
		for j, f := range fetches {
			got, err := s.Fetch(n, f[0], f[1], testNow)
			if err != nil {
				t.Fatal(err)
			}
			storetest.CompareWithWhisper(t, f, got, want[j])
		}
	}
	if nodes, err := s.Find("re.*.*"); err != nil || len(nodes) != 4 {
		t.Errorf("Find(re.*.*) after reopen = %v, %v; want 4 leaves", nodes, err)
	}
}

// TestRetention checks that EnforceRetention range-deletes each ring's
// expired blocks and keeps everything a fetch can still see.
func TestRetention(t *testing.T) {
	clock := int64(testNow)
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Rules = w1Rules(t) // 1s:15m, 1m:1d
	opts.Now = func() int64 { return clock }
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pts []storage.Point
	for i := int64(0); i < 600; i++ {
		pts = append(pts, storage.Point{Timestamp: testNow - 600 + i, Value: 1})
	}
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "ret.x", Points: pts}}}); err != nil {
		t.Fatal(err)
	}
	countKeys := func(ring uint16) int {
		it, err := s.db.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		n := 0
		for it.First(); it.Valid(); it.Next() {
			if r, _, _, ok := parseDataKey(it.Key()); ok && r == ring {
				n++
			}
		}
		return n
	}
	if n0, n1 := countKeys(0), countKeys(1); n0 == 0 || n1 != 1 {
		t.Fatalf("before: ring 0 has %d blocks, ring 1 %d; want >0 and 1", n0, n1)
	}
	// Two hours later the 1 s data (15 min + a 60 s margin) is gone, the
	// 1 m data stays.
	clock = testNow + 7200
	if _, err := s.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if n0, n1 := countKeys(0), countKeys(1); n0 != 0 || n1 != 1 {
		t.Errorf("after 2h: ring 0 has %d blocks, ring 1 %d; want 0 and 1", n0, n1)
	}
	got, err := s.Fetch("ret.x", testNow-600, testNow, clock)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != 60 || len(got.Values) != 10 || got.Values[1] != 1 {
		t.Errorf("1m data after trimming: step %d values %v", got.Step, got.Values)
	}
	// Two days later everything is gone.
	clock = testNow + 2*86400
	if _, err := s.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if n1 := countKeys(1); n1 != 0 {
		t.Errorf("after 2d: ring 1 has %d blocks, want 0", n1)
	}
}

// TestCheckpoint takes an online checkpoint and opens it as a store.
func TestCheckpoint(t *testing.T) {
	s := openTest(t, storetest.SuiteRules(t), func() int64 { return testNow })
	defer s.Close()
	var pts []storage.Point
	for i := int64(0); i < 100; i++ {
		pts = append(pts, storage.Point{Timestamp: testNow - 1000 + 10*i, Value: float64(i)})
	}
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "cp.x", Points: pts}}}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "backup")
	if err := s.Checkpoint(dest); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(dest); err == nil {
		t.Error("checkpoint into an existing directory: no error")
	}
	// Written after the checkpoint: not in it.
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "cp.y", Points: pts}}}); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Dir = dest
	opts.Rules = storetest.SuiteRules(t)
	c, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want, _ := s.Fetch("cp.x", testNow-1100, testNow, testNow)
	got, err := c.Fetch("cp.x", testNow-1100, testNow, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != want.Start || len(got.Values) != len(want.Values) {
		t.Fatalf("checkpoint fetch start %d len %d, want %d %d", got.Start, len(got.Values), want.Start, len(want.Values))
	}
	for i := range want.Values {
		if math.Float64bits(got.Values[i]) != math.Float64bits(want.Values[i]) && !(math.IsNaN(got.Values[i]) && math.IsNaN(want.Values[i])) {
			t.Errorf("value %d: %v, want %v", i, got.Values[i], want.Values[i])
		}
	}
	if _, err := c.Fetch("cp.y", testNow-1100, testNow, testNow); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("series written after the checkpoint: err %v, want ErrNotFound", err)
	}
}

// TestStats checks the counters.
func TestStats(t *testing.T) {
	s := openTest(t, storetest.SuiteRules(t), func() int64 { return testNow })
	defer s.Close()
	pts := []storage.Point{{Timestamp: testNow - 10, Value: 1}, {Timestamp: testNow - 20, Value: 2}, {Timestamp: testNow - 30*86400, Value: 3}}
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "st.a", Points: pts}, {Name: "st.b", Points: pts[:1]}}}); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.PointsWritten != 3 || st.PointsDropped != 1 || st.PointsDroppedTooOld != 1 || st.Series != 2 || st.DiskBytes == 0 {
		t.Errorf("stats %+v: want 3 written, 1 dropped (too old), 2 series, some disk", st)
	}
}

// TestNoSchema: a name no schema matches is dropped and counted (not a
// write error, which would fail the whole batch for the caller).
func TestNoSchema(t *testing.T) {
	rs := *storetest.SuiteRules(t)
	rs.Schemas = nil
	s := openTest(t, &rs, func() int64 { return testNow })
	defer s.Close()
	err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "ns.a", Points: []storage.Point{{Timestamp: testNow, Value: 1}}}}})
	if err != nil {
		t.Fatalf("write without a matching schema: %v; want the points dropped and counted", err)
	}
	if st := s.Stats(); st.PointsDroppedNoSchema != 1 || st.Series != 0 {
		t.Errorf("stats %+v, want 1 dropped for no schema", st)
	}
}

// TestIndexPersisted writes many names, reopens and finds them.
func TestIndexPersisted(t *testing.T) {
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Rules = storetest.SuiteRules(t)
	opts.Now = func() int64 { return testNow }
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	var b storage.Batch
	for i := 0; i < 5000; i++ {
		b.Series = append(b.Series, storage.SeriesPoints{Name: fmt.Sprintf("ix.h%02d.m%04d", i%50, i), Points: []storage.Point{{Timestamp: testNow - 5, Value: float64(i)}}})
	}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.index.Len(); n != 5000 {
		t.Errorf("index has %d names after reopen, want 5000", n)
	}
	nodes, err := s.Find("ix.h07.*")
	if err != nil || len(nodes) != 100 || nodes[0].Path != "ix.h07.m0007" {
		t.Errorf("Find(ix.h07.*) = %d nodes (%v), want 100 starting ix.h07.m0007", len(nodes), err)
	}
	got, err := s.Fetch("ix.h07.m0007", testNow-60, testNow, testNow)
	if err != nil || got.Values[len(got.Values)-2] != 7 {
		t.Errorf("fetch after reopen: %v %v", got, err)
	}
	// New series after reopen get fresh ids (no clash with loaded ones).
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "ix.new", Points: []storage.Point{{Timestamp: testNow - 5, Value: -1}}}}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Fetch("ix.h00.m0000", testNow-60, testNow, testNow)
	if got.Values[len(got.Values)-2] != 0 {
		t.Errorf("ix.h00.m0000 overwritten by a new series: %v", got.Values)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	os.Exit(m.Run())
}

// TestConcurrent runs writers, readers, retention and Close together (run
// with -race).
func TestConcurrent(t *testing.T) {
	s := openTest(t, storetest.SuiteRules(t), func() int64 { return testNow })
	done := make(chan struct{})
	errc := make(chan error, 8)
	for g := 0; g < 2; g++ {
		go func(g int) {
			for k := 0; ; k++ {
				select {
				case <-done:
					errc <- nil
					return
				default:
				}
				var b storage.Batch
				for j := 0; j < 20; j++ {
					b.Series = append(b.Series, storage.SeriesPoints{Name: fmt.Sprintf("cc.g%d.s%d", g, j),
						Points: []storage.Point{{Timestamp: testNow - 3000 + int64(k%290)*10, Value: float64(k)}}})
				}
				if err := s.Write(&b); err != nil {
					errc <- err
					return
				}
			}
		}(g)
	}
	go func() {
		for {
			select {
			case <-done:
				errc <- nil
				return
			default:
			}
			if _, err := s.Fetch("cc.g0.s1", testNow-3600, testNow, testNow); err != nil && !errors.Is(err, storage.ErrNotFound) {
				errc <- err
				return
			}
			if _, err := s.Find("cc.*.*"); err != nil {
				errc <- err
				return
			}
			s.Stats()
			if _, err := s.EnforceRetention(); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	close(done)
	for i := 0; i < 3; i++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch("cc.g0.s1", testNow-60, testNow, testNow); !errors.Is(err, ErrClosed) {
		t.Errorf("fetch after close: %v, want ErrClosed", err)
	}
	if err := s.Write(&storage.Batch{}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v, want ErrClosed", err)
	}
}

func TestStep(t *testing.T) {
	s := openTest(t, storetest.SuiteRules(t), func() int64 { return testNow })
	defer s.Close()
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "step.known", Points: []storage.Point{{Timestamp: testNow - 5, Value: 1}}}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		from int64
		want int64
	}{
		{"step.known", testNow - 600, 10}, {"step.known", testNow - 3600, 10}, {"step.known", testNow - 3601, 60},
		{"step.unknown", testNow - 86400, 60}, {"step.unknown", testNow - 86401, 300}, {"step.unknown", testNow - 90*86400, 300},
	} {
		if got := s.Step(c.name, c.from, testNow); got != c.want {
			t.Errorf("Step(%s, now-%d) = %d, want %d", c.name, testNow-c.from, got, c.want)
		}
	}
}

// TestLongSeries writes one series with 5,000 unordered points spread over
// every archive in one Write (the writer splits it into time-ordered
// chunks) and compares with Python whisper.
func TestLongSeries(t *testing.T) {
	storetest.HavePythonWhisper(t)
	s := openTest(t, storetest.SuiteRules(t), func() int64 { return testNow })
	defer s.Close()
	r := rand.New(rand.NewPCG(21, 22))
	seen := map[int64]bool{}
	var pts []storage.Point
	for len(pts) < 5000 {
		age := r.Int64N(6 * 86400)
		if age%3600 < 40 || seen[age] { // away from archive boundaries, no duplicates
			continue
		}
		seen[age] = true
		pts = append(pts, storage.Point{Timestamp: testNow - age, Value: float64(r.IntN(100))})
	}
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "long.xff0", Points: pts}}}); err != nil {
		t.Fatal(err)
	}
	sch, agg, _ := storetest.SuiteRules(t).Match("long.xff0")
	fetches := [][2]int64{{testNow - 3500, testNow}, {testNow - 86400, testNow}, {testNow - 7*86400, testNow}}
	want := storetest.PythonWhisper(t, sch.Retentions, agg.Method, agg.XFilesFactor, testNow, [][]storage.Point{pts}, fetches)
	for j, f := range fetches {
		got, err := s.Fetch("long.xff0", f[0], f[1], testNow)
		if err != nil {
			t.Fatal(err)
		}
		storetest.CompareWithWhisper(t, f, got, want[j])
	}
}

// TestSchemaValidation: hand-built rules are sorted finest first; invalid
// retentions (a coarser step that is not a multiple) are refused.
func TestSchemaValidation(t *testing.T) {
	rs := *storetest.SuiteRules(t)
	sch := rs.Schemas[0]
	sch.Retentions = []schema.Retention{{SecondsPerPoint: 60, Points: 1440}, {SecondsPerPoint: 10, Points: 360}}
	bad := sch
	bad.Pattern = regexp.MustCompile(`^bad\.`)
	bad.Retentions = []schema.Retention{{SecondsPerPoint: 10, Points: 360}, {SecondsPerPoint: 25, Points: 1000}}
	rs.Schemas = []schema.Schema{bad, sch}
	s := openTest(t, &rs, func() int64 { return testNow })
	defer s.Close()
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "sv.a", Points: []storage.Point{{Timestamp: testNow - 100, Value: 1}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Step("sv.a", testNow-100, testNow); got != 10 {
		t.Errorf("step of the finest archive = %d, want 10", got)
	}
	before := s.Stats().PointsDroppedNoSchema
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "bad.a", Points: []storage.Point{{Timestamp: testNow - 100, Value: 1}}}}}); err != nil {
		t.Errorf("write with invalid retentions: %v; want the points dropped and counted", err)
	}
	if got := s.Stats().PointsDroppedNoSchema - before; got != 1 {
		t.Errorf("points dropped for invalid retentions = %d; want 1", got)
	}
	if _, err := s.Fetch("bad.a", testNow-200, testNow, testNow); err == nil {
		t.Error("a series with invalid retentions was created")
	}
}
