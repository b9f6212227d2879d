package tagged

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// TagIndex maps tag -> value -> series for canonical tagged names. It is the
// one index of tagged names: storage/index hands it every tagged name the
// write buffer or a backend's scan sees, and the query side reads it.
//
// It is safe for concurrent use. Has, the question every write-buffer shard
// asks of a name it has not buffered yet, reads a concurrent set (sync.Map)
// and takes no lock; Add takes the write lock only for series it has not
// seen, and the listings take the read lock.
type TagIndex struct {
	known  sync.Map // canonical name -> struct{}: lock-free membership
	mu     sync.RWMutex
	ids    map[string]uint32
	series []seriesEntry // by id; deleted entries have name == ""
	tags   map[string]map[string][]uint32
	live   int
	// tagIDs and valueIDs number tags and values as graphite-web's
	// LocalDatabaseTagDB rows are (see AddInOrder); like its tables they
	// outlive the series that introduced them (a deleted series' tags
	// stay listed by ListTags, with no values).
	tagIDs   map[string]int
	valueIDs map[string]int
	tagSeq   int
	valueSeq int
}

type seriesEntry struct {
	name string
	tags []tagPair // sorted by tag, "name" included
}

type tagPair struct{ tag, value string }

// NewTagIndex returns an empty index.
func NewTagIndex() *TagIndex {
	return &TagIndex{ids: make(map[string]uint32), tags: make(map[string]map[string][]uint32),
		tagIDs: make(map[string]int), valueIDs: make(map[string]int)}
}

// Len returns the number of series indexed.
func (x *TagIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Has reports whether the canonical name is indexed. It takes no lock and
// does not allocate.
func (x *TagIndex) Has(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	// The string view lives only for the lookup; stored keys are copies.
	_, ok := x.known.Load(unsafe.String(&name[0], len(name)))
	return ok
}

// Add indexes a tagged series; name must be canonical (see Normalize). It
// returns false when the series was already indexed. Untagged names are
// indexed too (their only tag is name), as graphite-web does when
// SKIP_TAGS_FOR_NONTAGGED is off; callers usually skip them.
func (x *TagIndex) Add(name []byte) (bool, error) {
	return x.AddInOrder(name, nil)
}

// AddInOrder is Add with the order in which graphite-web's tag database
// would insert the series' tags (the keys as the client spelled them, see
// TagID); nil means the canonical order, then "name".
func (x *TagIndex) AddInOrder(name []byte, order []string) (bool, error) {
	if x.Has(name) {
		return false, nil
	}
	pairs, err := orderedTags(name)
	if err != nil {
		return false, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	s := string(name)
	if _, ok := x.ids[s]; ok {
		return false, nil
	}
	id := uint32(len(x.series))
	e := seriesEntry{name: s, tags: pairs}
	// graphite-web inserts every tag and value with INSERT OR IGNORE into
	// sqlite AUTOINCREMENT tables: each attempt uses up a number.
	ins := pairs
	if order != nil {
		ins = make([]tagPair, 0, len(order))
		for _, k := range order {
			for _, p := range pairs {
				if p.tag == k {
					ins = append(ins, p)
					break
				}
			}
		}
	}
	for _, p := range ins {
		x.tagSeq++
		if _, ok := x.tagIDs[p.tag]; !ok {
			x.tagIDs[p.tag] = x.tagSeq
		}
	}
	for _, p := range ins {
		x.valueSeq++
		if _, ok := x.valueIDs[p.value]; !ok {
			x.valueIDs[p.value] = x.valueSeq
		}
	}
	for _, p := range pairs {
		vals := x.tags[p.tag]
		if vals == nil {
			vals = make(map[string][]uint32)
			x.tags[p.tag] = vals
		}
		vals[p.value] = append(vals[p.value], id) // ids grow, lists stay sorted
	}
	sort.Slice(e.tags, func(i, j int) bool { return e.tags[i].tag < e.tags[j].tag })
	x.series = append(x.series, e)
	x.ids[s] = id
	x.live++
	x.known.Store(s, struct{}{})
	return true, nil
}

// orderedTags returns name's tags in graphite-web's insertion order: the
// canonical segments, then "name".
func orderedTags(name []byte) ([]tagPair, error) {
	n, err := Normalize(nil, name)
	if err != nil {
		return nil, err
	}
	segs := strings.Split(string(n), ";")
	pairs := make([]tagPair, 0, len(segs))
	for _, sg := range segs[1:] {
		k, v, _ := strings.Cut(sg, "=")
		pairs = append(pairs, tagPair{k, v})
	}
	return append(pairs, tagPair{"name", segs[0]}), nil
}

// TagID returns the id graphite-web's tag table would give tag, and
// whether the tag is known. graphite-web inserts a new series' tags one by
// one (in the client's order; for Add the canonical order, then "name"),
// and every attempt, even for a known tag, uses up one number.
func (x *TagIndex) TagID(tag string) (int, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	id, ok := x.tagIDs[tag]
	return id, ok
}

// ValueID is TagID for values (one numbering shared by every tag).
func (x *TagIndex) ValueID(value string) (int, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	id, ok := x.valueIDs[value]
	return id, ok
}

// Delete removes a series (graphite-web's /tags/delSeries).
func (x *TagIndex) Delete(name string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	id, ok := x.ids[name]
	if !ok {
		return false
	}
	e := &x.series[id]
	for _, t := range e.tags {
		vals := x.tags[t.tag]
		list := vals[t.value]
		i := sort.Search(len(list), func(i int) bool { return list[i] >= id })
		list = append(list[:i], list[i+1:]...)
		if len(list) == 0 {
			delete(vals, t.value)
			if len(vals) == 0 {
				delete(x.tags, t.tag)
			}
		} else {
			vals[t.value] = list
		}
	}
	*e = seriesEntry{}
	delete(x.ids, name)
	x.known.Delete(name)
	x.live--
	return true
}

func (e *seriesEntry) value(tag string) string {
	i := sort.Search(len(e.tags), func(i int) bool { return e.tags[i].tag >= tag })
	if i < len(e.tags) && e.tags[i].tag == tag {
		return e.tags[i].value
	}
	return ""
}

// Op is a tag expression operator.
type Op uint8

// Operators of seriesByTag expressions.
const (
	Eq       Op = iota // tag=value
	NotEq              // tag!=value
	Match              // tag=~regex
	NotMatch           // tag!=~regex
)

// Expr is one parsed seriesByTag expression.
type Expr struct {
	Tag   string
	Op    Op
	Value string
	re    *regexp.Regexp
}

var tagspecRe = regexp.MustCompile(`^([^;!=]+)(!?=~?)([^;]*)$`)

// TagspecError reports an expression that is not tag<op>spec.
type TagspecError struct{ Spec string }

func (e *TagspecError) Error() string { return fmt.Sprintf("invalid tagspec %q", e.Spec) }

// ErrAllMatchEmpty is returned by Find when every expression matches the
// empty value (graphite-web refuses such queries).
var ErrAllMatchEmpty = errors.New("at least one tagspec must not match the empty string")

// ParseExpr parses "tag=value", "tag!=value", "tag=~re" or "tag!=~re".
// Regular expressions are anchored at the start of the value, as in
// graphite-web (Python's re.match).
func ParseExpr(s string) (Expr, error) {
	m := tagspecRe.FindStringSubmatch(s)
	if m == nil {
		return Expr{}, &TagspecError{Spec: s}
	}
	e := Expr{Tag: m[1], Value: m[3]}
	switch m[2] {
	case "=":
		e.Op = Eq
	case "!=":
		e.Op = NotEq
	case "=~":
		e.Op = Match
	case "!=~":
		e.Op = NotMatch
	default:
		return Expr{}, fmt.Errorf("invalid tagspec %q: operator %q", s, m[2])
	}
	if e.Op == Match || e.Op == NotMatch {
		re, err := regexp.Compile(`^(?:` + e.Value + `)`)
		if err != nil {
			return Expr{}, fmt.Errorf("invalid tagspec %q: %w", s, err)
		}
		e.re = re
	}
	return e, nil
}

// matches applies the expression to a value ("" for a missing tag).
func (e *Expr) matches(v string) bool {
	switch e.Op {
	case Eq:
		return v == e.Value
	case NotEq:
		return v != e.Value
	case Match:
		return e.re.MatchString(v)
	default:
		return !e.re.MatchString(v)
	}
}

// FindSeries returns the sorted canonical names matching every expression,
// with graphite-web's semantics: a series without the tag is treated as
// having the empty value, and at least one expression must not match the
// empty value.
func (x *TagIndex) FindSeries(exprs []string) ([]string, error) {
	es := make([]Expr, 0, len(exprs))
	for _, s := range exprs {
		e, err := ParseExpr(s)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return x.Find(es)
}

// Find is FindSeries with parsed expressions.
func (x *TagIndex) Find(es []Expr) ([]string, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	// Pick the selector: the '=' with the shortest posting list, else any
	// expression that cannot match the empty value.
	sel := -1
	best := -1
	for i := range es {
		e := &es[i]
		if e.matches("") {
			continue
		}
		n := 0
		if e.Op == Eq {
			n = len(x.tags[e.Tag][e.Value])
		} else {
			n = len(x.series) + 1 // scan of the tag's values
		}
		if sel < 0 || n < best {
			sel, best = i, n
		}
	}
	if sel < 0 {
		return nil, ErrAllMatchEmpty
	}
	s := &es[sel]
	var cands []uint32
	if s.Op == Eq {
		cands = x.tags[s.Tag][s.Value]
	} else {
		for v, ids := range x.tags[s.Tag] {
			if s.matches(v) {
				cands = append(cands, ids...)
			}
		}
	}
	var out []string
	for _, id := range cands {
		e := &x.series[id]
		ok := true
		for i := range es {
			if i != sel && !es[i].matches(e.value(es[i].Tag)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, e.name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// anchored makes a graphite-web tag/value filter regex anchored at the
// start, as LocalDatabaseTagDB does.
func anchored(filter string) (*regexp.Regexp, error) {
	if filter == "" {
		return nil, nil
	}
	if !strings.HasPrefix(filter, "^") {
		filter = "^(" + filter + ")"
	}
	re, err := regexp.Compile(filter)
	if err != nil {
		return nil, fmt.Errorf("invalid filter %q: %w", filter, err)
	}
	return re, nil
}

// ListTags returns the sorted tag names matching filter (a regex anchored at
// the start; "" for all), at most limit (<= 0: no limit): /tags. Tags whose
// series were all deleted are still listed, as in graphite-web.
func (x *TagIndex) ListTags(filter string, limit int) ([]string, error) {
	re, err := anchored(filter)
	if err != nil {
		return nil, err
	}
	x.mu.RLock()
	var out []string
	for t := range x.tagIDs {
		if re == nil || re.MatchString(t) {
			out = append(out, t)
		}
	}
	x.mu.RUnlock()
	sort.Strings(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ValueCount is one value of a tag and how many series carry it.
type ValueCount struct {
	Value string
	Count int
}

// ListValues returns tag's values matching filter, sorted, with series
// counts, at most limit: /tags/<tag>.
func (x *TagIndex) ListValues(tag, filter string, limit int) ([]ValueCount, error) {
	re, err := anchored(filter)
	if err != nil {
		return nil, err
	}
	x.mu.RLock()
	var out []ValueCount
	for v, ids := range x.tags[tag] {
		if re == nil || re.MatchString(v) {
			out = append(out, ValueCount{v, len(ids)})
		}
	}
	x.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DefaultAutocompleteLimit is graphite-web's TAGDB_AUTOCOMPLETE_LIMIT.
const DefaultAutocompleteLimit = 100

// AutoCompleteTags answers /tags/autoComplete/tags: tags starting with
// prefix, among the series matching exprs (all tags when exprs is empty),
// excluding the tags the expressions already use, sorted, at most limit.
func (x *TagIndex) AutoCompleteTags(exprs []string, prefix string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = DefaultAutocompleteLimit
	}
	if len(exprs) == 0 {
		filter := ""
		if prefix != "" {
			filter = "^(" + regexp.QuoteMeta(prefix) + ")"
		}
		return x.ListTags(filter, limit)
	}
	searched := map[string]bool{}
	for _, s := range exprs {
		e, err := ParseExpr(s)
		if err != nil {
			return nil, err
		}
		searched[e.Tag] = true
	}
	names, err := x.FindSeries(exprs)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	x.mu.RLock()
	for _, n := range names {
		id, ok := x.ids[n]
		if !ok {
			continue
		}
		for _, t := range x.series[id].tags {
			if searched[t.tag] || seen[t.tag] || !strings.HasPrefix(t.tag, prefix) {
				continue
			}
			seen[t.tag] = true
			out = append(out, t.tag)
		}
	}
	x.mu.RUnlock()
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// AutoCompleteValues answers /tags/autoComplete/values: values of tag
// starting with prefix among the series matching exprs (all values when
// exprs is empty), sorted, at most limit.
func (x *TagIndex) AutoCompleteValues(exprs []string, tag, prefix string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = DefaultAutocompleteLimit
	}
	if len(exprs) == 0 {
		filter := ""
		if prefix != "" {
			filter = "^(" + regexp.QuoteMeta(prefix) + ")"
		}
		vcs, err := x.ListValues(tag, filter, limit)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(vcs))
		for i, vc := range vcs {
			out[i] = vc.Value
		}
		return out, nil
	}
	names, err := x.FindSeries(append(append([]string{}, exprs...), tag+"!="))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	x.mu.RLock()
	for _, n := range names {
		id, ok := x.ids[n]
		if !ok {
			continue
		}
		v := x.series[id].value(tag)
		if v == "" || seen[v] || !strings.HasPrefix(v, prefix) {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	x.mu.RUnlock()
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
