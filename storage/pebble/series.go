package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// Series management for operators (storage/seriesops drives these): delete,
// rename, archives and newest point. Deletes and renames hold writeMu, so
// no Write runs meanwhile.

// blockSpan is the block starts of ring r a series may have data in at
// time now: from the oldest block retention enforcement has not dropped yet
// to the newest a point in the future (kept by whisper's rules in the
// finest archive) can land in.
func blockSpan(r *ring, now int64, finest bool) (lo, hi int64) {
	span := r.step * blockSlots
	lo = now - r.retention - r.keep - span
	lo -= floorMod(lo, span)
	hi = now + span
	if finest {
		hi += r.retention
	}
	hi -= floorMod(hi, span)
	return max(lo, 0), min(hi, math.MaxUint32)
}

// DeleteSeries removes names (a name not stored is skipped) with their
// data: the name record and a tombstone for every block each archive may
// hold, committed with fsync. The space comes back with CompactDeleted
// (or pebble's own compactions). It returns the names removed.
func (s *Store) DeleteSeries(names []string) (deleted []string, freed int64, err error) {
	spans, deleted, err := s.deleteRecords(names)
	if err != nil || len(deleted) == 0 {
		return deleted, 0, err
	}
	s.compactMu.Lock()
	if s.toCompact == nil {
		s.toCompact = map[uint16][2]int64{}
	}
	for id, sp := range spans {
		if old, ok := s.toCompact[id]; ok {
			sp = [2]int64{min(old[0], sp[0]), max(old[1], sp[1])}
		}
		s.toCompact[id] = sp
	}
	s.compactMu.Unlock()
	return deleted, 0, nil
}

// CompactDeleted compacts the key ranges DeleteSeries left tombstones in,
// so their space comes back now; it returns how much pebble's on-disk size
// shrank (0 if it did not). It rewrites every block of the rings and time
// ranges touched, so it takes time in proportion to them; writes go on
// meanwhile.
func (s *Store) CompactDeleted() (freed int64, err error) {
	s.compactMu.Lock()
	spans := s.toCompact
	s.toCompact = nil
	s.compactMu.Unlock()
	if len(spans) == 0 {
		return 0, nil
	}
	if !s.readDB() {
		return 0, ErrClosed
	}
	defer s.doneDB()
	before := s.db.Metrics().DiskSpaceUsage()
	ctx := context.Background()
	for id, sp := range spans {
		if err := s.db.Compact(ctx, ringBound(id, uint32(sp[0])), ringBound(id, uint32(min(sp[1]+1, math.MaxUint32))), false); err != nil {
			return 0, fmt.Errorf("compacting ring %d after deleting series: %w", id, err)
		}
	}
	if err := s.db.Compact(ctx, []byte{prefixName}, prefixEnd(prefixName), false); err != nil {
		return 0, fmt.Errorf("compacting names after deleting series: %w", err)
	}
	if after := s.db.Metrics().DiskSpaceUsage(); after < before {
		freed = int64(before - after)
	}
	return freed, nil
}

// deleteRecords stages and commits the deletion of names; it returns, by
// ring, the block-start range the tombstones cover.
func (s *Store) deleteRecords(names []string) (map[uint16][2]int64, []string, error) {
	s.lockWriter()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return nil, nil, ErrClosed
	}
	if err := s.writable(); err != nil {
		return nil, nil, err
	}
	now := s.opts.Now()
	b := s.db.NewBatch()
	defer b.Close()
	spans := map[uint16][2]int64{}
	var deleted []string
	var key []byte
	for _, name := range names {
		if strings.IndexByte(name, ';') >= 0 {
			// Registered through the API, if it was (tagreg.go).
			if err := b.Delete(tagRegKey(name), nil); err != nil {
				return nil, nil, err
			}
		}
		ser := s.names.get(name)
		if ser == nil {
			continue
		}
		key = nameKey(key, name)
		if err := b.Delete(key, nil); err != nil {
			return nil, nil, err
		}
		for i, a := range s.schemaOf(ser).archives {
			r := a.ring
			lo, hi := blockSpan(r, now, i == 0)
			for bs := lo; bs <= hi; bs += r.step * blockSlots {
				k := makeDataKey(r.id, uint32(bs), ser.id)
				if err := b.Delete(k[:], nil); err != nil {
					return nil, nil, err
				}
			}
			sp, ok := spans[r.id]
			if !ok {
				sp = [2]int64{lo, hi}
			}
			spans[r.id] = [2]int64{min(sp[0], lo), max(sp[1], hi)}
		}
		deleted = append(deleted, name)
	}
	if b.Empty() {
		return nil, nil, nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, nil, fmt.Errorf("deleting series: %w", err)
	}
	s.noteWrite(b.Len())
	s.mu.Lock()
	for _, name := range deleted {
		s.names.remove(name)
	}
	s.mu.Unlock()
	s.stats.series.Add(-int64(len(deleted)))
	for _, name := range deleted {
		s.index.Delete(name)
	}
	return spans, deleted, nil
}

// RenameSeries gives from's series the name to: its data stays where it is
// (blocks are keyed by series id), only the name record moves. It fails
// with storage.ErrNotFound when from is not stored and storage.ErrExists
// when to is.
func (s *Store) RenameSeries(from, to string) error {
	if len(to) == 0 || len(to) > index.MaxNameLen {
		return fmt.Errorf("renaming to a name of %d bytes: invalid name", len(to))
	}
	s.lockWriter()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	if err := s.writable(); err != nil {
		return err
	}
	ser := s.names.get(from)
	if ser == nil {
		return fmt.Errorf("renaming %q: %w", from, storage.ErrNotFound)
	}
	if s.names.get(to) != nil {
		return fmt.Errorf("renaming %q to %q: %w", from, to, storage.ErrExists)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(nameKey(nil, from), nil); err != nil {
		return err
	}
	var v []byte
	v = binary.AppendUvarint(v, uint64(ser.id))
	v = binary.AppendUvarint(v, uint64(s.schemaOf(ser).id))
	if err := b.Set(nameKey(nil, to), v, nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("renaming %q to %q: %w", from, to, err)
	}
	s.noteWrite(b.Len())
	s.mu.Lock()
	ref, _ := s.names.remove(from)
	err := s.names.put(to, ref)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("renaming %q to %q: committed, but the name is not kept in memory until a restart: %w", from, to, err)
	}
	s.index.Delete(from)
	s.index.Add(to)
	return nil
}

// SeriesRetentions returns name's archives, finest first.
func (s *Store) SeriesRetentions(name string) ([]schema.Retention, error) {
	ser := s.lookup(name)
	if ser == nil {
		return nil, fmt.Errorf("%q: %w", name, storage.ErrNotFound)
	}
	archives := s.schemaOf(ser).archives
	out := make([]schema.Retention, len(archives))
	for i, a := range archives {
		out[i] = schema.Retention{SecondsPerPoint: a.step, Points: a.points}
	}
	return out, nil
}

// LastPoint returns the timestamp of name's newest point at or before now,
// searching the finest archive first (each within its retention, newest
// block first), and false when none is stored.
func (s *Store) LastPoint(name string, now int64) (int64, bool, error) {
	ser := s.lookup(name)
	if ser == nil {
		return 0, false, fmt.Errorf("%q: %w", name, storage.ErrNotFound)
	}
	if !s.readDB() {
		return 0, false, ErrClosed
	}
	defer s.doneDB()
	buf := slotPool.Get().(*slotBuf)
	defer slotPool.Put(buf)
	for _, a := range s.schemaOf(ser).archives {
		span := a.step * blockSlots
		oldest := now - a.retention
		for bs := now - floorMod(now, span); bs+span > oldest && bs >= 0; bs -= span {
			if bs > math.MaxUint32 {
				continue
			}
			key := makeDataKey(a.ring.id, uint32(bs), ser.id)
			v, closer, err := s.db.Get(key[:])
			if errors.Is(err, pebble.ErrNotFound) {
				continue
			}
			if err != nil {
				return 0, false, fmt.Errorf("reading %q: %w", name, err)
			}
			buf.reset()
			err = buf.apply(v)
			closer.Close()
			if err != nil {
				return 0, false, fmt.Errorf("reading %q: block %x: %w", name, key, err)
			}
			for slot := blockSlots - 1; slot >= 0; slot-- {
				t := bs + int64(slot)*a.step
				if t <= now && t > oldest && buf.has(slot) {
					return t, true, nil
				}
			}
		}
	}
	return 0, false, nil
}
