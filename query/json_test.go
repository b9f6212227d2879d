package query

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestDecCounter steps the counter across digit-count changes and with
// random strides, against strconv.
func TestDecCounter(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	starts := []uint64{0, 1, 9, 95, 999_999_990, 1_799_999_990, 9_999_999_999_999_999_990}
	for range 50 {
		starts = append(starts, r.Uint64N(1<<62))
	}
	for _, start := range starts {
		for _, stride := range []uint64{1, 10, 60, 86400, 999, r.Uint64N(1 << 40)} {
			var c decCounter
			c.set(start)
			v := start
			for range 200 {
				if got, want := string(c.text()), strconv.FormatUint(v, 10); got != want {
					t.Fatalf("start %d stride %d: %s, want %s", start, stride, got, want)
				}
				if v+stride >= 1e19 || v+stride < v {
					break
				}
				c.add(stride)
				v += stride
			}
		}
	}
}

// jsonTestList is n series of pts points: values of every shape the
// encoder formats (integers, few decimals, long decimals, NaN, ±Inf,
// huge and tiny), some series all NaN, one with tags, one consolidated.
func jsonTestList(n, pts int) []*Series {
	r := rand.New(rand.NewPCG(5, 6))
	list := make([]*Series, n)
	for i := range list {
		vals := make([]float64, pts)
		for j := range vals {
			switch k := r.IntN(10); {
			case i%7 == 3:
				vals[j] = math.NaN()
			case k == 0:
				vals[j] = math.NaN()
			case k == 1:
				vals[j] = float64(r.IntN(1000)) / 10
			case k == 2:
				vals[j] = r.Float64() * 1000
			case k == 3:
				vals[j] = -float64(r.IntN(100000))
			case k == 4:
				vals[j] = math.Inf(1 - 2*r.IntN(2))
			case k == 5:
				vals[j] = r.NormFloat64() * 1e20
			case k == 6:
				vals[j] = r.Float64() * 1e-6
			default:
				vals[j] = float64(r.IntN(100)) + float64(r.IntN(10))/10
			}
		}
		start := 1_700_000_000 + int64(i)
		s := NewSeries(fmt.Sprintf("a.b%d.c", i), start, start+10*int64(pts), 10, vals, 0)
		if i == 1 {
			s.Tags.Set("k", "v\"é")
		}
		if i == 2 {
			s.ValuesPerPoint = 3
		}
		if i == 4 {
			s.IntValues = true
		}
		list[i] = s
	}
	return list
}

// TestAppendJSONParallel checks that an answer encoded on several
// goroutines is byte for byte the answer one goroutine writes, with and
// without noNullPoints (which drops whole series at run boundaries).
func TestAppendJSONParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(5))
	for _, n := range []int{2, 7, 50} {
		list := jsonTestList(n, 2*parallelJSONPoints/n+1)
		for _, noNull := range []bool{false, true} {
			points := make([]int, len(list))
			for i, s := range list {
				points[i] = jsonPoints(s)
			}
			one, _ := appendJSONRun([]byte("["), list, points, noNull)
			one = append(one, ']')
			got := AppendJSON(nil, list, noNull)
			if !bytes.Equal(got, one) {
				i := 0
				for i < min(len(got), len(one)) && got[i] == one[i] {
					i++
				}
				t.Fatalf("%d series, noNullPoints %v: differs at byte %d of %d/%d: %.80q vs %.80q", n, noNull, i, len(got), len(one), got[i:], one[i:])
			}
		}
	}
}

// TestAppendJSONPoint pins one series' exact text: timestamps stepped
// across a digit-count change, few-decimal and other values.
func TestAppendJSONPoint(t *testing.T) {
	tenth := 0.1 // a variable: the constant 0.1 + 0.2 is exactly 0.3
	s := NewSeries("x", 9_999_999_990, 10_000_000_040, 10, []float64{1, -0.05, 12.5, math.NaN(), tenth + 0.2}, 0)
	got := string(AppendJSON(nil, []*Series{s}, false))
	want := `[{"target": "x", "tags": {"name": "x"}, "datapoints": [[1.0, 9999999990], [-0.05, 10000000000], [12.5, 10000000010], [null, 10000000020], [0.30000000000000004, 10000000030]]}]`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestAppendJSONFewDecimalsGivenUp: once a series' values have failed
// appendFewDecimals fewDecimalsTries times in a row they are printed
// without it; the text is the same as value by value through
// AppendFloatRepr, including few-decimal values after the misses.
func TestAppendJSONFewDecimalsGivenUp(t *testing.T) {
	third := 1.0 / 3
	vals := []float64{}
	for i := range 3 * fewDecimalsTries {
		vals = append(vals, third*float64(i+1))
	}
	vals = append(vals, 2.5, 1e20, 0.00001, -7, math.NaN(), 12.25, third)
	s := NewSeries("x", 10, 10+10*int64(len(vals)), 10, vals, 0)
	want := `[{"target": "x", "tags": {"name": "x"}, "datapoints": [`
	for i, v := range vals {
		if i > 0 {
			want += ", "
		}
		txt := "null"
		if !math.IsNaN(v) {
			txt = string(AppendFloatRepr(nil, v))
		}
		want += "[" + txt + ", " + strconv.Itoa(10+10*i) + "]"
	}
	want += "]}]"
	if got := string(AppendJSON(nil, []*Series{s}, false)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !strings.Contains(want, "[2.5, ") || !strings.Contains(want, "[0.3333333333333333, 10]") {
		t.Fatalf("unexpected reference text %s", want)
	}
}
