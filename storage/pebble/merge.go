package pebble

import (
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// mergerName is persisted in the store's OPTIONS; changing it makes old
// stores unreadable.
const mergerName = "plumbago.block.v1"

// blockMerger combines block operands: slots from newer operands overwrite
// the same slots of older ones. The result has the block format, so partial
// merges during compaction are fine (the operation is associative).
var blockMerger = newBlockMerger(nil)

// newBlockMerger returns the block merger of a store whose writer names the
// block it reads back in readBack (readBackHint of its key, 0 when none):
// a merge of that key is most likely the writer's own db.Get, whose result
// is decoded at once and never stored, so it is coded the fast way
// (appendEncodeFast) instead of searching for the smallest coding. A
// compaction that merges the same key at that moment, or a key with the
// same hint, writes the fast coding to disk: a valid block, only larger,
// which the next compaction of that key codes small again.
func newBlockMerger(readBack *atomic.Uint64) *pebble.Merger {
	return &pebble.Merger{
		Name: mergerName,
		Merge: func(key, value []byte) (pebble.ValueMerger, error) {
			m := mergerPool.Get().(*valueMerger)
			m.buf = append(m.buf[:0], value...)
			m.offs = append(m.offs[:0], 0, len(m.buf))
			m.older = false
			m.forRead = false
			if readBack != nil {
				if h := readBack.Load(); h != 0 && h == readBackHint(key) {
					m.forRead = true
				}
			}
			return m, nil
		},
	}
}

// readBackHint folds a data key into the word a store's readBack holds; 0
// for anything else. Two keys may share a hint (the ring's bits are
// folded into the series'): that only picks the fast coding.
func readBackHint(key []byte) uint64 {
	if len(key) != dataKeyLen || key[0] != prefixData {
		return 0
	}
	return binary.BigEndian.Uint64(key[3:]) ^ uint64(binary.BigEndian.Uint16(key[1:])) ^ 1<<63
}

var mergerPool = sync.Pool{New: func() any { return new(valueMerger) }}

type valueMerger struct {
	buf   []byte // operands, back to back
	offs  []int  // operand i is buf[offs[i]:offs[i+1]]
	older bool   // operands were added oldest-last (MergeOlder)
	// forRead: the merge most likely serves the writer's read-back, so
	// Finish codes fast (newBlockMerger).
	forRead bool
	out     []byte
	slots   slotBuf
}

func (m *valueMerger) add(v []byte) {
	m.buf = append(m.buf, v...)
	m.offs = append(m.offs, len(m.buf))
}

func (m *valueMerger) MergeNewer(v []byte) error { m.add(v); return nil }

func (m *valueMerger) MergeOlder(v []byte) error { m.older = true; m.add(v); return nil }

func (m *valueMerger) Finish(includesBase bool) ([]byte, io.Closer, error) {
	n := len(m.offs) - 1
	if n == 1 {
		return m.buf, m, nil
	}
	m.slots.reset()
	for i := 0; i < n; i++ {
		j := i
		if m.older {
			j = n - 1 - i // oldest first
		}
		if err := m.slots.apply(m.buf[m.offs[j]:m.offs[j+1]]); err != nil {
			return nil, nil, err
		}
	}
	if m.forRead {
		m.out = m.slots.appendEncodeFast(m.out[:0])
	} else {
		m.out = m.slots.appendEncode(m.out[:0])
	}
	return m.out, m, nil
}

// Close returns the merger to the pool once pebble is done with the result.
func (m *valueMerger) Close() error {
	if cap(m.buf) > 1<<20 {
		m.buf = nil
	}
	if cap(m.out) > 1<<20 {
		m.out = nil
	}
	mergerPool.Put(m)
	return nil
}
