package query

import (
	"fmt"
	"sort"
	"sync"
)

// ParamType is a graphite-web parameter type name (functions/params.py).
type ParamType string

// Parameter types reported by /functions.
const (
	TypeAggFunc         ParamType = "aggFunc"
	TypeAggOrSeriesFunc ParamType = "aggOrSeriesFunc"
	TypeAny             ParamType = "any"
	TypeBoolean         ParamType = "boolean"
	TypeDate            ParamType = "date"
	TypeFloat           ParamType = "float"
	TypeInteger         ParamType = "integer"
	TypeInterval        ParamType = "interval"
	TypeIntOrInterval   ParamType = "intOrInterval"
	TypeIntOrInf        ParamType = "intOrInf"
	TypeNode            ParamType = "node"
	TypeNodeOrTag       ParamType = "nodeOrTag"
	TypeSeries          ParamType = "series"
	TypeSeriesList      ParamType = "seriesList"
	TypeSeriesLists     ParamType = "seriesLists"
	TypeString          ParamType = "string"
	TypeTag             ParamType = "tag"
)

// Param describes one parameter, as graphite-web's Param does.
type Param struct {
	Name     string
	Type     ParamType
	Required bool
	// Default is reported by /functions (nil = none); it is not applied
	// automatically: functions read defaults through Args accessors.
	Default  any
	Multiple bool
	// Options restricts the accepted values (and is listed by /functions).
	Options []string
	// ExtraOptions are non-string options (None, True, False) that are also
	// accepted and listed, as graphite-web lists them for smartSummarize.
	ExtraOptions []any
	Suggestions  []any
}

// FuncMeta is a function's /functions metadata plus evaluation hints.
type FuncMeta struct {
	Group       string // Combine, Transform, Calculate, Filter Series, ...
	Description string
	Params      []Param
	// Aggregator marks series aggregators usable as groupBy* callbacks.
	Aggregator bool
	// Module is graphite-web's module name; default graphite.render.functions.
	Module string
	// Signature overrides the argument list /functions shows in
	// "function" (default: built from Params, optional ones "=default").
	Signature string
}

// Func is a render function. Args are already bound to Params and
// validated. Functions may modify the series they receive (they are
// private copies) and return them.
type Func func(e *Env, a *Args) ([]*Series, error)

// Function is a registered function.
type Function struct {
	Name string
	Fn   Func
	Meta FuncMeta
}

var (
	regMu    sync.RWMutex
	registry = map[string]*Function{}
)

// Register adds a function; it panics on a duplicate name or bad metadata
// (registration happens in init functions).
func Register(name string, fn Func, meta FuncMeta) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("query: function %s registered twice", name))
	}
	for i, p := range meta.Params {
		if p.Multiple && i != len(meta.Params)-1 {
			panic(fmt.Sprintf("query: function %s: only the last parameter may be multiple", name))
		}
	}
	if meta.Module == "" {
		meta.Module = "graphite.render.functions"
	}
	registry[name] = &Function{Name: name, Fn: fn, Meta: meta}
}

// Lookup returns a registered function.
func Lookup(name string) (*Function, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := registry[name]
	return f, ok
}

// Functions returns every registered function sorted by name.
func Functions() []*Function {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]*Function, 0, len(registry))
	for _, f := range registry {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
