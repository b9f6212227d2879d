package index

import (
	"slices"
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
type Index struct {
	mu     shardedRW
	root   node
	n      atomic.Int64
	intern *[internSize]string // lossy intern table for segment strings (write lock)
	slab   []node              // nodes are carved from slabs to cut allocations (write lock)
	bytes  []byte              // segment bytes are carved from this chunk (write lock)
	tags   *tagged.TagIndex    // tagged series names, outside the tree (tagged.go)
}

// node is one segment of the tree: 24 bytes. Whether it is a metric (leaf)
// lives in kids, so the many childless leaves share one sentinel.
type node struct {
	seg  string
	kids *children // nil: neither leaf nor branch; leafOnly: a childless leaf
}

type children struct {
	list []*node // sorted by seg while big == nil; unordered once big is built
	big  *bigTable
	leaf bool // the node owning this is also a leaf
}

// leafOnly is the shared, never modified kids of every childless leaf.
var leafOnly = &children{leaf: true}

func (n *node) isLeaf() bool { return n.kids != nil && n.kids.leaf }

// branch reports whether n has children.
func (n *node) branch() bool { return n.kids != nil && len(n.kids.list) > 0 }

func (n *node) setLeaf(v bool) {
	switch {
	case n.kids == nil:
		if v {
			n.kids = leafOnly
		}
	case n.kids == leafOnly:
		if !v {
			n.kids = nil
		}
	default:
		n.kids.leaf = v
	}
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
	present := n != nil && n.isLeaf()
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
	ok := n != nil && n.isLeaf()
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
	var stack [64]*node
	path := stack[:0]
	n := &x.root
	for seg := range segments(name) {
		path = append(path, n)
		n = n.child(seg)
		if n == nil {
			return false
		}
	}
	if !n.isLeaf() {
		return false
	}
	n.setLeaf(false)
	x.n.Add(-1)
	for i := len(path) - 1; i >= 0 && n.kids == nil; i-- {
		parent := path[i]
		parent.removeChild(n)
		n = parent
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
	x.root.walk(buf, fn)
}

func (n *node) walk(buf []byte, fn func(string) bool) bool {
	if !n.branch() {
		return true
	}
	for _, c := range n.kids.list {
		b := buf
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, c.seg...)
		if c.isLeaf() && !fn(string(b)) {
			return false
		}
		if !c.walk(b, fn) {
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
	n := &x.root
	for {
		i := strings.IndexByte(name, '.')
		seg := name
		if i >= 0 {
			seg = name[:i]
		}
		n = n.child(seg)
		if n == nil || i < 0 {
			return n
		}
		name = name[i+1:]
	}
}

// insert adds a valid name. Caller holds the write lock.
func (x *Index) insert(name string) bool {
	if !x.insertUnder(&x.root, name, nil) {
		return false
	}
	x.n.Add(1)
	return true
}

// newNode returns a node for seg carved from the current slab. A slab stays
// alive while any of its nodes does; deletes are rare enough for that.
func (x *Index) newNode(seg string) *node {
	if len(x.slab) == 0 {
		x.slab = make([]node, 1024)
	}
	c := &x.slab[0]
	x.slab = x.slab[1:]
	c.seg = x.internSeg(seg)
	return c
}

// internSeg returns a private copy of seg, shared with earlier equal
// segments when the lossy intern table still holds one. Keeping segments
// out of the caller's string also avoids pinning whole names in memory.
func (x *Index) internSeg(seg string) string {
	if x.intern == nil {
		x.intern = new([internSize]string)
	}
	slot := &x.intern[segHash(seg)&(internSize-1)]
	if *slot == seg {
		return *slot
	}
	s := x.copySeg(seg)
	*slot = s
	return s
}

// segChunk is the size of the chunks segment bytes are carved from.
const segChunk = 16 << 10

// copySeg copies seg into the current chunk of segment bytes: one
// allocation per 16 KiB of new segments, not one per segment (the leaf of
// every new series is one), and chunks the collector does not scan. A
// chunk stays alive while any of its segments does; deletes are rare
// enough for that, as for the node slabs. Caller holds the write lock.
func (x *Index) copySeg(seg string) string {
	if len(seg) == 0 {
		return ""
	}
	if len(seg) > cap(x.bytes)-len(x.bytes) {
		if len(seg) > segChunk/16 {
			return strings.Clone(seg) // a long one alone: no chunk left mostly empty
		}
		x.bytes = make([]byte, 0, segChunk)
	}
	off := len(x.bytes)
	x.bytes = append(x.bytes, seg...)
	return unsafe.String(&x.bytes[off], len(seg))
}

func (n *node) child(seg string) *node {
	k := n.kids
	if k == nil {
		return nil
	}
	if k.big != nil {
		if i := k.big.find(k.list, seg); i >= 0 {
			return k.list[i]
		}
		return nil
	}
	l := k.list
	lo, hi := 0, len(l)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if l[mid].seg < seg {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(l) && l[lo].seg == seg {
		return l[lo]
	}
	return nil
}

func (n *node) addChild(c *node) {
	k := n.kids
	if k == nil || k == leafOnly {
		n.kids = &children{list: []*node{c}, leaf: k != nil}
		return
	}
	if k.big != nil {
		k.list = append(k.list, c)
		k.big.add(k.list)
		return
	}
	i, _ := slices.BinarySearchFunc(k.list, c.seg, func(a *node, s string) int { return strings.Compare(a.seg, s) })
	k.list = slices.Insert(k.list, i, c)
	if len(k.list) > bigThreshold {
		k.big = newBigTable(k.list)
	}
}

func (n *node) removeChild(c *node) {
	k := n.kids
	var i int
	if k.big != nil {
		i = k.big.find(k.list, c.seg)
	} else {
		i = slices.Index(k.list, c)
	}
	if i < 0 {
		return
	}
	if k.big != nil {
		k.big.remove(k.list, i)
		last := len(k.list) - 1
		k.list[i] = k.list[last]
		k.list[last] = nil
		k.list = k.list[:last]
		if len(k.list) <= bigThreshold/2 {
			k.big = nil
			slices.SortFunc(k.list, func(a, b *node) int { return strings.Compare(a.seg, b.seg) })
		}
	} else {
		k.list = slices.Delete(k.list, i, i+1)
	}
	if len(k.list) == 0 {
		n.kids = nil
		if k.leaf {
			n.kids = leafOnly
		}
	}
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
	p.reset(x)
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
	x     *Index
	stack []*node // the root, then the node of each segment of the previous name
}

// reset starts again from the root (the tree may have changed).
func (p *prefixInserter) reset(x *Index) {
	p.x = x
	p.stack = append(p.stack[:0], &x.root)
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
	return p.x.insertUnder(p.stack[d], name[last+1:], &p.stack)
}

// insertUnder adds the relative name rest below n, appending the nodes it
// passes to *stack (when stack is not nil), and reports whether the leaf
// is new. Caller holds the write lock and counts the leaf.
func (x *Index) insertUnder(n *node, rest string, stack *[]*node) bool {
	for seg := range segments(rest) {
		c := n.child(seg)
		if c == nil {
			c = x.newNode(seg)
			n.addChild(c)
		}
		if stack != nil {
			*stack = append(*stack, c)
		}
		n = c
	}
	if n.isLeaf() {
		return false
	}
	n.setLeaf(true)
	return true
}
