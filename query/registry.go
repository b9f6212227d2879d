package query

import (
	"fmt"
	"sort"
	"sync"

	"github.com/plumbago/plumbago/query/target"
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
	// Preview, when set and ok for a call, has the call's first argument
	// evaluated once from 'from' minus the seconds it returns (the data
	// before 'from' a moving window reads) instead of over the call's
	// time frame; the function finds the seconds in Args.Preview.
	Preview func(call *target.Node) (seconds int64, ok bool)
}

// Func is a render function. Args are already bound to Params and
// validated. Functions may modify the series they receive (they are
// private copies) and return them.
type Func func(e *Env, a *Args) ([]*Series, error)

// Function is a render function with its metadata: an entry of a group
// table.
type Function struct {
	Name string
	Fn   Func
	Meta FuncMeta
}

// functionGroups lists every function table, one per graphite-web group
// (the "group" /functions reports); the functions_<group>.go files hold
// the tables and the functions' implementations.
func functionGroups() []struct {
	name  string
	table []Function
} {
	return []struct {
		name  string
		table []Function
	}{
		{"Alias", aliasFunctions()},
		{"Calculate", calculateFunctions()},
		{"Combine", combineFunctions()},
		{"Filter Data", filterDataFunctions()},
		{"Filter Series", filterSeriesFunctions()},
		{"Graph", graphFunctions()},
		{"Sorting", sortingFunctions()},
		{"Special", specialFunctions()},
		{"Transform", transformFunctions()},
	}
}

var (
	regOnce  sync.Once
	registry map[string]*Function
)

// functions returns the registry, built from the group tables on first
// use (not in init, so no file's init order matters).
func functions() map[string]*Function {
	regOnce.Do(func() { registry = buildRegistry(functionGroups()) })
	return registry
}

// buildRegistry indexes the tables by name, setting each function's group
// from its table; it panics on a duplicate name or bad metadata, which
// the package's tests catch.
func buildRegistry(groups []struct {
	name  string
	table []Function
}) map[string]*Function {
	reg := map[string]*Function{}
	for _, g := range groups {
		for i := range g.table {
			f := &g.table[i]
			if _, dup := reg[f.Name]; dup {
				panic(fmt.Sprintf("query: function %s defined twice", f.Name))
			}
			for j, p := range f.Meta.Params {
				if p.Multiple && j != len(f.Meta.Params)-1 {
					panic(fmt.Sprintf("query: function %s: only the last parameter may be multiple", f.Name))
				}
			}
			f.Meta.Group = g.name
			if f.Meta.Module == "" {
				f.Meta.Module = "graphite.render.functions"
			}
			reg[f.Name] = f
		}
	}
	return reg
}

// Lookup returns a function by name.
func Lookup(name string) (*Function, bool) {
	f, ok := functions()[name]
	return f, ok
}

// Functions returns every function sorted by name.
func Functions() []*Function {
	reg := functions()
	out := make([]*Function, 0, len(reg))
	for _, f := range reg {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
