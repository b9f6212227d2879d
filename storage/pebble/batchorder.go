package pebble

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// Merge operands reach pebble's memtable in key order.
//
// A write stages one merge operand per block it touches, series by series:
// for W1's schema a key of ring 0 and a key of ring 1 for each series, the
// series in the write buffer's order, which is no order of their ids. The
// memtable (a skiplist) inserts a batch's entries one after the other with
// one cached search path: an entry right after the one before it reuses
// most of that path, any other searches from the top, a cache miss per
// level in a memtable of millions of entries. So the writer stages its
// operands here and hands them to the batch sorted by key at commit (the
// keys are distinct within a batch; equal keys keep their order, which a
// merge needs).

// stagedOp is one staged merge operand: its data key as two integers that
// sort as the key's bytes do, its arrival order, and its bytes in
// writer.opBuf.
type stagedOp struct {
	hi  uint64 // ring (16 bits) and block start (32 bits)
	lo  uint64 // series id (high 32 bits) and arrival order (low 32)
	off uint32
	n   uint32
}

// stageMerge stages the merge operand of dirty under data key (ring,
// start, id), encoding it in place.
func (w *writer) stageMerge(ring uint16, start, id uint32, dirty *slotBuf) {
	off := len(w.opBuf)
	w.opBuf = dirty.appendEncode(w.opBuf)
	w.ops = append(w.ops, stagedOp{
		hi:  uint64(ring)<<32 | uint64(start),
		lo:  uint64(id)<<32 | uint64(uint32(len(w.ops))),
		off: uint32(off),
		n:   uint32(len(w.opBuf) - off),
	})
}

// stagedBytes is what the staged operands will add to the batch, about.
func (w *writer) stagedBytes() int { return len(w.opBuf) + len(w.ops)*(dataKeyLen+4) }

// applyStaged hands the staged operands to the batch in key order.
func (w *writer) applyStaged() error {
	if len(w.ops) == 0 {
		return nil
	}
	ops := w.ops
	if !slices.IsSortedFunc(ops, cmpStaged) {
		slices.SortFunc(ops, cmpStaged)
	}
	var key dataKey
	key[0] = prefixData
	for _, op := range ops {
		binary.BigEndian.PutUint16(key[1:], uint16(op.hi>>32))
		binary.BigEndian.PutUint32(key[3:], uint32(op.hi))
		binary.BigEndian.PutUint32(key[7:], uint32(op.lo>>32))
		if err := w.batch.Merge(key[:], w.opBuf[op.off:op.off+op.n], nil); err != nil {
			w.dropStaged()
			return err
		}
	}
	w.dropStaged()
	return nil
}

func cmpStaged(a, b stagedOp) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// dropStaged forgets the staged operands.
func (w *writer) dropStaged() {
	w.ops = w.ops[:0]
	w.opBuf = w.opBuf[:0]
}

// resetBatch drops everything staged for the next commit.
func (w *writer) resetBatch() {
	w.batch.Reset()
	w.dropStaged()
}
