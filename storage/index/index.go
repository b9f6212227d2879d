package index

import (
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/plumbago/plumbago/storage/tagged"
)

// MaxNameLen bounds the length of an indexed name in bytes; longer names are
// rejected by Add.
const MaxNameLen = 4096

// bigThreshold is the number of children above which a node keeps a hash
// table of its child list (bignode.go; small nodes use a sorted slice and
// binary search).
const bigThreshold = 128

// internSize is the number of slots of the lossy segment intern table.
const internSize = 1 << 15

// Index is an in-memory tree of dot-separated metric names. It is safe for
// concurrent use: lookups (Has, Find, Expand, Walk and Add of a name already
// present) take one shard of a sharded read lock, so readers never block
// each other nor share a contended cache line; only inserting or deleting
// takes the write lock (every shard).
//
// The tree holds no pointers per name (nodes.go): nodes live in slabs and
// are named by a 32-bit id, child lists are lists of ids, and segments are
// offsets into chunks of bytes, so the collector scans none of it.
type Index struct {
	mu    shardedRW
	n     atomic.Int64
	store nodeStore        // nodes, child lists and segment bytes (write lock)
	tags  *tagged.TagIndex // tagged series names, outside the tree (tagged.go)
}

// New returns an empty index.
func New() *Index { return &Index{tags: tagged.NewTagIndex()} }

// Len returns the number of leaves (metric names) in the index.
func (x *Index) Len() int { return int(x.n.Load()) }

// Add inserts a metric name such as "a.b.c" and reports whether it was new.
// Names that are empty, longer than MaxNameLen, have an empty segment
// (leading, trailing or doubled dot) are ignored and Add returns false.
// Tagged series names (containing ';') go to the tag index (tagged.go),
// not the tree. Adding a name
// already present takes only the read lock and does not allocate.
func (x *Index) Add(name string) bool {
	if IsTagged(name) {
		return x.addTagged(name)
	}
	if !validName(name) {
		return false
	}
	l := x.mu.RLock(name)
	n := x.lookup(name)
	present := n != nil && n.leaf
	x.mu.RUnlock(l)
	if present {
		return false
	}
	x.mu.Lock()
	added := x.insert(name)
	x.mu.Unlock()
	return added
}

// AddBytes is Add for a name in a byte slice; the index never retains name.
func (x *Index) AddBytes(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	// The string view is used only during the call: insert copies every
	// segment it stores.
	return x.Add(unsafe.String(&name[0], len(name)))
}

// Has reports whether name is a leaf of the index.
func (x *Index) Has(name string) bool {
	if IsTagged(name) {
		return x.hasTagged(name)
	}
	if !validName(name) {
		return false
	}
	l := x.mu.RLock(name)
	n := x.lookup(name)
	ok := n != nil && n.leaf
	x.mu.RUnlock(l)
	return ok
}

// Delete removes the leaf name and prunes branches left empty. It reports
// whether name was present. A node that is also a branch keeps its children.
func (x *Index) Delete(name string) bool {
	if IsTagged(name) {
		return x.deleteTagged(name)
	}
	if !validName(name) {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	s := &x.store
	var stack [64]nodeID
	path := stack[:0]
	id := rootID
	for seg := range segments(name) {
		path = append(path, id)
		c, ok := s.child(s.node(id), seg)
		if !ok {
			return false
		}
		id = c
	}
	n := s.node(id)
	if !n.leaf {
		return false
	}
	n.leaf = false
	x.n.Add(-1)
	for i := len(path) - 1; i >= 0 && !n.leaf && n.kids == 0; i-- {
		parent := s.node(path[i])
		s.removeChild(parent, id)
		s.freeNode(id)
		id, n = path[i], parent
	}
	return true
}

// Walk calls fn with every leaf name, in unspecified order, until fn returns
// false. It holds the read lock throughout: fn must not call Add or Delete
// on the same index (that would deadlock), and long-running fns delay
// inserts of new names.
func (x *Index) Walk(fn func(name string) bool) {
	l := x.mu.RLock("")
	defer x.mu.RUnlock(l)
	buf := make([]byte, 0, 256)
	x.store.walk(&x.store.root, buf, fn)
}

func (s *nodeStore) walk(n *node, buf []byte, fn func(string) bool) bool {
	for _, id := range s.kidsOf(n) {
		c := s.node(id)
		b := buf
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, s.seg(c)...)
		if c.leaf && !fn(string(b)) {
			return false
		}
		if !s.walk(c, b, fn) {
			return false
		}
	}
	return true
}

// validName checks the rules documented on Add.
func validName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLen || name[0] == '.' || name[len(name)-1] == '.' {
		return false
	}
	if strings.IndexByte(name, ';') >= 0 || strings.Contains(name, "..") {
		return false
	}
	return true
}

// segments iterates over the dot-separated segments of name.
func segments(name string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexByte(name, '.')
			if i < 0 {
				yield(name)
				return
			}
			if !yield(name[:i]) {
				return
			}
			name = name[i+1:]
		}
	}
}

// lookup returns the node for a valid name, or nil. Caller holds a lock.
func (x *Index) lookup(name string) *node {
	id, rest := x.store.deepest(name)
	if rest != "" {
		return nil
	}
	return x.store.node(id)
}

// insert adds a valid name. Caller holds the write lock.
func (x *Index) insert(name string) bool {
	if !x.store.insertUnder(rootID, name, nil) {
		return false
	}
	x.n.Add(1)
	return true
}

// AddBatch adds every name of names as Add would and returns how many were
// new. The untagged ones are inserted under one hold of the write lock,
// which makes loading millions of stored names at start-up several times
// cheaper than one Add each; readers wait for the whole batch.
//
// Names that share a prefix with the one before them (a sorted batch, as
// names read in key order at start-up) reuse the nodes of that prefix
// rather than looking its segments up again.
func (x *Index) AddBatch(names []string) int {
	added := 0
	var p prefixInserter
	x.mu.Lock()
	p.reset(&x.store)
	prev := ""
	for _, name := range names {
		if IsTagged(name) || !validName(name) {
			continue
		}
		shared := 0
		for shared < len(prev) && shared < len(name) && prev[shared] == name[shared] {
			shared++
		}
		prev = name
		if p.insert(name, shared) {
			added++
			x.n.Add(1)
		}
	}
	x.mu.Unlock()
	for _, name := range names {
		if IsTagged(name) && x.addTagged(name) {
			added++
		}
	}
	return added
}

// prefixInserter inserts a run of valid names under one hold of the write
// lock, keeping the nodes of the previous name's path: a name sharing its
// first bytes with the previous one starts below the last segment they
// share whole.
type prefixInserter struct {
	s     *nodeStore
	stack []nodeID // the root, then the node of each segment of the previous name
}

// reset starts again from the root (the tree may have changed).
func (p *prefixInserter) reset(s *nodeStore) {
	p.s = s
	p.stack = append(p.stack[:0], rootID)
}

// insert adds the valid name, whose first shared bytes equal the previous
// name's, and reports whether its leaf is new. The caller counts it.
func (p *prefixInserter) insert(name string, shared int) bool {
	d, last := 0, -1
	for j := 0; j < shared; j++ {
		if name[j] == '.' {
			d++
			last = j
		}
	}
	if d > len(p.stack)-1 {
		d, last = 0, -1
	}
	p.stack = p.stack[:d+1]
	return p.s.insertUnder(p.stack[d], name[last+1:], &p.stack)
}

// AddNew adds the names of names that file accepts, looking each up once:
// for name i it calls file(i, known), known when the name is already a
// leaf (or a tagged name the tag index holds), and adds a name that was
// not known when file returns true (what file returns for a known name is
// ignored). It returns how many names were added. Names Add ignores
// (invalid) are offered as not known and never added. Names are taken in
// their order, under one hold of the write lock: file runs under it, so
// it must not call the index, and a name file refused is not a leaf when
// a later duplicate of it is offered. This is the write buffer's filing
// of the names a chunk of points brought in: known or new (asking the
// series limits, which may refuse or defer it) in one walk of the tree,
// where Has and then AddBatch took two.
func (x *Index) AddNew(names []string, file func(i int, known bool) bool) int {
	added := 0
	s := &x.store
	var idBuf [8]nodeID
	var offBuf [8]int
	w := pathWalker{s: s, ids: append(idBuf[:0], rootID), offs: append(offBuf[:0], 0)}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, name := range names {
		if IsTagged(name) {
			known := x.hasTagged(name)
			if file(i, known) && !known && x.addTagged(name) {
				added++
			}
			continue
		}
		if !validName(name) {
			file(i, false)
			continue
		}
		id, rest := w.deepest(name)
		known := rest == "" && s.node(id).leaf
		if !file(i, known) || known {
			continue
		}
		if rest == "" {
			s.node(id).leaf = true
		} else if !s.insertMissing(id, rest) {
			continue
		}
		added++
		x.n.Add(1)
	}
	return added
}

// deepest follows the valid name from the root as far as its nodes exist:
// it returns the last node found and the part of name below it ("" when
// every segment has its node). Caller holds a lock.
func (s *nodeStore) deepest(name string) (nodeID, string) { return s.deepestFrom(rootID, name, 0, nil) }

// deepestFrom is deepest for the part of name from byte off, which starts
// a segment below the node id names. With w, it appends the node of each
// segment it finds followed by a dot, and where the next one starts.
func (s *nodeStore) deepestFrom(id nodeID, name string, off int, w *pathWalker) (nodeID, string) {
	n := s.node(id)
	for {
		rest := name[off:]
		i := strings.IndexByte(rest, '.')
		seg := rest
		if i >= 0 {
			seg = rest[:i]
		}
		c, ok := s.child(n, seg)
		if !ok {
			return id, rest
		}
		id, n = c, s.node(c)
		if i < 0 {
			return id, ""
		}
		off += i + 1
		if w != nil {
			w.ids = append(w.ids, id)
			w.offs = append(w.offs, off)
		}
	}
}

// pathWalker is deepest over a run of names under the write lock, each
// starting below the whole segments it shares with the one before (the
// new names of a chunk of points mostly share their first segments):
// ids[k] is the node of the previous name's first k segments (ids[0] the
// root) as far as they exist, offs[k] where its segment k+1 starts.
type pathWalker struct {
	s    *nodeStore
	prev string
	ids  []nodeID
	offs []int
}

func (w *pathWalker) deepest(name string) (nodeID, string) {
	shared := 0
	for shared < len(w.prev) && shared < len(name) && w.prev[shared] == name[shared] {
		shared++
	}
	k := len(w.offs) - 1
	for k > 0 && w.offs[k] > shared {
		k--
	}
	w.ids, w.offs, w.prev = w.ids[:k+1], w.offs[:k+1], name
	return w.s.deepestFrom(w.ids[k], name, w.offs[k], w)
}

// insertMissing adds the relative name rest below the node id names, none
// of whose segments has its node yet (deepest stopped at id): each is
// created without looking it up. It reports false, inserting nothing,
// when the segment bytes are full. Caller holds the write lock and counts
// the leaf.
func (s *nodeStore) insertMissing(id nodeID, rest string) bool {
	if !s.room(len(rest)) {
		return false
	}
	n := s.node(id)
	for seg := range segments(rest) {
		c := s.newNode(seg)
		s.addChild(n, c)
		n = s.node(c)
	}
	n.leaf = true
	return true
}
