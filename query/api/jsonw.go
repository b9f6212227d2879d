package api

import (
	"math"
	"sort"
	"strconv"

	"github.com/plumbago/plumbago/query"
)

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// obj is a JSON object that keeps its member order (like a Python dict).
type obj []kv

// appendJSON writes v as Python's json.dumps does (", " and ": "
// separators, or indent=2 when pretty). Infinity is written as 1e9999.
func appendJSON(b []byte, v any, pretty bool, level int) []byte {
	return appendJSONOpts(b, v, pretty, false, level)
}

// indentLine starts a new line indented level steps of two spaces, as
// json.dumps(indent=2) does.
func indentLine(b []byte, level int) []byte {
	b = append(b, '\n')
	for i := 0; i < level; i++ {
		b = append(b, ' ', ' ')
	}
	return b
}

// beforeElem writes what json.dumps puts before element i of a list or
// an object at level: ", " between elements, or with pretty a comma (not
// before the first) and a new line.
func beforeElem(b []byte, i int, pretty bool, level int) []byte {
	if i > 0 {
		b = append(b, ',')
		if !pretty {
			b = append(b, ' ')
		}
	}
	if pretty {
		b = indentLine(b, level+1)
	}
	return b
}

// appendJSONOpts is appendJSON with sort_keys.
func appendJSONOpts(b []byte, v any, pretty, sortKeys bool, level int) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case string:
		return query.AppendJSONString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		switch {
		case math.IsInf(x, 1):
			return append(b, "1e9999"...)
		case math.IsInf(x, -1):
			return append(b, "-1e9999"...)
		case math.IsNaN(x):
			return append(b, "NaN"...)
		}
		return query.AppendFloatRepr(b, x)
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return appendJSONOpts(b, l, pretty, sortKeys, level)
	case []any:
		if len(x) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range x {
			b = beforeElem(b, i, pretty, level)
			b = appendJSONOpts(b, e, pretty, sortKeys, level+1)
		}
		if pretty {
			b = indentLine(b, level)
		}
		return append(b, ']')
	case obj:
		if len(x) == 0 {
			return append(b, "{}"...)
		}
		if sortKeys {
			x = append(obj(nil), x...)
			sort.SliceStable(x, func(i, j int) bool { return x[i].k < x[j].k })
		}
		b = append(b, '{')
		for i, m := range x {
			b = beforeElem(b, i, pretty, level)
			b = query.AppendJSONString(b, m.k)
			b = append(b, ": "...)
			b = appendJSONOpts(b, m.v, pretty, sortKeys, level+1)
		}
		if pretty {
			b = indentLine(b, level)
		}
		return append(b, '}')
	}
	panic("appendJSON: unsupported type")
}
