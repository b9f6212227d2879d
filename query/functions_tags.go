package query

// TagFinder resolves seriesByTag expressions ("tag=value", "tag!=value",
// "tag=~regex", "tag!=~regex") to sorted tagged series names, with
// graphite-web's tagdb semantics. storage/tagged.TagIndex implements it.
type TagFinder interface {
	FindSeries(exprs []string) ([]string, error)
}

// SetTagFinder enables seriesByTag; without one it returns no series.
func (ev *Evaluator) SetTagFinder(tf TagFinder) { ev.tags = tf }

// fnSeriesByTag fetches the matching tagged series; like graphite-web the
// path expression of each is the call's source text.
func fnSeriesByTag(e *Env, a *Args) ([]*Series, error) {
	vals := a.Multi(0)
	if len(vals) == 0 {
		return nil, inputErrorf("seriesByTag needs at least one tag expression")
	}
	exprs := make([]string, len(vals))
	for i, v := range vals {
		if v.Kind != ValString {
			return nil, inputErrorf("seriesByTag arguments must be strings, got %s", v.pyRepr())
		}
		exprs[i] = v.Str
	}
	if e.ev.tags == nil {
		return nil, nil
	}
	names, err := e.findTagged(exprs)
	if err != nil {
		return nil, err
	}
	raw := "seriesByTag()"
	if a.Call != nil {
		raw = a.Call.Raw
	}
	return e.fetchNamesCached(raw, names, raw)
}
