package pebble

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// reencodeChunk is how many blocks Reencode reads and rewrites per hold of
// the writer lock, so writes wait at most one chunk.
const reencodeChunk = 4096

// Reencode rewrites every stored block the current encoder codes smaller
// than it is stored: blocks written by an older format (decimals that were
// XOR coded before the scaled form existed) become scaled blocks. Values
// are unchanged. The merge operator already re-encodes a block whenever
// new points merge into it; Reencode covers the blocks nothing writes to
// any more. It runs on a live store: each chunk of blocks is read and
// rewritten while the writer lock is held, so no merge operand lands
// between the read and the rewrite. It returns the number of blocks
// rewritten; a second run rewrites none.
func (s *Store) Reencode() (int, error) {
	next := []byte{prefixData}
	end := []byte{prefixData + 1}
	total := 0
	for next != nil {
		n, after, err := s.reencodeChunk(next, end)
		total += n
		if err != nil {
			return total, err
		}
		next = after
	}
	return total, nil
}

// reencodeChunk rewrites up to reencodeChunk blocks from key from on and
// returns the key to continue at (nil at the end).
func (s *Store) reencodeChunk(from, end []byte) (int, []byte, error) {
	s.lockWriter()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return 0, nil, ErrClosed
	}
	if err := s.writable(); err != nil {
		return 0, nil, err
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: end})
	if err != nil {
		return 0, nil, fmt.Errorf("re-encoding blocks: %w", err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	buf := slotPool.Get().(*slotBuf)
	defer slotPool.Put(buf)
	var enc []byte
	var next []byte
	n, seen := 0, 0
	for ok := it.First(); ok; ok = it.Next() {
		if seen == reencodeChunk {
			next = bytes.Clone(it.Key())
			break
		}
		seen++
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return n, nil, fmt.Errorf("re-encoding block %x: %w", it.Key(), err)
		}
		buf.reset()
		if err := buf.apply(v); err != nil {
			it.Close()
			return n, nil, fmt.Errorf("re-encoding block %x: %w", it.Key(), err)
		}
		enc = buf.appendEncode(enc[:0])
		if len(enc) < len(v) {
			if err := b.Set(it.Key(), enc, nil); err != nil {
				it.Close()
				return n, nil, err
			}
			n++
		}
	}
	if err := it.Close(); err != nil {
		return n, nil, fmt.Errorf("re-encoding blocks: %w", err)
	}
	if n == 0 {
		return 0, next, nil
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, nil, fmt.Errorf("re-encoding blocks: %w", err)
	}
	return n, next, nil
}
