package query

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/storage"
)

// TestMovingSumAvgSameDoubles checks movingSumAvg's four- and eight-at-a-time sums
// against one window at a time added in order (graphite-web's safeSum /
// safeAvg), bit for bit, over random values with NaN runs, several window
// lengths and xFilesFactors.
func TestMovingSumAvgSameDoubles(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	e := &Env{Ctx: context.Background()}
	for _, n := range []int{0, 1, 3, 4, 5, 17, 200} {
		vals := make([]float64, n)
		for i := range vals {
			switch r.IntN(6) {
			case 0:
				vals[i] = math.NaN()
			case 1:
				vals[i] = r.NormFloat64() * 1e12
			default:
				vals[i] = float64(r.IntN(1000)) / 10
			}
		}
		// And the same values without None (the eight-window path).
		full := slices.Clone(vals)
		for i, v := range full {
			if math.IsNaN(v) {
				full[i] = float64(i)
			}
		}
		// And a few None among them (blocks of windows with and
		// without one): one early, and the newest points' run.
		sparse := slices.Clone(full)
		for i := range sparse {
			if i == n/3 || i >= n-n/10 {
				sparse[i] = math.NaN()
			}
		}
		for _, vals := range [][]float64{vals, full, sparse} {
			checkMovingSumAvg(t, e, vals)
		}
	}
}

// checkMovingSumAvg is TestMovingSumAvgSameDoubles for one series.
func checkMovingSumAvg(t *testing.T, e *Env, vals []float64) {
	t.Helper()
	n := len(vals)
	for _, wp := range []int{0, 1, 2, 3, 4, 7, 30} {
		for _, xff := range []float64{0, 0.5, 1} {
			for _, average := range []bool{false, true} {
				ns := &Series{}
				work := 0
				i, err := movingSumAvg(e, &work, ns, vals, wp, xff, average)
				if err != nil {
					t.Fatal(err)
				}
				if len(vals)-i >= 4 || (i < wp && len(vals) > wp) {
					t.Fatalf("n %d wp %d: stopped at %d", n, wp, i)
				}
				for k := wp; k < i; k++ {
					sum, cnt := 0.0, 0
					for _, v := range vals[k-wp : k] {
						if !math.IsNaN(v) {
							sum += v
							cnt++
						}
					}
					want := sum
					switch {
					case cnt == 0 || !xffOK(cnt, wp, xff):
						want = math.NaN()
					case average:
						want = sum / float64(cnt)
					}
					got := ns.Values[k-wp]
					if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
						t.Fatalf("n %d wp %d xff %v avg %v window %d: %v, want %v", n, wp, xff, average, k, got, want)
					}
				}
			}
		}
	}
}

// fetchLog is memSource recording each Fetch's name and range.
type fetchLog struct {
	*memSource
	mu      sync.Mutex
	fetches []string
}

func (f *fetchLog) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	f.mu.Lock()
	f.fetches = append(f.fetches, fmt.Sprintf("%s %d..%d", name, from, until))
	f.mu.Unlock()
	return f.memSource.Fetch(name, from, until, now)
}

// TestMovingIntervalOfPathFetchesOnce: a moving function of a path
// expression and an interval fetches each series once, from 'from' minus
// the interval, and answers what graphite-web's two evaluations answer
// (the same call over group(), which is evaluated twice); a window of
// points, and a series list that is not a path, still evaluate twice.
func TestMovingIntervalOfPathFetchesOnce(t *testing.T) {
	mem := newMemSource()
	for i := range 3 {
		mem.add(fmt.Sprintf("m.s%d", i), 10, func(ts int64) float64 { return float64(ts%70+int64(i)) / 10 })
	}
	req := Request{From: 10000, Until: 10600, Now: 20000}
	for _, c := range []struct {
		target, twice string
		fetches       []string
	}{
		{"movingAverage(m.*,'5min')", "movingAverage(group(m.*),'5min')",
			[]string{"m.s0 9700..10600", "m.s1 9700..10600", "m.s2 9700..10600"}},
		{"movingWindow(m.s1,'-1min','median')", "movingWindow(group(m.s1),'-1min','median')",
			[]string{"m.s1 9940..10600"}},
		{"movingSum(m.s0,6)", "", []string{"m.s0 10000..10600", "m.s0 9940..10600"}},
		{"movingMax(group(m.s0),'1min')", "", []string{"m.s0 10000..10600", "m.s0 9940..10600"}},
	} {
		src := &fetchLog{memSource: mem}
		got := evalJSON(t, src, req, 0, c.target)
		slices.Sort(src.fetches)
		if fmt.Sprint(src.fetches) != fmt.Sprint(c.fetches) {
			t.Errorf("%s fetched %q, want %q", c.target, src.fetches, c.fetches)
		}
		if !strings.Contains(got, `"datapoints": [[`) {
			t.Errorf("%s: %.200s", c.target, got)
		}
		if c.twice != "" {
			if want := evalJSON(t, mem, req, 0, c.twice); got != want {
				t.Errorf("%s:\n%s\nwant (as %s)\n%s", c.target, got, c.twice, want)
			}
		}
	}
}

// TestMovingWindowParallelSameAnswer: a moving window over enough points
// to be shared among goroutines (parallelMovingWork) answers what one
// goroutine answers (GOMAXPROCS 1), for sums, averages with None and an
// aggregation that collects its window (median).
func TestMovingWindowParallelSameAnswer(t *testing.T) {
	mem := newMemSource()
	for i := range 40 {
		mem.add(fmt.Sprintf("p.s%02d", i), 10, func(ts int64) float64 {
			if i%3 == 0 && ts%70 == 0 {
				return math.NaN()
			}
			return float64((ts*int64(i+7))%1000) / 10
		})
	}
	req := Request{From: 100000, Until: 130000, Now: 200000}
	targets := []string{"movingAverage(p.*,'5min')", "movingSum(p.*,30)", "movingMedian(p.*,'2min')"}
	if work := 40 * 3000 * 13; work < parallelMovingWork {
		t.Fatalf("%d additions: not enough to run in parallel", work)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	want := evalJSON(t, mem, req, 0, targets...)
	runtime.GOMAXPROCS(4)
	if got := evalJSON(t, mem, req, 0, targets...); got != want {
		t.Fatalf("parallel answer differs: %d bytes, want %d", len(got), len(want))
	}
	if !strings.Contains(want, `"target": "movingMedian(p.s39,\"2min\")"`) || strings.Count(want, `"target"`) != 120 {
		t.Fatalf("answer: %.300s", want)
	}
}

// BenchmarkMovingSumAvgRecentGap is movingAverage's window sums over one
// series of issue 18's shape (2,190 one-decimal values, 30-point window)
// whose newest 30 values are None.
func BenchmarkMovingSumAvgRecentGap(b *testing.B) {
	vals := make([]float64, 2190)
	for i := range vals {
		vals[i] = float64(i*7919%1000) / 10
		if i >= len(vals)-30 {
			vals[i] = math.NaN()
		}
	}
	e := &Env{Ctx: context.Background()}
	ns := &Series{Values: make([]float64, 0, len(vals))}
	b.ReportAllocs()
	for b.Loop() {
		ns.Values = ns.Values[:0]
		work := 0
		if _, err := movingSumAvg(e, &work, ns, vals, 30, 0, true); err != nil {
			b.Fatal(err)
		}
	}
}
