package graph

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/plumbago/plumbago/query"
)

// errGraph is glyph.py's GraphError: the data cannot be drawn with these
// settings (answered 400 naming the cause).
type errGraph struct{ msg string }

func (e *errGraph) Error() string { return e.msg }

func graphErr(format string, a ...any) error { return &errGraph{fmt.Sprintf(format, a...)} }

// IsDataError reports whether err is a drawing error caused by the data
// and the axis settings (glyph.py's GraphError).
func IsDataError(err error) bool {
	var g *errGraph
	return errors.As(err, &g)
}

const epsilon = 0.0001

type unitPrefix struct {
	prefix string
	size   float64
}

// unitSystems are glyph.py's UnitSystems.
var unitSystems = map[string][]unitPrefix{
	"binary": {{"Pi", math.Pow(1024, 5)}, {"Ti", math.Pow(1024, 4)}, {"Gi", math.Pow(1024, 3)}, {"Mi", 1024 * 1024}, {"Ki", 1024}},
	"si":     {{"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}},
	"sec":    {{"Y", 60 * 60 * 24 * 365}, {"M", 60 * 60 * 24 * 30}, {"D", 60 * 60 * 24}, {"H", 60 * 60}, {"m", 60}},
	"msec":   {{"Y", 60 * 60 * 24 * 365 * 1000}, {"M", 60 * 60 * 24 * 30 * 1000}, {"D", 60 * 60 * 24 * 1000}, {"H", 60 * 60 * 1000}, {"m", 60 * 1000}, {"s", 1000}},
	"none":   nil,
}

// formatUnits is glyph.py's format_units with a step: v scaled to the
// largest prefix both v and step reach. isFloat reports whether Python
// would hold the result as a float (for "%d" versus "%.1f").
func formatUnits(v, step float64, hasStep bool, system string) (out float64, prefix string, isFloat bool) {
	for _, u := range unitSystems[system] {
		if math.Abs(v) >= u.size && (!hasStep || step >= u.size) {
			v2 := v / u.size
			if v2-math.Floor(v2) < 0.00000000001 && v > 1 {
				v2 = math.Floor(v2)
			}
			return v2, u.prefix, true
		}
	}
	if v-math.Floor(v) < 0.00000000001 && v > 1 {
		v = math.Floor(v)
	}
	return v, "", true
}

// axisTics is glyph.py's _AxisTics family (linear and logarithmic).
type axisTics struct {
	minValue, maxValue     float64
	minSource, maxSource   string
	unitSystem             string
	axisLimit              float64
	hasLimit               bool
	step, span, bottom, to float64
	hasStep                bool
	log                    bool
	base                   float64
	binary                 bool
}

func checkFinite(v float64, name string) error {
	if math.IsNaN(v) {
		return graphErr("Encountered NaN %s", name)
	}
	if math.IsInf(v, 0) {
		return graphErr("Encountered infinite %s", name)
	}
	return nil
}

func newTics(minV, maxV float64, unitSystem string, logBase float64) (*axisTics, error) {
	if err := checkFinite(minV, "data value"); err != nil {
		return nil, err
	}
	if err := checkFinite(maxV, "data value"); err != nil {
		return nil, err
	}
	t := &axisTics{minValue: minV, maxValue: maxV, minSource: "data", maxSource: "data", unitSystem: unitSystem}
	if logBase > 0 {
		t.log, t.base = true, logBase
	}
	return t, nil
}

func chooseDelta(x float64) float64 {
	if math.Abs(x) < 1.0e-9 {
		return 1
	}
	return 0.1 * math.Abs(x)
}

func (t *axisTics) reconcileLimits() error {
	if t.minValue < t.maxValue {
		return nil
	}
	minFixed := t.minSource == "min"
	maxFixed := t.maxSource == "max" || t.maxSource == "limit"
	switch {
	case minFixed && maxFixed:
		return graphErr("The %s must be less than the %s", t.minSource, t.maxSource)
	case minFixed:
		t.maxValue = t.minValue + chooseDelta(t.minValue)
	case maxFixed:
		t.minValue = t.maxValue - chooseDelta(t.maxValue)
	default:
		delta := chooseDelta(math.Max(math.Abs(t.minValue), math.Abs(t.maxValue)))
		avg := (t.minValue + t.maxValue) / 2
		t.minValue, t.maxValue = avg-delta, avg+delta
	}
	return nil
}

func (t *axisTics) applySettings(axisMin optFloat, axisMax optFloat, maxIsMax bool, axisLimit optFloat) error {
	if axisMin.set {
		t.minSource, t.minValue = "min", axisMin.v
	}
	if maxIsMax {
		t.maxSource = "extremum"
	} else if axisMax.set {
		t.maxSource, t.maxValue = "max", axisMax.v
	}
	switch {
	case !axisLimit.set:
	case axisLimit.v < t.maxValue:
		t.maxValue, t.maxSource = axisLimit.v, "limit"
	default:
		t.axisLimit, t.hasLimit = axisLimit.v, true
	}
	return t.reconcileLimits()
}

func (t *axisTics) setStep(step float64) {
	if t.log {
		return
	}
	t.step, t.hasStep = step, true
}

// chooseStep picks the step with the least slop (glyph.py's chooseStep).
func (t *axisTics) chooseStep(divisors []int, binary bool) {
	if t.log {
		return
	}
	t.binary = binary
	if t.minValue == t.maxValue {
		switch {
		case t.minValue == 0:
			t.maxValue = 1
		case t.minValue < 0:
			t.minValue *= 1.1
			t.maxValue *= 0.9
		default:
			t.minValue *= 0.9
			t.maxValue *= 1.1
		}
	}
	maxDiv, minDiv := divisors[0], divisors[0]
	for _, d := range divisors {
		maxDiv, minDiv = max(maxDiv, d), min(minDiv, d)
	}
	variance := t.maxValue - t.minValue
	minStep := variance / float64(maxDiv)
	base, mantissas := 10.0, []float64{1, 2, 5}
	var exponent float64
	if binary {
		base, mantissas = 2, []float64{1}
		exponent = math.Floor(pyLog(minStep, 2) - epsilon)
	} else {
		exponent = math.Floor(math.Log10(minStep) - epsilon)
	}
	bestSlop, bestStep, haveBest := 0.0, 0.0, false
	for iter := 0; iter < 2000; iter++ {
		mult := math.Pow(base, exponent)
		for _, m := range mantissas {
			step := m * mult
			if step < minStep*(1-epsilon) {
				continue
			}
			if haveBest && step*float64(minDiv) >= 2*bestSlop+variance {
				t.step, t.hasStep = bestStep, true
				return
			}
			for _, d := range divisors {
				bottom := step * math.Floor(t.minValue/step+epsilon)
				top := bottom + step*float64(d)
				if top >= t.maxValue-epsilon*step {
					slop := math.Max(top-t.maxValue, t.minValue-bottom)
					if !haveBest || slop < bestSlop {
						bestSlop, bestStep, haveBest = slop, step, true
					}
				}
			}
		}
		exponent++
	}
	t.step, t.hasStep = bestStep, haveBest
}

func (t *axisTics) chooseLimits() error {
	if t.log {
		if t.minValue <= 0 {
			return graphErr("Logarithmic scale specified with a dataset with a minimum value less than or equal to zero")
		}
		t.bottom = math.Pow(t.base, math.Floor(pyLog(t.minValue, t.base)))
		t.to = math.Pow(t.base, math.Ceil(pyLog(t.maxValue, t.base)))
		t.span = t.to - t.bottom
		if t.span == 0 {
			t.to *= t.base
			t.span = t.to - t.bottom
		}
		return nil
	}
	if t.minSource == "data" {
		t.bottom = t.step * math.Floor(t.minValue/t.step+epsilon)
	} else {
		t.bottom = t.minValue
	}
	if t.maxSource == "data" {
		t.to = t.step * math.Ceil(t.maxValue/t.step-epsilon)
		if t.hasLimit && t.to > t.axisLimit+epsilon*t.step {
			t.to = t.axisLimit
		}
	} else {
		t.to = t.maxValue
	}
	t.span = t.to - t.bottom
	if t.span == 0 {
		t.to++
		t.span++
	}
	return nil
}

// pyLog is Python's math.log(x, base): log(x)/log(base).
func pyLog(x, base float64) float64 { return math.Log(x) / math.Log(base) }

// maxLabels bounds the y labels of one axis (graphite-web has no bound;
// a linear axis re-chooses its step past 1,000 steps, a log base near 1
// would label without end).
const maxLabels = 1001

// labelValues are the values labelled on the axis.
func (t *axisTics) labelValues() ([]float64, error) {
	var out []float64
	if t.log {
		v := math.Pow(t.base, math.Ceil(pyLog(t.bottom, t.base)-epsilon))
		for v < t.to*(1+epsilon) {
			if len(out) == maxLabels {
				return nil, graphErr("the y axis would have more than %d labels (logBase too close to 1)", maxLabels-1)
			}
			out = append(out, v)
			v *= t.base
		}
		return out, nil
	}
	if t.step <= 0 {
		return nil, graphErr("The step size must be positive")
	}
	if t.span > 1000*t.step {
		t.chooseStep([]int{4, 5, 6}, false)
	}
	start := t.step * math.Ceil(t.bottom/t.step-epsilon)
	for i := 0; len(out) < maxLabels; i++ {
		v := start + float64(i)*t.step
		if v > t.to+epsilon*t.step {
			break
		}
		out = append(out, v)
	}
	return out, nil
}

// makeLabel is glyph.py's makeLabel: the value with unit prefix and a
// precision chosen from the span.
func (t *axisTics) makeLabel(value float64) string {
	value, prefix, _ := formatUnits(value, t.step, t.hasStep, t.unitSystem)
	span, spanPrefix, _ := formatUnits(t.span, t.step, t.hasStep, t.unitSystem)
	if prefix != "" {
		prefix += " "
	}
	switch {
	case value < 0.1:
		return query.FormatG(value) + " " + prefix
	case value < 1.0:
		return strconv.FormatFloat(value, 'f', 2, 64) + " " + prefix
	}
	switch {
	case span > 10 || spanPrefix != prefix:
		return strconv.FormatFloat(value, 'f', 1, 64) + " " + prefix
	case span > 3:
		return strconv.FormatFloat(value, 'f', 1, 64) + " " + prefix
	case span > 0.1:
		return strconv.FormatFloat(value, 'f', 2, 64) + " " + prefix
	}
	return query.FormatG(value) + " " + prefix
}
