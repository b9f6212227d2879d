package schema

import (
	"fmt"
	"math"
	"strings"
)

// Method is an aggregation method, numbered as Python whisper numbers them in
// the file header (aggregationType).
type Method uint32

// Python whisper's aggregation ids.
const (
	Average Method = 1 + iota
	Sum
	Last
	Max
	Min
	AvgZero
	AbsMax
	AbsMin
)

var methodNames = [...]string{
	Average: "average",
	Sum:     "sum",
	Last:    "last",
	Max:     "max",
	Min:     "min",
	AvgZero: "avg_zero",
	AbsMax:  "absmax",
	AbsMin:  "absmin",
}

// Valid reports whether m is one of the eight whisper methods.
func (m Method) Valid() bool { return m >= Average && m <= AbsMin }

// String returns whisper's name for m ("average", "avg_zero", ...).
func (m Method) String() string {
	if m.Valid() {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", uint32(m))
}

// ParseMethod parses a method name as storage-aggregation.conf and whisper
// spell it: average (or avg), sum, last, max, min, avg_zero, absmax, absmin.
// Surrounding spaces and letter case are ignored.
func ParseMethod(s string) (Method, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "avg" {
		return Average, nil
	}
	for m := Average; m <= AbsMin; m++ {
		if methodNames[m] == t {
			return m, nil
		}
	}
	return 0, fmt.Errorf("parsing aggregation method %q: unknown method (want average, sum, last, max, min, avg_zero, absmax or absmin)", s)
}

// Aggregate consolidates one slot group as whisper's aggregate() does: known
// holds the values of the slots that have data, in time order, and total is
// the number of slots in the group (known plus missing). It returns NaN when
// known is empty; whisper never propagates such a group.
//
// Semantics follow Python exactly, including for NaN values stored in a file:
// average = sum/len(known), sum, last = the newest known value, max/min keep
// the first extreme (Python's max/min), avg_zero = sum(known)/total (missing
// slots count as 0), absmax/absmin = the value with the largest/smallest
// absolute value (first one on ties).
func (m Method) Aggregate(known []float64, total int) float64 {
	if len(known) == 0 {
		return math.NaN()
	}
	switch m {
	case Average:
		return sum(known) / float64(len(known))
	case Sum:
		return sum(known)
	case Last:
		return known[len(known)-1]
	case Max:
		v := known[0]
		for _, x := range known[1:] {
			if x > v {
				v = x
			}
		}
		return v
	case Min:
		v := known[0]
		for _, x := range known[1:] {
			if x < v {
				v = x
			}
		}
		return v
	case AvgZero:
		if total < len(known) {
			total = len(known)
		}
		return sum(known) / float64(total)
	case AbsMax:
		v := known[0]
		for _, x := range known[1:] {
			if math.Abs(x) > math.Abs(v) {
				v = x
			}
		}
		return v
	case AbsMin:
		v := known[0]
		for _, x := range known[1:] {
			if math.Abs(x) < math.Abs(v) {
				v = x
			}
		}
		return v
	}
	return math.NaN()
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}
