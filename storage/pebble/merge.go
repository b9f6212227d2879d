package pebble

import (
	"io"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// mergerName is persisted in the store's OPTIONS; changing it makes old
// stores unreadable.
const mergerName = "plumbago.block.v1"

// blockMerger combines block operands: slots from newer operands overwrite
// the same slots of older ones. The result has the block format, so partial
// merges during compaction are fine (the operation is associative).
var blockMerger = &pebble.Merger{
	Name: mergerName,
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		m := mergerPool.Get().(*valueMerger)
		m.buf = append(m.buf[:0], value...)
		m.offs = append(m.offs[:0], 0, len(m.buf))
		m.older = false
		return m, nil
	},
}

var mergerPool = sync.Pool{New: func() any { return new(valueMerger) }}

type valueMerger struct {
	buf   []byte // operands, back to back
	offs  []int  // operand i is buf[offs[i]:offs[i+1]]
	older bool   // operands were added oldest-last (MergeOlder)
	out   []byte
	slots slotBuf
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
	m.out = m.slots.appendEncode(m.out[:0])
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
