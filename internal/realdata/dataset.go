package realdata

import (
	"fmt"
	"math"
)

// Kind is how a series' values evolve.
type Kind uint8

const (
	// Gauge is a random walk plus noise, rounded to Profile.Decimals.
	Gauge Kind = iota
	// Counter is a monotonic integer that is reset to zero now and then.
	Counter
)

// Profile describes one family of series (cpu-user, if_octets.rx, ...).
// Values are in the series' own units.
type Profile struct {
	Name string
	Kind Kind

	// Gauges: the level starts at Start (plus Spread times a normal draw,
	// per series), moves by Walk times a normal draw every step, and each
	// value adds Noise times a normal draw; the result is clamped to
	// [Min, Max] when Min < Max and rounded to Decimals decimals (an
	// integer gauge with Decimals 0 is rounded to a multiple of Unit when
	// Unit > 1, as memory in KiB pages is).
	Start, Spread, Walk, Noise float64
	Min, Max                   float64
	Decimals                   int
	Unit                       float64

	// Counters: each step adds round(max(0, Rate + RateNoise*normal)); a
	// reset to zero happens with probability 1/ResetEvery per step (never
	// when ResetEvery is 0).
	Rate, RateNoise, ResetEvery float64

	// Presence is the long-run fraction of steps that have a point (0 or
	// 1: every step). Present steps come in runs of MeanRun steps on
	// average (a Markov on/off process). Values keep evolving in gaps.
	Presence, MeanRun float64
}

// Dataset is a fixed set of named series with their generators.
type Dataset struct {
	profiles []Profile
	names    []string
	profile  []int32
	state    []state
}

type state struct {
	rng   pcg
	level float64 // gauge level or counter value
	off   bool    // in a gap
}

// New returns a dataset of the given series: names[i] follows
// profiles[profileOf[i]]. Every series is seeded from seed and i.
func New(seed uint64, profiles []Profile, names []string, profileOf []int) (*Dataset, error) {
	if len(names) != len(profileOf) {
		return nil, fmt.Errorf("realdata: %d names but %d profile indexes", len(names), len(profileOf))
	}
	d := &Dataset{
		profiles: append([]Profile(nil), profiles...),
		names:    append([]string(nil), names...),
		profile:  make([]int32, len(names)),
		state:    make([]state, len(names)),
	}
	for i, p := range profileOf {
		if p < 0 || p >= len(profiles) {
			return nil, fmt.Errorf("realdata: series %q: profile %d out of range", names[i], p)
		}
		if k := profiles[p].Decimals; k < 0 || k > maxDecimals {
			return nil, fmt.Errorf("realdata: profile %q: %d decimals (0..%d)", profiles[p].Name, k, maxDecimals)
		}
		d.profile[i] = int32(p)
		st := &d.state[i]
		st.rng = newPCG(seed, uint64(i))
		pr := &d.profiles[p]
		if pr.Kind == Gauge {
			st.level = pr.Start + pr.Spread*st.rng.normal()
			if pr.Min < pr.Max {
				st.level = clamp(st.level, pr.Min, pr.Max)
			}
		} else {
			st.level = math.Round(pr.Start + pr.Spread*math.Abs(st.rng.normal()))
		}
	}
	return d, nil
}

const maxDecimals = 15

var pow10 = [maxDecimals + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// Len returns the number of series.
func (d *Dataset) Len() int { return len(d.names) }

// Name returns the Graphite name of series i.
func (d *Dataset) Name(i int) string { return d.names[i] }

// Profile returns the index of series i's profile (see Profiles).
func (d *Dataset) Profile(i int) int { return int(d.profile[i]) }

// Profiles returns the dataset's profiles (not to be modified).
func (d *Dataset) Profiles() []Profile { return d.profiles }

// Next advances series i by one step and returns its value, or ok=false
// when the step is a gap. It allocates nothing.
func (d *Dataset) Next(i int) (v float64, ok bool) {
	st := &d.state[i]
	p := &d.profiles[d.profile[i]]
	present := true
	if p.Presence > 0 && p.Presence < 1 {
		run := math.Max(p.MeanRun, 1)
		pOff := 1 / run
		pOn := p.Presence * pOff / (1 - p.Presence)
		u := st.rng.float()
		if st.off {
			st.off = u >= pOn
		} else {
			st.off = u < pOff
		}
		present = !st.off
	}
	if p.Kind == Counter {
		if p.ResetEvery > 0 && st.rng.float()*p.ResetEvery < 1 {
			st.level = 0
		}
		st.level += math.Max(0, math.Round(p.Rate+p.RateNoise*st.rng.normal()))
		return st.level, present
	}
	st.level += p.Walk * st.rng.normal()
	x := st.level + p.Noise*st.rng.normal()
	if p.Min < p.Max {
		st.level = clamp(st.level, p.Min, p.Max)
		x = clamp(x, p.Min, p.Max)
	}
	if p.Decimals == 0 && p.Unit > 1 {
		return math.Round(x/p.Unit) * p.Unit, present
	}
	// The nearest float64 to the decimal m/10^k: the value strconv would
	// parse from its text, as a carbon line carries it.
	return math.Round(x*pow10[p.Decimals]) / pow10[p.Decimals], present
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// pcg is a 64-bit permuted congruential generator (PCG-XSH-RR's 64-bit
// output variant, RXS-M-XS): small, fast, deterministic across platforms.
type pcg struct{ s uint64 }

func newPCG(seed, stream uint64) pcg {
	p := pcg{s: seed*0x9E3779B97F4A7C15 + stream*0xD1B54A32D192ED03 + 1}
	p.next()
	p.next()
	return p
}

func (p *pcg) next() uint64 {
	old := p.s
	p.s = old*6364136223846793005 + 1442695040888963407
	w := ((old >> ((old >> 59) + 5)) ^ old) * 12605985483714917081
	return (w >> 43) ^ w
}

// float returns a uniform value in [0, 1).
func (p *pcg) float() float64 { return float64(p.next()>>11) / (1 << 53) }

// normal returns a standard normal draw (Box-Muller, one of the pair).
func (p *pcg) normal() float64 {
	u := 1 - p.float() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*p.float())
}
