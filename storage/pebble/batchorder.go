package pebble

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"
)

// Merge operands and new series' name records reach pebble's memtable in
// key order.
//
// A write stages one merge operand per block it touches, series by series:
// for W1's schema a key of ring 0 and a key of ring 1 for each series, the
// series in the write buffer's order, which is no order of their ids. The
// memtable (a skiplist) inserts a batch's entries one after the other with
// one cached search path: an entry right after the one before it reuses
// most of that path, any other searches from the top, a cache miss per
// level in a memtable of millions of entries. New series add a name record
// each, in hash order, between their operands. So the writer stages both
// here and hands them to the batch sorted by key at commit: the operands
// ('D' keys) first, then the name records ('N'). (Operand keys are distinct
// within a batch; equal ones would keep their order, which a merge needs.)

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
	w.growStage()
	off := len(w.opBuf)
	w.opBuf = dirty.appendEncode(w.opBuf)
	w.ops = append(w.ops, stagedOp{
		hi:  uint64(ring)<<32 | uint64(start),
		lo:  uint64(id)<<32 | uint64(uint32(len(w.ops))),
		off: uint32(off),
		n:   uint32(len(w.opBuf) - off),
	})
}

// stagedName is one staged name record: its key ('N' and the name) and
// then its value in writer.opBuf.
type stagedName struct {
	off  uint32
	klen uint32
	vlen uint32
}

// stageName stages the name record of a new series: the key 'N' name, the
// value uvarint series id, uvarint schema id (keys.go).
func (w *writer) stageName(name string, id, schema uint32) {
	w.growStage()
	off := len(w.opBuf)
	w.opBuf = append(w.opBuf, prefixName)
	w.opBuf = append(w.opBuf, name...)
	klen := len(w.opBuf) - off
	w.opBuf = binary.AppendUvarint(w.opBuf, uint64(id))
	w.opBuf = binary.AppendUvarint(w.opBuf, uint64(schema))
	w.names = append(w.names, stagedName{off: uint32(off), klen: uint32(klen), vlen: uint32(len(w.opBuf) - off - klen)})
}

// stagedBytes is what the staged entries will add to the batch, about.
func (w *writer) stagedBytes() int {
	return len(w.opBuf) + len(w.ops)*(dataKeyLen+4) + len(w.names)*4
}

// stageBufs is what a writer staged for its next commit: the merge
// operands and the name records, their bytes in opBuf. A Write's last
// batch takes them along when it is handed off (handoff.go), and they are
// handed to the batch after writeMu is let go.
type stageBufs struct {
	ops   []stagedOp
	names []stagedName
	opBuf []byte
}

// empty reports whether nothing is staged.
func (st *stageBufs) empty() bool { return len(st.ops) == 0 && len(st.names) == 0 }

// applyStaged hands the staged entries to the batch in key order.
func (w *writer) applyStaged() error {
	err := w.stageBufs.apply(w.batch)
	w.dropStaged()
	return err
}

// apply hands the staged entries to b in key order (sorting them in
// place); the caller empties st after.
func (st *stageBufs) apply(b *pebble.Batch) error {
	if st.empty() {
		return nil
	}
	ops := st.ops
	if !slices.IsSortedFunc(ops, cmpStaged) {
		slices.SortFunc(ops, cmpStaged)
	}
	var key dataKey
	key[0] = prefixData
	for _, op := range ops {
		binary.BigEndian.PutUint16(key[1:], uint16(op.hi>>32))
		binary.BigEndian.PutUint32(key[3:], uint32(op.hi))
		binary.BigEndian.PutUint32(key[7:], uint32(op.lo>>32))
		if err := b.Merge(key[:], st.opBuf[op.off:op.off+op.n], nil); err != nil {
			return err
		}
	}
	buf := st.opBuf
	names := st.names
	if len(names) > 1 {
		slices.SortFunc(names, func(a, b stagedName) int {
			return bytes.Compare(buf[a.off:a.off+a.klen], buf[b.off:b.off+b.klen])
		})
	}
	for _, n := range names {
		k := buf[n.off : n.off+n.klen]
		if err := b.Set(k, buf[n.off+n.klen:n.off+n.klen+n.vlen], nil); err != nil {
			return err
		}
	}
	return nil
}

func cmpStaged(a, b stagedOp) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// maxRetainedStage bounds the staging buffers kept between commits, as
// pebble bounds a batch's (a large write's are let go).
const maxRetainedStage = 1 << 20

// stageSizes is the lengths of the staging buffers at a commit.
type stageSizes struct{ opBuf, ops, names int }

// stageSlack is the room growStage keeps ahead in opBuf: more than one
// block's operand or one name record takes.
const stageSlack = 64 << 10

// growStage grows the staging buffers of a large batch (past half of
// maxRetainedStage staged), when about to fill, straight to what recent
// commits staged. A burst commits batches of maxBatchBytes one after the
// other, and dropStaged lets their buffers go: grown by doubling again,
// each batch copied its operands about once more and allocated twice
// their size (growslice under stageMerge and stageName: 5.5 % of the
// server's CPU over a 1 M x 20 run). A small batch (every steady write)
// grows nothing here.
func (w *writer) growStage() {
	if len(w.opBuf) < maxRetainedStage/2 {
		return
	}
	h := &w.stageHint
	if len(w.opBuf)+stageSlack > cap(w.opBuf) && h.opBuf > cap(w.opBuf) {
		w.opBuf = slices.Grow(w.opBuf, h.opBuf-len(w.opBuf))
	}
	if len(w.ops) == cap(w.ops) && h.ops > cap(w.ops) {
		w.ops = slices.Grow(w.ops, h.ops-len(w.ops))
	}
	if len(w.names) == cap(w.names) && h.names > cap(w.names) {
		w.names = slices.Grow(w.names, h.names-len(w.names))
	}
}

// dropStaged forgets the staged entries, noting how much they were.
func (w *writer) dropStaged() {
	w.noteStaged(&w.stageBufs)
	w.stageBufs.reset()
}

// noteStaged notes how much st (the writer's staging, or what a handoff
// took of it) holds: the hint is the most recent commits staged, halved at
// each smaller one (a burst's last, partial batch does not lose the next
// burst's size, and the hint fades once batches are small).
func (w *writer) noteStaged(st *stageBufs) {
	h := &w.stageHint
	h.opBuf = max(len(st.opBuf), h.opBuf/2)
	h.ops = max(len(st.ops), h.ops/2)
	h.names = max(len(st.names), h.names/2)
}

// reset empties st, letting its buffers go past maxRetainedStage.
func (st *stageBufs) reset() {
	if cap(st.opBuf) > maxRetainedStage || cap(st.ops)*int(unsafe.Sizeof(stagedOp{})) > maxRetainedStage {
		st.ops, st.names, st.opBuf = nil, nil, nil
		return
	}
	st.ops = st.ops[:0]
	st.names = st.names[:0]
	st.opBuf = st.opBuf[:0]
}

// resetBatch drops everything staged for the next commit.
func (w *writer) resetBatch() {
	w.batch.Reset()
	w.dropStaged()
}
