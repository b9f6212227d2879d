package storetest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// OpenFunc opens an empty store in t.TempDir() that creates series with
// rules and takes the current time from now (in unix seconds). The suite
// closes the store.
type OpenFunc func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store

// SuiteSchemas is the storage-schemas.conf every test of the suite uses.
const SuiteSchemas = `
[suite]
pattern = .*
retentions = 10s:1h,1m:1d,5m:7d
`

// SuiteAggregation maps a name's last segment to a method and xFilesFactor.
const SuiteAggregation = `
[sum]
pattern = \.sum$
xFilesFactor = 0
aggregationMethod = sum
[max]
pattern = \.max$
xFilesFactor = 0
aggregationMethod = max
[min]
pattern = \.min$
xFilesFactor = 0
aggregationMethod = min
[last]
pattern = \.last$
xFilesFactor = 0
aggregationMethod = last
[avg_zero]
pattern = \.avg_zero$
xFilesFactor = 0
aggregationMethod = avg_zero
[absmax]
pattern = \.absmax$
xFilesFactor = 0
aggregationMethod = absmax
[absmin]
pattern = \.absmin$
xFilesFactor = 0
aggregationMethod = absmin
[xff0]
pattern = \.xff0$
xFilesFactor = 0
aggregationMethod = average
[xff03]
pattern = \.xff03$
xFilesFactor = 0.3
aggregationMethod = average
[xff1]
pattern = \.xff1$
xFilesFactor = 1
aggregationMethod = average
[default]
pattern = .*
xFilesFactor = 0.5
aggregationMethod = average
`

// SuiteRules parses SuiteSchemas and SuiteAggregation.
func SuiteRules(t testing.TB) *schema.Rules {
	t.Helper()
	s, err := schema.ParseSchemas(strings.NewReader(SuiteSchemas))
	if err != nil {
		t.Fatal(err)
	}
	a, err := schema.ParseAggregations(strings.NewReader(SuiteAggregation))
	if err != nil {
		t.Fatal(err)
	}
	return &schema.Rules{Schemas: s, Aggregations: a}
}

// now0 is the suite's clock for hand-computed cases: a multiple of 300, so
// every archive's slots align with it.
const now0 = 1_700_000_400

// Run runs the whole suite against the backend open returns.
func Run(t *testing.T, open OpenFunc) {
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open) })
	t.Run("RawArchive", func(t *testing.T) { testRawArchive(t, open) })
	t.Run("Rollup", func(t *testing.T) { testRollup(t, open) })
	t.Run("XFilesFactor", func(t *testing.T) { testXFF(t, open) })
	t.Run("Methods", func(t *testing.T) { testMethods(t, open) })
	t.Run("SlotLastWins", func(t *testing.T) { testLastWins(t, open) })
	t.Run("OldPoints", func(t *testing.T) { testOldPoints(t, open) })
	t.Run("FetchBounds", func(t *testing.T) { testFetchBounds(t, open) })
	t.Run("Find", func(t *testing.T) { testFind(t, open) })
	t.Run("FetchMany", func(t *testing.T) { testFetchMany(t, open) })
	t.Run("PythonWhisperOracle", func(t *testing.T) { testOracle(t, open) })
	t.Run("PythonWhisperOracleStream", func(t *testing.T) { testOracleStream(t, open) })
}

func openAt(t *testing.T, open OpenFunc, now int64) storage.Store {
	t.Helper()
	s := open(t, SuiteRules(t), func() int64 { return now })
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func write(t *testing.T, s storage.Store, name string, pts ...storage.Point) {
	t.Helper()
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: pts}}}); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
}

func fetch(t *testing.T, s storage.Store, name string, from, until int64) *storage.Series {
	t.Helper()
	got, err := s.Fetch(name, from, until, now0)
	if err != nil {
		t.Fatalf("fetch %s (%d, %d]: %v", name, from, until, err)
	}
	return got
}

// nan marks an expected missing value.
var nan = math.NaN()

// expectSeries checks start, step and every value (NaN = missing).
func expectSeries(t *testing.T, got *storage.Series, start, step int64, want []float64) {
	t.Helper()
	if got.Start != start || got.Step != step || len(got.Values) != len(want) {
		t.Fatalf("got start %d step %d len %d, want start %d step %d len %d", got.Start, got.Step, len(got.Values), start, step, len(want))
	}
	for i, w := range want {
		g := got.Values[i]
		if math.IsNaN(w) != math.IsNaN(g) || (!math.IsNaN(w) && math.Float64bits(g) != math.Float64bits(w)) {
			t.Errorf("value %d (ts %d): got %v, want %v", i, start+int64(i)*step, g, w)
		}
	}
}

// sparse returns n NaNs with the given index -> value pairs set.
func sparse(n int, kv map[int]float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = nan
		if x, ok := kv[i]; ok {
			v[i] = x
		}
	}
	return v
}

func testNotFound(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	if _, err := s.Fetch("no.such.metric", now0-60, now0, now0); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("fetch of unknown metric: err %v, want ErrNotFound", err)
	}
}

// tenMinutes returns 60 points at 10 s steps from now0-600, values 0..59.
func tenMinutes() []storage.Point {
	var pts []storage.Point
	for i := 0; i < 60; i++ {
		pts = append(pts, storage.Point{Timestamp: now0 - 600 + int64(10*i), Value: float64(i)})
	}
	return pts
}

func testRawArchive(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	write(t, s, "raw.avg", tenMinutes()...)
	// (now-300, now] in the 10 s archive: slots now-290 .. now.
	want := make([]float64, 30)
	for i := range want {
		want[i] = float64(31 + i)
	}
	want[29] = nan // slot now0 has no point
	expectSeries(t, fetch(t, s, "raw.avg", now0-300, now0), now0-290, 10, want)
	// Unaligned bounds: (now-295, now-101] -> slots now-290 .. now-110.
	want = make([]float64, 19)
	for i := range want {
		want[i] = float64(31 + i)
	}
	expectSeries(t, fetch(t, s, "raw.avg", now0-295, now0-101), now0-290, 10, want)
}

func testRollup(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	write(t, s, "roll.avg", tenMinutes()...)
	// 1 m archive: minute k of the ten holds the average of 6k..6k+5.
	kv := map[int]float64{}
	for k := 0; k < 10; k++ {
		kv[109+k] = float64(6*k) + 2.5
	}
	expectSeries(t, fetch(t, s, "roll.avg", now0-7200, now0), now0-7140, 60, sparse(120, kv))
	// 5 m archive: averages of the 1 m averages.
	expectSeries(t, fetch(t, s, "roll.avg", now0-2*86400, now0), now0-172500, 300, sparse(576, map[int]float64{573: 14.5, 574: 44.5}))
}

func testXFF(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	m0 := int64(now0 - 600)
	m1 := m0 + 60
	p := func(ts int64, v float64) storage.Point { return storage.Point{Timestamp: ts, Value: v} }
	// default xff 0.5: 3 of 6 propagate, 2 of 6 do not.
	write(t, s, "xff.avg", p(m0, 1), p(m0+20, 2), p(m0+50, 3), p(m1, 10), p(m1+10, 20))
	// xff 1: 6 of 6 propagate, 5 of 6 do not.
	var full []storage.Point
	for i := int64(0); i < 6; i++ {
		full = append(full, p(m0+10*i, float64(i)))
		if i < 5 {
			full = append(full, p(m1+10*i, 100))
		}
	}
	write(t, s, "xff.xff1", full...)
	// xff 0: one point is enough.
	write(t, s, "xff.xff0", p(m0+30, 7))
	// xff 0.3 is stored as float32 (0.30000001192...): 2 of 6 pass.
	write(t, s, "xff.xff03", p(m0, 3), p(m0+10, 6), p(m1, 9))
	cases := map[string]map[int]float64{
		"xff.avg":   {109: 2},
		"xff.xff1":  {109: 2.5},
		"xff.xff0":  {109: 7},
		"xff.xff03": {109: 4.5},
	}
	for name, kv := range cases {
		t.Run(name, func(t *testing.T) {
			expectSeries(t, fetch(t, s, name, now0-7200, now0), now0-7140, 60, sparse(120, kv))
		})
	}
}

func testMethods(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	m0 := int64(now0 - 600)
	pts := []storage.Point{{Timestamp: m0, Value: -5}, {Timestamp: m0 + 10, Value: 3}, {Timestamp: m0 + 30, Value: 4}}
	want := map[string]float64{
		"sum": 2, "max": 4, "min": -5, "last": 4, "avg_zero": 2.0 / 6, "absmax": -5, "absmin": 3, "xff0": 2.0 / 3,
	}
	for m, v := range want {
		t.Run(m, func(t *testing.T) {
			name := "meth." + m
			write(t, s, name, pts...)
			expectSeries(t, fetch(t, s, name, now0-7200, now0), now0-7140, 60, sparse(120, map[int]float64{109: v}))
		})
	}
}

func testLastWins(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	p := func(ts int64, v float64) storage.Point { return storage.Point{Timestamp: ts, Value: v} }
	// Same slot, different timestamps, arrival order reversed: the later
	// timestamp wins (whisper sorts by time before writing).
	write(t, s, "lw.xff0", p(now0-95, 2), p(now0-100, 1))
	// Same timestamp twice in one batch: the later arrival wins (the
	// storage contract; carbon's cache keeps the last value too).
	write(t, s, "lw.xff0", p(now0-30, 7), p(now0-30, 8))
	// A later batch overwrites.
	write(t, s, "lw.xff0", p(now0-50, 5))
	write(t, s, "lw.xff0", p(now0-50, 6))
	expectSeries(t, fetch(t, s, "lw.xff0", now0-120, now0), now0-110, 10,
		sparse(12, map[int]float64{1: 2, 6: 6, 8: 8}))
	// Overwriting recomputes the rollup from the stored slots: minute
	// now0-120 holds 2 only, minute now0-60 holds 6 and 8.
	expectSeries(t, fetch(t, s, "lw.xff0", now0-7200, now0), now0-7140, 60,
		sparse(120, map[int]float64{117: 2, 118: 7}))
}

func testOldPoints(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	p := func(ts int64, v float64) storage.Point { return storage.Point{Timestamp: ts, Value: v} }
	// Age 7195 s: beyond the 10 s archive, stored as is in the 1 m archive
	// (not aggregated), and 1 of 5 minutes is too few for the 5 m archive.
	// Age 8 days: beyond every archive, dropped without error.
	write(t, s, "old.avg", p(now0-7195, 42), p(now0-8*86400, 1))
	expectSeries(t, fetch(t, s, "old.avg", now0-7300, now0), now0-7260, 60, sparse(122, map[int]float64{1: 42}))
	got := fetch(t, s, "old.avg", now0-2*86400, now0)
	for i, v := range got.Values {
		if !math.IsNaN(v) {
			t.Errorf("5m archive value %d = %v, want none", i, v)
		}
	}
	// Age 3 days: written straight into the 5 m archive.
	write(t, s, "old.sum", p(now0-3*86400+7, 9))
	expectSeries(t, fetch(t, s, "old.sum", now0-3*86400-300, now0-3*86400+300), now0-3*86400, 300, sparse(2, map[int]float64{0: 9}))
}

func testFetchBounds(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	write(t, s, "fb.avg", tenMinutes()...)
	if _, err := s.Fetch("fb.avg", now0, now0-10, now0); err == nil {
		t.Error("fetch with from > until: no error")
	}
	// Entirely in the future / beyond retention: no values.
	for _, r := range [][2]int64{{now0 + 10, now0 + 100}, {now0 - 9*86400, now0 - 8*86400}} {
		got := fetch(t, s, "fb.avg", r[0], r[1])
		if len(got.Values) != 0 || got.Start != r[0] || got.Step != 10 {
			t.Errorf("fetch (%d, %d]: start %d step %d %d values, want start %d step 10 and none", r[0], r[1], got.Start, got.Step, len(got.Values), r[0])
		}
	}
	// until beyond now is clamped to now.
	expectSeries(t, fetch(t, s, "fb.avg", now0-30, now0+1000), now0-20, 10, []float64{58, 59, nan})
	// Zero-length range: one slot.
	expectSeries(t, fetch(t, s, "fb.avg", now0-50, now0-50), now0-40, 10, []float64{56})
	// from beyond retention is clamped to now-7d.
	got := fetch(t, s, "fb.avg", now0-30*86400, now0)
	if got.Start != now0-7*86400+300 || got.Step != 300 || len(got.Values) != 2016 {
		t.Errorf("clamped fetch: start %d step %d len %d", got.Start, got.Step, len(got.Values))
	}
}

func testFind(t *testing.T, open OpenFunc) {
	s := openAt(t, open, now0)
	for _, n := range []string{"f.a.x", "f.a.y", "f.b", "g.c"} {
		write(t, s, n, storage.Point{Timestamp: now0 - 10, Value: 1})
	}
	got, err := s.Find("f.*")
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Node{{Path: "f.a", Branch: true}, {Path: "f.b", Leaf: true}}
	if !slices.Equal(got, want) {
		t.Errorf("Find(f.*) = %v, want %v", got, want)
	}
	got, _ = s.Find("f.a.{x,y}")
	want = []storage.Node{{Path: "f.a.x", Leaf: true}, {Path: "f.a.y", Leaf: true}}
	if !slices.Equal(got, want) {
		t.Errorf("Find(f.a.{x,y}) = %v, want %v", got, want)
	}
}

// testOracle writes random data for every method and several
// xFilesFactors, in several batches (recent points, old points that land
// in lower archives, overwrites, points beyond retention) and compares
// fetches over many windows with Python whisper's, value for value.
func testOracle(t *testing.T, open OpenFunc) {
	HavePythonWhisper(t)
	const now = 1_700_000_123 // not aligned to any step
	s := openAt(t, open, now)
	rules := SuiteRules(t)
	fetches := [][2]int64{
		{now - 600, now}, {now - 3500, now - 100}, {now - 3600, now}, {now - 3601, now},
		{now - 7200, now - 3000}, {now - 86400, now}, {now - 86401, now}, {now - 3*86400, now - 2*86400},
		{now - 7*86400, now}, {now - 8*86400, now}, {now + 10, now + 100}, {now - 9*86400, now - 8*86400},
		{now - 100, now + 500}, {now - 50, now - 50}, {now - 5000, now - 4000},
	}
	names := []string{"average", "sum", "max", "min", "last", "avg_zero", "absmax", "absmin", "xff0", "xff03", "xff1"}
	for i, m := range names {
		t.Run(m, func(t *testing.T) {
			name := "oracle.s" + fmt.Sprint(i) + "." + m
			r := rand.New(rand.NewPCG(uint64(i), 99))
			batches := oracleBatches(r, now, i%2 == 0)
			writeAndCompare(t, s, rules, name, now, batches, fetches)
		})
	}
}

// writeAndCompare writes batches to name, one batch a write, and compares
// each of fetches with Python whisper given the same batches and the
// schema and aggregation rules give name.
func writeAndCompare(t *testing.T, s storage.Store, rules *schema.Rules, name string, now int64, batches [][]storage.Point, fetches [][2]int64) {
	t.Helper()
	for _, b := range batches {
		if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: b}}}); err != nil {
			t.Fatal(err)
		}
	}
	sch, agg, err := rules.Match(name)
	if err != nil {
		t.Fatal(err)
	}
	want := PythonWhisper(t, sch.Retentions, agg.Method, agg.XFilesFactor, now, batches, fetches)
	for j, f := range fetches {
		got, err := s.Fetch(name, f[0], f[1], now)
		if err != nil {
			t.Fatalf("fetch %v: %v", f, err)
		}
		CompareWithWhisper(t, f, got, want[j])
	}
}

// testOracleStream feeds each series as a write buffer would: many small
// batches in time order, with now and then a rewrite of the newest slot, a
// late point into an earlier slot, a gap, or an old point, and compares
// with Python whisper after every few batches.
func testOracleStream(t *testing.T, open OpenFunc) {
	HavePythonWhisper(t)
	const now = 1_700_000_123
	s := openAt(t, open, now)
	rules := SuiteRules(t)
	fetches := [][2]int64{{now - 3500, now}, {now - 86400, now}, {now - 7*86400, now}, {now - 7200, now - 3000}}
	names := []string{"average", "sum", "max", "min", "last", "avg_zero", "absmax", "absmin", "xff0", "xff1"}
	for i, m := range names {
		t.Run(m, func(t *testing.T) {
			name := "stream.s" + fmt.Sprint(i) + "." + m
			r := rand.New(rand.NewPCG(uint64(i), 7))
			var batches [][]storage.Point
			ts := int64(now - 3300)
			for ts < now-60 {
				var b []storage.Point
				for k := r.IntN(12); k >= 0 && ts < now-60; k-- {
					switch x := r.IntN(20); {
					case x == 0 && len(b) > 0: // rewrite the newest slot
						b = append(b, storage.Point{Timestamp: b[len(b)-1].Timestamp, Value: float64(r.IntN(50))})
						continue
					case x == 1: // late point into an earlier slot
						b = append(b, storage.Point{Timestamp: ts - 10*int64(1+r.IntN(20)), Value: float64(r.IntN(50))})
						continue
					case x == 2: // gap
						ts += 10 * int64(r.IntN(15))
					case x == 3: // old point for the lower archives
						b = append(b, storage.Point{Timestamp: now - 7200 - int64(r.IntN(5*86400)), Value: float64(r.IntN(50))})
						continue
					}
					b = append(b, storage.Point{Timestamp: ts, Value: float64(r.IntN(50)) + 0.25*float64(r.IntN(4))})
					ts += 10
				}
				if len(b) > 0 {
					batches = append(batches, dedupTS(b))
				}
			}
			writeAndCompare(t, s, rules, name, now, batches, fetches)
		})
	}
}

// CompareWithWhisper checks a fetch result against Python whisper's for
// the fetch f (want nil = whisper returned None).
func CompareWithWhisper(t *testing.T, f [2]int64, got *storage.Series, want *OracleSeries) {
	t.Helper()
	if want == nil {
		if len(got.Values) != 0 {
			t.Errorf("fetch %v: %d values, whisper returns None", f, len(got.Values))
		}
		return
	}
	if got.Start != want.Start || got.Step != want.Step || len(got.Values) != len(want.Values) {
		t.Errorf("fetch %v: start %d step %d len %d, whisper start %d step %d len %d", f, got.Start, got.Step, len(got.Values), want.Start, want.Step, len(want.Values))
		return
	}
	bad := 0
	for i, w := range want.Values {
		g := got.Values[i]
		if (w == nil) != math.IsNaN(g) || (w != nil && math.Float64bits(*w) != math.Float64bits(g)) {
			if bad++; bad <= 5 {
				wv := "None"
				if w != nil {
					wv = fmt.Sprint(*w)
				}
				t.Errorf("fetch %v: ts %d got %v, whisper %s", f, got.Start+int64(i)*got.Step, g, wv)
			}
		}
	}
}

// oracleBatches makes the write batches of one oracle series.
func oracleBatches(r *rand.Rand, now int64, ints bool) [][]storage.Point {
	val := func() float64 {
		if ints {
			return float64(r.IntN(100))
		}
		return math.Round(r.NormFloat64()*1e6) / 1e3
	}
	// Keep ages away from archive boundaries (3600, 86400, 604800) so a
	// clock second either way cannot change the archive.
	safe := func(age int64) bool {
		for _, b := range []int64{3600, 86400, 7 * 86400} {
			if age > b-30 && age < b+30 {
				return false
			}
		}
		return true
	}
	var old, recentA, recentB []storage.Point
	for i := 0; i < 40; i++ {
		age := 2*3600 + r.Int64N(20*3600)
		if safe(age) {
			old = append(old, storage.Point{Timestamp: now - age, Value: val()})
		}
	}
	for i := 0; i < 15; i++ {
		age := 86400 + 600 + r.Int64N(5*86400)
		old = append(old, storage.Point{Timestamp: now - age, Value: val()})
	}
	old = append(old, storage.Point{Timestamp: now - 8*86400, Value: 1})
	for ts := now - 3500; ts <= now; ts += 10 {
		if r.IntN(10) < 6 {
			p := storage.Point{Timestamp: ts - int64(r.IntN(10)), Value: val()}
			if ts < now-1800 {
				recentA = append(recentA, p)
			} else {
				recentB = append(recentB, p)
			}
		}
	}
	// Overwrites of earlier recent slots, out of order, in the last batch.
	for i := 0; i < 20; i++ {
		ts := now - 3400 + r.Int64N(3300)
		recentB = append(recentB, storage.Point{Timestamp: ts, Value: val()})
	}
	r.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
	return [][]storage.Point{recentA, old, dedupTS(recentB)}
}

// dedupTS drops exact duplicate timestamps (keeping the first), where
// Python's update_many (first wins) and the storage contract (last wins)
// differ; carbon never sends such batches.
func dedupTS(pts []storage.Point) []storage.Point {
	seen := map[int64]bool{}
	out := pts[:0]
	for _, p := range pts {
		if !seen[p.Timestamp] {
			seen[p.Timestamp] = true
			out = append(out, p)
		}
	}
	return out
}
