package index

import (
	"slices"
	"strings"
	"unsafe"
)

// The tree's storage: nothing in it is a pointer per name, so the collector
// neither scans nor marks a million nodes, and a node takes 12 bytes (a
// string and a pointer took 24).
//
//   - A node is named by a nodeID, its position in fixed-size slabs of
//     nodeSlab nodes; slabs never move, so a *node stays valid while the
//     write lock is held or, for readers, while the read lock is.
//   - A node's segment is a segRef (chunk number and offset) and a length
//     into chunks of segChunk bytes; equal segments often share their bytes
//     through a lossy intern table of segRefs.
//   - A branch's children are a list of nodeIDs (4 bytes a child, 8 before)
//     in a table of child lists indexed by node.kids; only branches have
//     one, and only child lists hold pointers (their slices), one per branch.
//
// Deleted nodes and child lists go on free lists and are reused; segment
// bytes of deleted nodes are not reclaimed (deletes are rare).

// nodeID names a node; rootID is the root, which lives in nodeStore.root.
type nodeID uint32

const rootID nodeID = 0

const (
	nodeSlabBits = 12
	nodeSlab     = 1 << nodeSlabBits // nodes a slab (48 KiB)

	segChunkBits = 16
	segChunk     = 1 << segChunkBits // bytes a chunk of segments
	// maxSegChunks bounds the chunks a segRef can name (4 GiB of segment
	// bytes); an insert that would need more is refused.
	maxSegChunks = 1 << (32 - segChunkBits)
)

// segRef is a segment's position: chunk number << segChunkBits | offset.
type segRef uint32

// node is one segment of the tree: 12 bytes, no pointers.
type node struct {
	seg    segRef
	kids   uint32 // 1 + the index in nodeStore.kids of the child list; 0: no children
	segLen uint16 // a segment is at most MaxNameLen bytes
	leaf   bool   // a metric name ends here
}

// children is a branch's child list: sorted by segment while big is nil,
// unordered once the lookup table is built (bignode.go). Never empty: a
// branch whose last child goes gives its list back.
type children struct {
	list []nodeID
	big  *bigTable
}

// nodeStore holds the nodes, child lists and segment bytes of one index.
// Readers hold the index's read lock, writers its write lock.
type nodeStore struct {
	root      node
	slabs     []*[nodeSlab]node // node id-1 is slabs[(id-1)>>nodeSlabBits][(id-1)&(nodeSlab-1)]
	used      uint32            // node ids handed out (ids 1..used)
	freeNodes []nodeID
	kids      []children
	freeKids  []uint32 // indexes of kids whose list was given back
	chunks    []*[segChunk]byte
	chunkUsed int                 // bytes used of the last chunk
	intern    *[internSize]uint64 // lossy: segRef<<16 | length, 0 when empty
}

// node returns the node id names.
func (s *nodeStore) node(id nodeID) *node {
	if id == rootID {
		return &s.root
	}
	i := uint32(id) - 1
	return &s.slabs[i>>nodeSlabBits][i&(nodeSlab-1)]
}

// seg is n's segment, a view of the chunk bytes (never modified).
func (s *nodeStore) seg(n *node) string {
	if n.segLen == 0 {
		return ""
	}
	return s.segAt(n.seg, int(n.segLen))
}

func (s *nodeStore) segAt(ref segRef, n int) string {
	c := s.chunks[ref>>segChunkBits]
	return unsafe.String(&c[ref&(segChunk-1)], n)
}

// segOf is the segment of the node id names.
func (s *nodeStore) segOf(id nodeID) string { return s.seg(s.node(id)) }

// kidsOf returns n's child list (nil when it has none).
func (s *nodeStore) kidsOf(n *node) []nodeID {
	if n.kids == 0 {
		return nil
	}
	return s.kids[n.kids-1].list
}

// branch reports whether n has children.
func (n *node) branch() bool { return n.kids != 0 }

// room reports whether the segments of a name of n bytes fit: a name is at
// most MaxNameLen bytes, so one more chunk always holds them.
func (s *nodeStore) room(n int) bool {
	return len(s.chunks) < maxSegChunks || segChunk-s.chunkUsed >= n
}

// newNode returns the id of a new node for seg, reusing a deleted one's.
// Caller checked room.
func (s *nodeStore) newNode(seg string) nodeID {
	var id nodeID
	if k := len(s.freeNodes); k > 0 {
		id = s.freeNodes[k-1]
		s.freeNodes = s.freeNodes[:k-1]
	} else {
		if s.used%nodeSlab == 0 {
			s.slabs = append(s.slabs, new([nodeSlab]node))
		}
		s.used++
		id = nodeID(s.used)
	}
	*s.node(id) = node{seg: s.internSeg(seg), segLen: uint16(len(seg))}
	return id
}

// freeNode gives back the node id names, which has no children.
func (s *nodeStore) freeNode(id nodeID) {
	*s.node(id) = node{}
	s.freeNodes = append(s.freeNodes, id)
}

// internSeg returns the position of a copy of seg, shared with an earlier
// equal segment when the lossy intern table still holds one. Keeping
// segments out of the caller's string also avoids pinning whole names in
// memory.
func (s *nodeStore) internSeg(seg string) segRef {
	if len(seg) == 0 {
		return 0
	}
	if s.intern == nil {
		s.intern = new([internSize]uint64)
	}
	slot := &s.intern[segHash(seg)&(internSize-1)]
	if v := *slot; v != 0 && int(v&0xffff) == len(seg) && s.segAt(segRef(v>>16), len(seg)) == seg {
		return segRef(v >> 16)
	}
	ref := s.copySeg(seg)
	*slot = uint64(ref)<<16 | uint64(len(seg))
	return ref
}

// copySeg copies seg into the last chunk of segment bytes, starting a new
// chunk when it does not fit (the last one's tail is left unused: at most
// MaxNameLen bytes of segChunk). Caller checked room.
func (s *nodeStore) copySeg(seg string) segRef {
	if len(s.chunks) == 0 || len(seg) > segChunk-s.chunkUsed {
		s.chunks = append(s.chunks, new([segChunk]byte))
		s.chunkUsed = 0
	}
	off := s.chunkUsed
	copy(s.chunks[len(s.chunks)-1][off:], seg)
	s.chunkUsed += len(seg)
	return segRef((len(s.chunks)-1)<<segChunkBits | off)
}

// child returns the id of n's child named seg.
func (s *nodeStore) child(n *node, seg string) (nodeID, bool) {
	if n.kids == 0 {
		return 0, false
	}
	k := &s.kids[n.kids-1]
	if k.big != nil {
		if i := k.big.find(s, k.list, seg); i >= 0 {
			return k.list[i], true
		}
		return 0, false
	}
	l := k.list
	lo, hi := 0, len(l)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.segOf(l[mid]) < seg {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(l) && s.segOf(l[lo]) == seg {
		return l[lo], true
	}
	return 0, false
}

// addChild files c, a new node, among n's children.
func (s *nodeStore) addChild(n *node, c nodeID) {
	if n.kids == 0 {
		if k := len(s.freeKids); k > 0 {
			n.kids = s.freeKids[k-1] + 1
			s.freeKids = s.freeKids[:k-1]
		} else {
			s.kids = append(s.kids, children{})
			n.kids = uint32(len(s.kids))
		}
		s.kids[n.kids-1].list = []nodeID{c}
		return
	}
	k := &s.kids[n.kids-1]
	if k.big != nil {
		k.list = append(k.list, c)
		k.big.add(s, k.list)
		return
	}
	i, _ := slices.BinarySearchFunc(k.list, s.segOf(c), func(a nodeID, seg string) int { return strings.Compare(s.segOf(a), seg) })
	k.list = slices.Insert(k.list, i, c)
	if len(k.list) > bigThreshold {
		k.big = newBigTable(s, k.list)
	}
}

// removeChild takes c out of n's children (if there); a list left empty is
// given back.
func (s *nodeStore) removeChild(n *node, c nodeID) {
	if n.kids == 0 {
		return
	}
	k := &s.kids[n.kids-1]
	var i int
	if k.big != nil {
		i = k.big.find(s, k.list, s.segOf(c))
	} else {
		i = slices.Index(k.list, c)
	}
	if i < 0 {
		return
	}
	if k.big != nil {
		k.big.remove(s, k.list, i)
		last := len(k.list) - 1
		k.list[i] = k.list[last]
		k.list = k.list[:last]
		if len(k.list) <= bigThreshold/2 {
			k.big = nil
			slices.SortFunc(k.list, func(a, b nodeID) int { return strings.Compare(s.segOf(a), s.segOf(b)) })
		}
	} else {
		k.list = slices.Delete(k.list, i, i+1)
	}
	if len(k.list) == 0 {
		*k = children{}
		s.freeKids = append(s.freeKids, n.kids-1)
		n.kids = 0
	}
}

// insertUnder adds the relative name rest below the node id names,
// appending the nodes it passes to *stack (when stack is not nil), and
// reports whether the leaf is new. Nothing is inserted (false) when the
// segment bytes are full. Caller holds the write lock and counts the leaf.
func (s *nodeStore) insertUnder(id nodeID, rest string, stack *[]nodeID) bool {
	if !s.room(len(rest)) {
		return false
	}
	n := s.node(id)
	for seg := range segments(rest) {
		c, ok := s.child(n, seg)
		if !ok {
			c = s.newNode(seg)
			s.addChild(n, c)
		}
		if stack != nil {
			*stack = append(*stack, c)
		}
		n = s.node(c)
	}
	if n.leaf {
		return false
	}
	n.leaf = true
	return true
}
