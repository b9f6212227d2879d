package query

import (
	"math"
	"sort"
	"strings"

	"github.com/plumbago/plumbago/query/target"
)

// evalString evaluates a target built at run time in the request's window.
func (e *Env) evalString(t string) ([]*Series, error) {
	n, err := target.ParseBounded(t, e.ev.limits.TargetBounds())
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	return e.Eval(n)
}

func fnApplyByNode(e *Env, a *Args) ([]*Series, error) {
	list := a.SeriesList(0)
	node := a.Int(1, 0)
	tmpl := a.String(2, "")
	newName := a.String(3, "")
	seen := map[string]bool{}
	var prefixes []string
	for _, s := range list {
		parts := strings.Split(s.Name, ".")
		_, hi := pySliceBounds(len(parts), 0, node+1, false)
		p := strings.Join(parts[:hi], ".")
		if !seen[p] {
			seen[p] = true
			prefixes = append(prefixes, p)
		}
	}
	sort.Strings(prefixes)
	if len(list) == 0 {
		return nil, nil
	}
	last := list[len(list)-1]
	var out []*Series
	for _, p := range prefixes {
		res, err := e.evalString(strings.ReplaceAll(tmpl, "%", p))
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if newName != "" {
				r.Name = strings.ReplaceAll(newName, "%", p)
			}
			r.PathExpression = p
			r.Start, r.End = last.Start, last.End
			out = append(out, r)
		}
	}
	return out, nil
}

func fnUseSeriesAbove(e *Env, a *Args) ([]*Series, error) {
	value := a.Float(1, 0)
	re, err := CompilePythonRegexp(a.String(2, ""))
	if err != nil {
		return nil, err
	}
	repl, err := PythonReplacement(a.String(3, ""), re)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range a.SeriesList(0) {
		if m := safeMax(s.Consolidated()); !math.IsNaN(m) && m > value {
			names = append(names, re.ReplaceAllString(s.Name, repl))
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	res, err := e.evalString("group(" + strings.Join(names, ",") + ")")
	if err != nil {
		return nil, err
	}
	var out []*Series
	for _, r := range res {
		if len(r.Values) > 0 {
			out = append(out, r)
		}
	}
	return out, nil
}
