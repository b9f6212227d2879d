package query

import (
	"errors"
	"fmt"
)

func init() {
	Register("seriesByTag", fnSeriesByTag, FuncMeta{
		Group: "Special",
		Description: "Returns a SeriesList of series matching all the specified tag expressions.\n\n" +
			"Example:\n\n.. code-block:: none\n\n  &target=seriesByTag(\"tag1=value1\",\"tag2!=value2\")\n\n" +
			"Returns a seriesList of all series that have tag1 set to value1, AND do not have tag2 set to value2.\n\n" +
			"Tags specifiers are strings, and may have the following formats:\n\n.. code-block:: none\n\n" +
			"  tag=spec    tag value exactly matches spec\n  tag!=spec   tag value does not exactly match spec\n" +
			"  tag=~value  tag value matches the regular expression spec\n  tag!=~spec  tag value does not match the regular expression spec\n\n" +
			"Any tag spec that matches an empty value is considered to match series that don't have that tag.\n\n" +
			"At least one tag spec must require a non-empty value.\n\n" +
			"Regular expression conditions are treated as being anchored at the start of the value.\n\n" +
			"See :ref:`querying tagged series <querying-tagged-series>` for more detail.",
		Params: []Param{{Name: "tagExpressions", Type: TypeString, Required: true, Multiple: true}},
	})
}

// ErrTagDB is wrapped by errors of the tag database during evaluation
// (graphite-web lets them through as HTTP 500).
var ErrTagDB = errors.New("tag database error")

// fnSeriesByTag resolves the expressions through the Source's TagSource and
// fetches every matching series by its exact name, as graphite-web's
// STORE.fetch does: series named by their canonical tagged name, sorted,
// with the call's source text as pathExpression (so combiners name their
// result e.g. sumSeries(seriesByTag('name=cpu'))).
func fnSeriesByTag(e *Env, a *Args) ([]*Series, error) {
	var exprs []string
	for _, v := range a.Multi(0) {
		if v.Kind == ValString {
			exprs = append(exprs, v.Str)
		}
	}
	raw := "seriesByTag()"
	if a.Call != nil && a.Call.Raw != "" {
		raw = a.Call.Raw
	}
	return e.fetchTagged(raw, exprs)
}

func (e *Env) fetchTagged(raw string, exprs []string) ([]*Series, error) {
	key := fetchKey{"\x00seriesByTag\x00" + raw, e.From, e.Until, e.Now}
	e.st.mu.Lock()
	cached, ok := e.st.cache[key]
	e.st.mu.Unlock()
	if !ok {
		ts, isTagged := e.ev.src.(TagSource)
		if !isTagged {
			return nil, nil
		}
		names, err := ts.FindSeries(exprs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", TagErrorMessage(err), ErrTagDB)
		}
		// FindSeries returns sorted names; keep them distinct.
		uniq := names[:0:0]
		for i, n := range names {
			if i == 0 || n != names[i-1] {
				uniq = append(uniq, n)
			}
		}
		cached, err = e.fetchNames(uniq, raw, e.From, e.Until)
		if err != nil {
			return nil, err
		}
		e.st.mu.Lock()
		e.st.cache[key] = cached
		e.st.mu.Unlock()
	}
	out := make([]*Series, len(cached))
	for i, s := range cached {
		out[i] = s.Copy()
	}
	return out, nil
}
