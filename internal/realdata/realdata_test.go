package realdata

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestDeterministicAndOrderIndependent(t *testing.T) {
	a, b := Collectd(7, 3), Collectd(7, 3)
	const steps = 500
	// a: time-major; b: series-major. Same values either way.
	va := make([][]float64, a.Len())
	for s := 0; s < steps; s++ {
		for i := 0; i < a.Len(); i++ {
			v, ok := a.Next(i)
			if !ok {
				v = math.Inf(-1)
			}
			va[i] = append(va[i], v)
		}
	}
	for i := 0; i < b.Len(); i++ {
		for s := 0; s < steps; s++ {
			v, ok := b.Next(i)
			if !ok {
				v = math.Inf(-1)
			}
			if math.Float64bits(v) != math.Float64bits(va[i][s]) {
				t.Fatalf("series %d step %d: %v then %v", i, s, va[i][s], v)
			}
		}
	}
	c := Collectd(8, 3)
	same := 0
	for s := 0; s < 10; s++ {
		v, _ := c.Next(0)
		if v == va[0][s] {
			same++
		}
	}
	if same == 10 {
		t.Fatal("seed 8 gives seed 7's values")
	}
}

func TestGaugeDecimals(t *testing.T) {
	d := Gauges(1, 20, 2)
	if d.Len() != 20 || d.Name(0) != "gauges.b000.s000" || d.Name(19) != "gauges.b000.s019" {
		t.Fatalf("names: %d %q %q", d.Len(), d.Name(0), d.Name(19))
	}
	for i := 0; i < d.Len(); i++ {
		for s := 0; s < 2000; s++ {
			v, ok := d.Next(i)
			if !ok {
				t.Fatalf("gap in a dense gauge")
			}
			// The shortest text of v has at most two decimals and parses
			// back to v: a two-decimal value as carbon would receive it.
			txt := strconv.FormatFloat(v, 'f', -1, 64)
			if dot := strings.IndexByte(txt, '.'); dot >= 0 && len(txt)-dot-1 > 2 {
				t.Fatalf("series %d step %d: %s has more than 2 decimals", i, s, txt)
			}
			if p, _ := strconv.ParseFloat(txt, 64); p != v {
				t.Fatalf("%s does not parse back", txt)
			}
		}
	}
}

func TestCollectdShape(t *testing.T) {
	d := Collectd(1, 2)
	if d.Len() != 76 {
		t.Fatalf("%d series, want 38 a host", d.Len())
	}
	want := map[string]bool{
		"collectd.host-0000.cpu-0.cpu-user":              true,
		"collectd.host-0001.cpu-3.cpu-idle":              true,
		"collectd.host-0001.interface-eth0.if_octets.rx": true,
		"collectd.host-0000.memory.memory-used":          true,
		"collectd.host-0001.exec.backup.duration":        true,
	}
	for i := 0; i < d.Len(); i++ {
		delete(want, d.Name(i))
	}
	if len(want) != 0 {
		t.Fatalf("missing names %v", want)
	}
	const steps = 20000
	for i := 0; i < d.Len(); i++ {
		pr := d.Profiles()[d.Profile(i)]
		prev, resets, present := math.NaN(), 0, 0
		for s := 0; s < steps; s++ {
			v, ok := d.Next(i)
			if ok {
				present++
			}
			switch {
			case pr.Kind == Counter:
				if v != math.Trunc(v) || v < 0 {
					t.Fatalf("%s: counter value %v", d.Name(i), v)
				}
				if v < prev {
					resets++
					if v > pr.Rate+8*pr.RateNoise {
						t.Fatalf("%s: fell from %v to %v, not a reset", d.Name(i), prev, v)
					}
				}
			case pr.Unit > 1:
				if math.Mod(v, pr.Unit) != 0 {
					t.Fatalf("%s: %v not a multiple of %v", d.Name(i), v, pr.Unit)
				}
			default:
				if v < pr.Min || v > pr.Max {
					t.Fatalf("%s: %v outside [%v, %v]", d.Name(i), v, pr.Min, pr.Max)
				}
			}
			prev = v
		}
		if pr.Kind == Counter && pr.ResetEvery == 5000 && (resets == 0 || resets > 20) {
			t.Fatalf("%s: %d resets in %d steps, want about 4", d.Name(i), resets, steps)
		}
		if pr.Kind == Counter && pr.ResetEvery == 100000 && resets > 5 {
			t.Fatalf("%s: %d resets in %d steps, want about 0.2", d.Name(i), resets, steps)
		}
		frac := float64(present) / steps
		want := pr.Presence
		if want == 0 {
			want = 1
		}
		if math.Abs(frac-want) > 0.05 {
			t.Fatalf("%s: present %.3f of steps, want %.2f", d.Name(i), frac, want)
		}
	}
}

func TestNextAllocatesNothing(t *testing.T) {
	d := Collectd(1, 1)
	i := 0
	if n := testing.AllocsPerRun(1000, func() { d.Next(i % d.Len()); i++ }); n != 0 {
		t.Fatalf("%v allocations per Next", n)
	}
}

func TestEntropyExact(t *testing.T) {
	d, err := New(1, []Profile{{Name: "a", Decimals: 1}, {Name: "gappy", Presence: 0.5}}, []string{"x", "y", "z"}, []int{0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEntropy(d)
	// x: 0, 0.1, 0, 0.1, ... deltas +1, -1 (scaled by 10) equally often:
	// 1 bit each. y: constant, deltas 0: nothing new to the histogram
	// except making 0 a third symbol.
	for s := 0; s < 101; s++ {
		e.Add(0, float64(s%2)/10, true)
		e.Add(1, 5, true)
	}
	// Histogram of profile 0: +1 x50, -1 x50, 0 x100: 50*2+50*2+100*1 bits.
	if got := e.Bits(); got != 300 {
		t.Fatalf("bits %v, want 300", got)
	}
	if e.Points() != 202 {
		t.Fatalf("points %d", e.Points())
	}
	// z alternates present/absent strictly: presence is predictable (0
	// bits), and its deltas are all 0 (0 bits).
	for s := 0; s < 100; s++ {
		e.Add(2, 3, s%2 == 0)
	}
	if got := e.Bits(); got != 300 {
		t.Fatalf("bits %v after a predictable gappy series, want 300", got)
	}
	if got, want := e.BytesPerPoint(), 300.0/252/8; math.Abs(got-want) > 1e-12 {
		t.Fatalf("bytes per point %v, want %v", got, want)
	}
}

func TestEntropyOfGauges(t *testing.T) {
	// The query dataset: noisy two-decimal gauges; the deltas' spread is
	// about sqrt(2*2^2 + 0.5^2) = 2.87 (287 hundredths), whose discretised
	// normal entropy is log2(287 * sqrt(2*pi*e)) = 10.2 bits.
	d := Gauges(1, 100, 2)
	e := NewEntropy(d)
	for s := 0; s < 2160; s++ {
		for i := 0; i < d.Len(); i++ {
			v, ok := d.Next(i)
			e.Add(i, v, ok)
		}
	}
	if b := e.BitsPerPoint(); b < 9.9 || b > 10.3 {
		t.Fatalf("%.3f bits per point, want about 10.2 (a little less: the histogram of 216,000 deltas underestimates)", b)
	}
}
