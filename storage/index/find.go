package index

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/plumbago/plumbago/storage"
)

// segMatcher is one compiled dot-separated segment of a find pattern: the
// union of its brace variants.
type segMatcher struct {
	lits     []string // literal variants: direct child lookups
	globs    []*glob  // wildcard variants: scan the children
	all      bool     // some variant is "*": every child matches
	globstar bool     // some variant is exactly "**"
}

// matchName reports whether a child name matches a non-globstar variant.
func (m *segMatcher) matchName(s string) bool {
	if m.all {
		return true
	}
	for _, l := range m.lits {
		if l == s {
			return true
		}
	}
	for _, g := range m.globs {
		if g.match(s) {
			return true
		}
	}
	return false
}

// hasMeta reports whether p may contain glob syntax.
func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[{\\") }

// maxTotalVariants bounds the brace alternatives of a whole pattern.
const maxTotalVariants = 4 * MaxVariants

// compilePattern splits pattern on '.' and compiles every segment. An empty
// pattern or an empty segment (leading, trailing or doubled dot) can match
// no name: ok is false then.
func compilePattern(pattern string) (segs []segMatcher, ok bool, err error) {
	if len(pattern) > MaxPatternLen {
		return nil, false, fmt.Errorf("compiling pattern of %d bytes: %w", len(pattern), errPatternTooLong)
	}
	if pattern == "" {
		return nil, false, nil
	}
	n := strings.Count(pattern, ".") + 1
	segs = make([]segMatcher, 0, n)
	total := 0
	for seg := range segments(pattern) {
		if seg == "" {
			return nil, false, nil
		}
		var m segMatcher
		variants := []string{seg}
		if strings.IndexByte(seg, '{') >= 0 {
			variants, err = expandBraces(seg)
			if err != nil {
				return nil, false, fmt.Errorf("compiling pattern %.100q: %w", pattern, err)
			}
		}
		if total += len(variants); total > maxTotalVariants {
			return nil, false, fmt.Errorf("compiling pattern %.100q: %w", pattern, errTooManyVariants)
		}
		for _, v := range variants {
			if !hasMeta(v) {
				if v != "" && !slices.Contains(m.lits, v) {
					m.lits = append(m.lits, v)
				}
				continue
			}
			if v == "**" {
				m.globstar = true
				continue
			}
			g, lit, isLit := compileGlob(v)
			switch {
			case isLit:
				if lit != "" && !slices.Contains(m.lits, lit) {
					m.lits = append(m.lits, lit)
				}
			case g.all:
				m.all = true
			default:
				m.globs = append(m.globs, g)
			}
		}
		if m.all {
			m.lits, m.globs = nil, nil
		}
		segs = append(segs, m)
	}
	return segs, true, nil
}

// finder runs one pattern against the tree. The caller holds the read lock.
type finder struct {
	s          *nodeStore
	segs       []segMatcher
	leavesOnly bool
	nodes      []storage.Node
	names      []string
	visited    map[visitKey]struct{} // only with globstars
	err        error
	arena      []byte // backing store of result strings
	limit      int    // results kept at most (0: no limit); one more stops the walk
	results    int    // results emitted (duplicates from overlapping variants included)
	steps      int    // tree nodes looked at (tests: the walk stops at the limit)
}

// maxVisited bounds the (node, segment) states a pattern with several
// globstars may visit (about 50 MB of memo). A variable for tests.
var maxVisited = 1 << 20

type visitKey struct {
	n *node
	i int
}

func appendSeg(buf []byte, seg string) []byte {
	if len(buf) > 0 {
		buf = append(buf, '.')
	}
	return append(buf, seg...)
}

func (f *finder) emit(n *node, path []byte) {
	if f.leavesOnly && !n.leaf {
		return
	}
	if f.results++; f.limit > 0 && f.results > f.limit {
		f.err = fmt.Errorf("more than %d: %w", f.limit, storage.ErrTooManyResults)
		return
	}
	if f.leavesOnly {
		if n.leaf {
			f.names = append(f.names, f.str(path))
		}
		return
	}
	f.nodes = append(f.nodes, storage.Node{Path: f.str(path), Leaf: n.leaf, Branch: n.branch()})
}

// arenaChunk is the largest block result paths are copied into: one
// allocation per block instead of one per result.
const arenaChunk = 32 << 10

// str returns an immutable string copy of b carved from the arena. Bytes
// written to the arena are never modified afterwards.
func (f *finder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(f.arena)-len(f.arena) {
		// Blocks grow from 512 bytes to arenaChunk so small finds stay small.
		f.arena = make([]byte, 0, max(min(arenaChunk, 2*cap(f.arena)), 512, len(b)))
	}
	start := len(f.arena)
	f.arena = append(f.arena, b...)
	return unsafe.String(&f.arena[start], len(b))
}

// visit matches segs[i:] against the children of n, whose path is path.
func (f *finder) visit(n *node, i int, path []byte) {
	if f.err != nil {
		return
	}
	if f.visited != nil {
		k := visitKey{n, i}
		if _, dup := f.visited[k]; dup {
			return
		}
		if len(f.visited) >= maxVisited {
			f.err = errTooMuchWork
			return
		}
		f.visited[k] = struct{}{}
	}
	m := &f.segs[i]
	last := i == len(f.segs)-1
	if m.globstar {
		f.globstar(n, i, path)
	}
	if !n.branch() || (!m.all && len(m.lits) == 0 && len(m.globs) == 0) {
		return
	}
	s := f.s
	step := func(c *node, seg string) {
		p := appendSeg(path, seg)
		if last {
			f.emit(c, p)
		} else if c.branch() {
			f.visit(c, i+1, p)
		}
	}
	if !m.all && len(m.globs) == 0 {
		for _, l := range m.lits {
			if f.err != nil {
				return
			}
			f.steps++
			if c, ok := s.child(n, l); ok {
				step(s.node(c), l)
			}
		}
		return
	}
	for _, id := range s.kidsOf(n) {
		if f.err != nil {
			return
		}
		f.steps++
		c := s.node(id)
		if seg := s.seg(c); m.matchName(seg) {
			step(c, seg)
		}
	}
}

// globstar handles a "**" variant at segs[i] as graphite-web's standard
// finder does: the rest of the pattern is matched under n and under every
// branch below it (zero or more segments); a trailing "**" matches every
// node below n.
func (f *finder) globstar(n *node, i int, path []byte) {
	if i == len(f.segs)-1 {
		f.all(n, path)
		return
	}
	var rec func(d *node, path []byte)
	rec = func(d *node, path []byte) {
		f.visit(d, i+1, path)
		if !d.branch() {
			return
		}
		for _, id := range f.s.kidsOf(d) {
			if f.err != nil {
				return
			}
			f.steps++
			if c := f.s.node(id); c.branch() {
				rec(c, appendSeg(path, f.s.seg(c)))
			}
		}
	}
	rec(n, path)
}

// all emits every node below n.
func (f *finder) all(n *node, path []byte) {
	if !n.branch() {
		return
	}
	for _, id := range f.s.kidsOf(n) {
		if f.err != nil {
			return
		}
		f.steps++
		c := f.s.node(id)
		p := appendSeg(path, f.s.seg(c))
		f.emit(c, p)
		f.all(c, p)
	}
}

func (x *Index) run(pattern string, leavesOnly bool, limit int) (*finder, error) {
	segs, ok, err := compilePattern(pattern)
	if err != nil || !ok {
		return nil, err
	}
	f := &finder{s: &x.store, segs: segs, leavesOnly: leavesOnly, limit: limit}
	// With a single globstar every (node, segment) state is reached at most
	// once; with several, the same state is reachable along many paths and
	// is memoised (and bounded).
	stars := 0
	for i := range segs {
		if segs[i].globstar {
			stars++
		}
	}
	if stars > 1 {
		f.visited = make(map[visitKey]struct{})
	}
	buf := make([]byte, 0, len(pattern)+64)
	l := x.mu.RLock(pattern)
	f.visit(&x.store.root, 0, buf)
	x.mu.RUnlock(l)
	if f.err != nil {
		return nil, fmt.Errorf("matching pattern %.100q: %w", pattern, f.err)
	}
	return f, nil
}

// Find expands a graphite find pattern against the index, as graphite-web
// 1.1's standard finder does against a whisper tree. The pattern has one glob
// per dot-separated segment: * (any run, never crossing a dot), ?, [abc],
// [a-z], [!a], {a,b,c} alternatives (nested, may contain globs), a backslash
// escaping the next character, and a segment "**" matching zero or more
// segments. A pattern without wildcards returns that node itself. Results
// are sorted by Path and unique; a node that is a metric and also has
// children has both Leaf and Branch set. An empty pattern or one with an
// empty segment matches nothing. Errors are returned only for hostile
// patterns (too long, too many brace alternatives, too much globstar work).
// Result paths share a few backing blocks (up to 32 KiB each), so keeping
// one result string alive keeps its block alive.
func (x *Index) Find(pattern string) ([]storage.Node, error) {
	return x.FindLimit(pattern, 0)
}

// FindLimit is Find keeping at most limit results (0: no limit): past it
// the walk stops and the error wraps storage.ErrTooManyResults, so the
// memory a find takes is bounded before it is spent. A node reached twice
// through overlapping brace variants counts twice.
func (x *Index) FindLimit(pattern string, limit int) ([]storage.Node, error) {
	if !hasMeta(pattern) {
		if len(pattern) > MaxPatternLen {
			return nil, fmt.Errorf("finding pattern of %d bytes: %w", len(pattern), errPatternTooLong)
		}
		if !validName(pattern) {
			return nil, nil
		}
		l := x.mu.RLock(pattern)
		n := x.lookup(pattern)
		var nd storage.Node
		if n != nil {
			nd = storage.Node{Path: pattern, Leaf: n.leaf, Branch: n.branch()}
		}
		x.mu.RUnlock(l)
		if n == nil {
			return nil, nil
		}
		return []storage.Node{nd}, nil
	}
	f, err := x.run(pattern, false, limit)
	if f == nil {
		return nil, err
	}
	nodes := f.nodes
	slices.SortFunc(nodes, func(a, b storage.Node) int { return strings.Compare(a.Path, b.Path) })
	return slices.CompactFunc(nodes, func(a, b storage.Node) bool { return a.Path == b.Path }), nil
}

// Expand returns the sorted, unique leaf names matching pattern (see Find
// for the syntax and the sharing of result strings). render uses it to turn
// a path expression into series.
func (x *Index) Expand(pattern string) ([]string, error) {
	return x.ExpandLimit(pattern, 0)
}

// ExpandLimit is Expand keeping at most limit names (0: no limit), with
// FindLimit's error past it.
func (x *Index) ExpandLimit(pattern string, limit int) ([]string, error) {
	if !hasMeta(pattern) {
		if x.Has(pattern) {
			return []string{pattern}, nil
		}
		if len(pattern) > MaxPatternLen {
			return nil, fmt.Errorf("expanding pattern of %d bytes: %w", len(pattern), errPatternTooLong)
		}
		return nil, nil
	}
	f, err := x.run(pattern, true, limit)
	if f == nil {
		return nil, err
	}
	slices.Sort(f.names)
	return slices.Compact(f.names), nil
}
