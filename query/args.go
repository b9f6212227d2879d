package query

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query/attime"
	"github.com/plumbago/plumbago/query/target"
)

// ValueKind is the kind of an evaluated argument.
type ValueKind uint8

// Value kinds.
const (
	ValMissing ValueKind = iota
	ValSeries            // a series list (a path expression or a call)
	ValNumber            // int or float (IsInt says which)
	ValString
	ValBool
	ValNone
)

// Value is one evaluated argument.
type Value struct {
	Kind   ValueKind
	Series []*Series
	Num    float64
	IsInt  bool
	Str    string
	Bool   bool
	Node   *target.Node // the unevaluated argument
}

// PyStr returns Python's str() of the value (used in series names).
func (v Value) PyStr() string {
	switch v.Kind {
	case ValNumber:
		if v.IsInt {
			return strconv.FormatInt(int64(v.Num), 10)
		}
		return FloatRepr(v.Num)
	case ValString:
		return v.Str
	case ValBool:
		if v.Bool {
			return "True"
		}
		return "False"
	case ValNone:
		return "None"
	}
	return ""
}

// pyRepr returns Python's repr() (used in error messages).
func (v Value) pyRepr() string {
	if v.Kind == ValString {
		return "'" + v.Str + "'"
	}
	if v.Kind == ValSeries {
		return "<series list>"
	}
	return v.PyStr()
}

// Args are the bound arguments of one call: one slot per parameter; the
// last parameter, if multiple, collects the remaining values in Rest.
type Args struct {
	Func   *Function
	Call   *target.Node
	params []Value
	rest   []Value // values of a multiple last parameter
	// preview is the seconds before 'from' the first argument was
	// evaluated from (FuncMeta.Preview), -1 if it was not.
	preview int64
}

// Preview returns the seconds before 'from' the first argument was
// evaluated from, and whether FuncMeta.Preview had it so.
func (a *Args) Preview() (int64, bool) { return a.preview, a.preview >= 0 }

// Len is the number of bound (non-missing) values for parameter i,
// counting every value of a multiple parameter.
func (a *Args) Len(i int) int {
	if i == len(a.params)-1 && a.Func.Meta.Params[i].Multiple {
		return len(a.rest)
	}
	if i < len(a.params) && a.params[i].Kind != ValMissing && a.params[i].Kind != ValNone {
		return 1
	}
	return 0
}

// Has reports whether parameter i was given (and is not None).
func (a *Args) Has(i int) bool { return a.Len(i) > 0 }

// Value returns the raw value of parameter i.
func (a *Args) Value(i int) Value {
	if i < len(a.params) {
		return a.params[i]
	}
	return Value{}
}

// Multi returns every value of a multiple parameter i.
func (a *Args) Multi(i int) []Value { return a.rest }

// SeriesList returns parameter i as a series list.
func (a *Args) SeriesList(i int) []*Series { return a.params[i].Series }

// SeriesLists returns the values of a multiple seriesList parameter.
func (a *Args) SeriesLists(i int) [][]*Series {
	out := make([][]*Series, len(a.rest))
	for k, v := range a.rest {
		out[k] = v.Series
	}
	return out
}

// Float returns parameter i as a float, or def if it was not given.
func (a *Args) Float(i int, def float64) float64 {
	if !a.Has(i) {
		return def
	}
	return a.params[i].Num
}

// Int returns parameter i as an int, or def if it was not given.
func (a *Args) Int(i int, def int) int {
	if !a.Has(i) {
		return def
	}
	return int(a.params[i].Num)
}

// String returns parameter i as a string, or def if it was not given.
func (a *Args) String(i int, def string) string {
	if !a.Has(i) {
		return def
	}
	v := a.params[i]
	if v.Kind == ValString {
		return v.Str
	}
	return v.PyStr()
}

// Bool returns parameter i as a boolean, or def if it was not given.
func (a *Args) Bool(i int, def bool) bool {
	if !a.Has(i) {
		return def
	}
	return a.params[i].Bool
}

// InputError is an invalid request (HTTP 400).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// bind maps positional and keyword arguments to parameters with
// graphite-web's validateParams rules and validates every value.
func bind(f *Function, call *target.Node, pos []Value, kw map[string]Value, kwOrder []string) (*Args, error) {
	params := f.Meta.Params
	a := &Args{Func: f, Call: call, params: make([]Value, len(params)), preview: -1}
	var argParams, kwParams []Param
	if len(pos)+len(kw) > len(params) {
		if len(params) == 0 || !params[len(params)-1].Multiple {
			return nil, inputErrorf("Too many parameters specified for function %q", f.Name)
		}
		argParams = params
	} else {
		argParams = params[:len(pos)]
		kwParams = params[len(pos):]
	}
	for i, v := range pos {
		pi := min(i, len(argParams)-1)
		p := argParams[pi]
		vv, err := validate(f.Name, p, v)
		if err != nil {
			return nil, err
		}
		if p.Multiple && pi == len(params)-1 {
			a.rest = append(a.rest, vv)
			continue
		}
		a.params[pi] = vv
	}
	used := 0
	for k, p := range kwParams {
		idx := len(argParams) + k
		v, ok := kw[p.Name]
		if !ok || v.Kind == ValNone {
			if p.Required {
				return nil, inputErrorf("Missing required parameter %q for function %q", p.Name, f.Name)
			}
			if ok {
				used++
			}
			continue
		}
		used++
		vv, err := validate(f.Name, p, v)
		if err != nil {
			return nil, err
		}
		if p.Multiple {
			a.rest = append(a.rest, vv)
		} else {
			a.params[idx] = vv
		}
	}
	if len(kw) > used {
		var bad []string
		for _, name := range kwOrder {
			if !slices.ContainsFunc(kwParams, func(p Param) bool { return p.Name == name }) {
				bad = append(bad, name)
			}
		}
		return nil, inputErrorf("Unexpected key word arguments: %s", strings.Join(bad, ", "))
	}
	return a, nil
}

func invalid(fn string, p Param, v Value) error {
	return inputErrorf("Invalid %q value specified for function %q parameter %q: %s", string(p.Type), fn, p.Name, v.pyRepr())
}

// validate checks v against p and converts it like graphite-web's
// validators (float() for float, int() for integer, ...).
func validate(fn string, p Param, v Value) (Value, error) {
	if v.Kind == ValNone || v.Kind == ValMissing {
		if p.Required && p.Default == nil {
			return v, invalid(fn, p, v)
		}
		return v, nil
	}
	if len(p.Options) > 0 && !(v.Kind == ValString && slices.Contains(p.Options, v.Str)) && !extraOption(p, v) && p.Type != TypeAggFunc && p.Type != TypeAggOrSeriesFunc {
		return v, inputErrorf("Invalid option specified for function %q parameter %q: %s", fn, p.Name, v.pyRepr())
	}
	switch p.Type {
	case TypeSeriesList, TypeSeriesLists, TypeSeries:
		if v.Kind != ValSeries {
			return v, invalid(fn, p, v)
		}
	case TypeFloat:
		var ok bool
		if v, ok = toFloat(v); !ok {
			return v, invalid(fn, p, v)
		}
	case TypeInteger, TypeNode:
		var ok bool
		if v, ok = toInteger(v); !ok {
			return v, invalid(fn, p, v)
		}
	case TypeIntOrInf:
		if v.Kind != ValNumber || !(v.IsInt || math.IsInf(v.Num, 1)) {
			return v, invalid(fn, p, v)
		}
	case TypeBoolean:
		var ok bool
		if v, ok = toBoolean(v); !ok {
			return v, invalid(fn, p, v)
		}
	case TypeInterval:
		if v.Kind != ValString {
			return v, invalid(fn, p, v)
		}
		if _, err := attime.Offset(v.Str); err != nil {
			return v, invalid(fn, p, v)
		}
	case TypeAggFunc:
		if v.Kind != ValString || !validAggFunc(v.Str, true) {
			return v, inputErrorf("Invalid option specified for function %q parameter %q: %s", fn, p.Name, v.pyRepr())
		}
	case TypeAggOrSeriesFunc:
		if v.Kind != ValString {
			return v, invalid(fn, p, v)
		}
		if !validAggFunc(v.Str, true) {
			if f, ok := Lookup(v.Str); !ok || !f.Meta.Aggregator {
				return v, inputErrorf("Invalid option specified for function %q parameter %q: %s", fn, p.Name, v.pyRepr())
			}
		}
	case TypeString:
		if v.Kind == ValSeries {
			return v, invalid(fn, p, v)
		}
	}
	return v, nil
}

// toFloat converts an argument for a float parameter as graphite-web does:
// numbers, booleans and numeric strings; ok is false for anything else.
func toFloat(v Value) (Value, bool) {
	switch v.Kind {
	case ValNumber:
		v.IsInt = false
	case ValBool:
		v = Value{Kind: ValNumber, Num: b2f(v.Bool), Node: v.Node}
	case ValString:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64)
		if err != nil {
			return v, false
		}
		v = Value{Kind: ValNumber, Num: f, Node: v.Node}
	default:
		return v, false
	}
	return v, true
}

// toInteger converts an argument for an integer or node parameter:
// integers, booleans and integer strings.
func toInteger(v Value) (Value, bool) {
	switch v.Kind {
	case ValNumber:
		if !v.IsInt {
			return v, false
		}
	case ValBool:
		v = Value{Kind: ValNumber, Num: b2f(v.Bool), IsInt: true, Node: v.Node}
	case ValString:
		n, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64)
		if err != nil {
			return v, false
		}
		v = Value{Kind: ValNumber, Num: float64(n), IsInt: true, Node: v.Node}
	default:
		return v, false
	}
	return v, true
}

// toBoolean converts an argument for a boolean parameter: booleans,
// "true"/"false" in any case, 0 and 1; any other kind is true.
func toBoolean(v Value) (Value, bool) {
	switch v.Kind {
	case ValBool:
	case ValString:
		switch strings.ToLower(v.Str) {
		case "true":
			v = Value{Kind: ValBool, Bool: true, Node: v.Node}
		case "false":
			v = Value{Kind: ValBool, Bool: false, Node: v.Node}
		default:
			return v, false
		}
	case ValNumber:
		switch v.Num {
		case 0:
			v = Value{Kind: ValBool, Bool: false, Node: v.Node}
		case 1:
			v = Value{Kind: ValBool, Bool: true, Node: v.Node}
		default:
			return v, false
		}
	default:
		v = Value{Kind: ValBool, Bool: true, Node: v.Node}
	}
	return v, true
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// extraOption reports whether v is one of p's non-string options.
func extraOption(p Param, v Value) bool {
	for _, o := range p.ExtraOptions {
		if b, ok := o.(bool); ok && v.Kind == ValBool && v.Bool == b {
			return true
		}
	}
	return false
}
