package query

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/plumbago/plumbago/query/target"
)

var numericTemplateValue = regexp.MustCompile(`^-?[\d.]+$`)

type templateVar struct {
	name string
	val  *target.Node // a KindString, KindInt or KindFloat literal
}

// expandTemplate evaluates graphite-web's template(expr, args...): the
// literal arguments (positional ones named 1, 2, ...; keyword ones by
// name), overridden by the request's template[name] parameters, replace
// $name in every path expression of expr. A path that is exactly $name
// becomes the value itself (a number, or a string; numeric-looking
// strings become floats).
func expandTemplate(n *target.Node, reqVars [][2]string) (*target.Node, error) {
	if len(n.Args) == 0 || (n.Args[0].Kind != target.KindPath && n.Args[0].Kind != target.KindCall) {
		return nil, inputErrorf("invalid template() syntax, only string/numeric arguments are allowed")
	}
	if len(n.Args) > 1 && len(n.Kwargs) > 0 {
		return nil, inputErrorf("invalid template() syntax, only string/numeric arguments are allowed")
	}
	lit := func(v *target.Node) bool {
		return v.Kind == target.KindString || v.Kind == target.KindInt || v.Kind == target.KindFloat
	}
	var vars []templateVar
	set := func(name string, v *target.Node) {
		for i := range vars {
			if vars[i].name == name {
				vars[i].val = v
				return
			}
		}
		vars = append(vars, templateVar{name, v})
	}
	for _, kw := range n.Kwargs {
		if !lit(kw.Value) {
			return nil, inputErrorf("invalid template() syntax, only string/numeric arguments are allowed")
		}
		set(kw.Name, kw.Value)
	}
	for i, a := range n.Args[1:] {
		if !lit(a) {
			return nil, inputErrorf("invalid template() syntax, only string/numeric arguments are allowed")
		}
		set(strconv.Itoa(i+1), a)
	}
	for _, kv := range reqVars {
		set(kv[0], &target.Node{Kind: target.KindString, Str: kv[1]})
	}
	return substitute(n.Args[0], vars)
}

func pyStrLiteral(v *target.Node) string {
	switch v.Kind {
	case target.KindInt:
		return strconv.FormatInt(v.Int, 10)
	case target.KindFloat:
		return FloatRepr(v.Float)
	}
	return v.Str
}

func substitute(n *target.Node, vars []templateVar) (*target.Node, error) {
	switch n.Kind {
	case target.KindPath:
		expr := n.Str
		for _, v := range vars {
			if expr == "$"+v.name {
				if v.val.Kind != target.KindString {
					c := *v.val
					return &c, nil
				}
				if numericTemplateValue.MatchString(v.val.Str) {
					f, err := strconv.ParseFloat(v.val.Str, 64)
					if err != nil {
						return nil, inputErrorf("could not convert string to float: %q", v.val.Str)
					}
					return &target.Node{Kind: target.KindFloat, Float: f, Str: v.val.Str}, nil
				}
				return &target.Node{Kind: target.KindString, Str: v.val.Str}, nil
			}
			expr = strings.ReplaceAll(expr, "$"+v.name, pyStrLiteral(v.val))
		}
		return &target.Node{Kind: target.KindPath, Str: expr}, nil
	case target.KindCall:
		c := *n
		c.Args = make([]*target.Node, len(n.Args))
		for i, a := range n.Args {
			s, err := substitute(a, vars)
			if err != nil {
				return nil, err
			}
			c.Args[i] = s
		}
		c.Kwargs = make([]target.Kwarg, len(n.Kwargs))
		for i, kw := range n.Kwargs {
			s, err := substitute(kw.Value, vars)
			if err != nil {
				return nil, err
			}
			c.Kwargs[i] = target.Kwarg{Name: kw.Name, Value: s}
		}
		return &c, nil
	}
	return n, nil
}
