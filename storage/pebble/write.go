package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/plumbago/plumbago/storage"
)

// maxBatchBytes bounds one pebble batch; a Write larger than this commits
// in several batches.
const maxBatchBytes = 64 << 20

// maxSeriesChunk is the most points of one series written in one pass; a
// pass holds a 16 KiB buffer per block it touches.
const maxSeriesChunk = 1024

// maxFreeBlocks bounds the block buffers the writer keeps for reuse.
const maxFreeBlocks = 64

// blockRef is one block of one archive of the series being written: what
// the store holds (base, read lazily) and the slots written now (dirty).
type blockRef struct {
	arch   int
	start  int64
	loaded bool
	base   slotBuf
	dirty  slotBuf
}

// writer holds the scratch state of the (single) writer; guarded by
// Store.writeMu. Nothing in it is allocated per point.
type writer struct {
	s      *Store
	batch  *pebble.Batch
	gen    uint64
	ser    *series
	sc     *seriesSchema // ser's schema
	blocks []*blockRef
	free   []*blockRef
	pts    []storage.Point
	big    []storage.Point
	arch   []int8
	ivs    []int64
	fitted []int64
	known  []float64
	knownT []int64
	closed []closedTail
	// stageBufs holds the merge operands and the name records staged for
	// the next commit (batchorder.go).
	stageBufs
	// stageHint is how much the last commit staged (batchorder.go).
	stageHint stageSizes

	// Since the last successful commit: the batch series it starts at, the
	// names and schemas created, and the ring count before it (rings are
	// appended to Store.ringList).
	staged         int
	createdNames   []string
	createdSchemas []*seriesSchema
	ringMark       int
	failed         []storage.SeriesError
	// flushed are the series whose blocks the batch stages; commit bumps
	// their written counts once the batch is committed (or failed).
	flushed []*series
	// memo skips resolving the schema of every new series (store.go).
	memo schemaMemo
	// tailChunks hold the series' tails (tail.go); tailUsed is how many
	// of the last chunk's are carved.
	tailChunks [][]tail
	tailUsed   int

	scratch [2 * 10]byte
	countID uint32 // series count last staged under 'C'
	err     error
	written int64
	dropped int64
}

func (w *writer) init(s *Store) { w.s = s }

// Write persists b as whisper's update_many would, series by series, in one
// pebble batch committed without waiting for fsync (see SyncInterval).
// Before anything is staged it checks the volume: at or below the
// free-space reserve (Options.MinFreeBytes), on a read-only volume, or when
// the store was opened read-only, nothing is written and the error wraps
// storage.ErrNoSpace or storage.ErrReadOnly. pebble treats a failed write
// to its log as fatal, so the reserve is what keeps a filling disk from
// ever getting there. A series whose stored blocks cannot be read is listed
// in a *storage.WriteError; the others are written. Each series' Name in b
// is replaced by the name table's copy (storage.Store.Write): the write
// buffer keeps that one and drops its own, so a name is held once.
func (s *Store) Write(b *storage.Batch) error {
	if err := s.stall.err(); err != nil {
		return err // not behind a Write held in pebble
	}
	s.writeMu.Lock()
	h, staged, err := s.stageWrite(b)
	if h == nil {
		s.writeMu.Unlock()
		return err
	}
	// err is nil or the series whose blocks could not be read; the rest
	// is committed after writeMu is let go (handoff.go).
	written, dropped := s.w.written, s.w.dropped
	s.w.written, s.w.dropped = 0, 0
	var failed []storage.SeriesError
	if we := (*storage.WriteError)(nil); errors.As(err, &we) {
		failed = we.Failed
	}
	s.commits.RLock()
	s.writeMu.Unlock()
	cerr := s.commitHandoff(h)
	s.commits.RUnlock()
	if cerr != nil {
		err = s.failHandoff(h, b, staged, failed, cerr)
		s.release(h)
		return err
	}
	s.release(h)
	s.countCommitted(written, dropped)
	return err
}

// countCommitted adds a committed Write's points to the store's counters:
// written, and dropped as older than the archives keep.
func (s *Store) countCommitted(written, dropped int64) {
	s.stats.written.Add(written)
	s.stats.droppedOld.Add(dropped)
	s.stats.dropped.Add(dropped)
}

// stageWrite stages b and commits all but its last batch (holding
// writeMu). When that last batch may be committed after writeMu is let go
// it returns it, with the index of b's first series in it, and w.written,
// w.dropped and w.failed describe b; otherwise it commits it too and
// returns Write's result.
func (s *Store) stageWrite(b *storage.Batch) (*handoff, int, error) {
	if s.db == nil {
		return nil, 0, ErrClosed
	}
	if err := s.writable(); err != nil {
		return nil, 0, err
	}
	w := &s.w
	now := s.opts.Now()
	if w.batch == nil {
		w.batch = s.db.NewBatch()
	}
	s.compactNames()
	w.gen++
	w.failed = w.failed[:0]
	w.staged = 0
	var noSchema []error
	for i := range b.Series {
		sp := &b.Series[i]
		if len(sp.Points) == 0 {
			continue
		}
		ser, stored, err := s.seriesForWrite(w.batch, sp.Name)
		if stored != "" {
			// The caller may keep this copy and drop its own: the write
			// buffer's series then share the name table's bytes.
			sp.Name = stored
		}
		if err != nil {
			s.stats.droppedNoSchema.Add(int64(len(sp.Points)))
			noSchema = append(noSchema, err)
			continue
		}
		written, dropped := w.written, w.dropped
		if err := w.writeSeriesChunks(ser, i, sp.Points, now); err != nil {
			w.written, w.dropped = written, dropped
			if cerr := (*commitError)(nil); errors.As(err, &cerr) {
				return nil, 0, w.failCommit(b, i, cerr.err)
			}
			// The series' staged merges are in the batch; the failure came
			// from reading its stored blocks, before anything of it was
			// staged (flushSeries runs only without error).
			w.failed = append(w.failed, storage.SeriesError{Index: i, Name: sp.Name, Err: fmt.Errorf("writing %q: %w", sp.Name, err)})
		}
	}
	if len(noSchema) > 0 {
		// Unmatched names are not write failures: their points are dropped
		// and counted (Stats.PointsDroppedNoSchema), as whisper does, so the
		// caller's committed count stays exact. Log a sample, at most once a
		// second.
		if t := time.Now().Unix(); t > s.lastNoSchemaLog.Load() {
			s.lastNoSchemaLog.Store(t)
			s.opts.Logger.Warn("dropped points of series that match no storage schema", "series", len(noSchema), "first", noSchema[0])
		}
	}
	var werr error
	if len(w.failed) > 0 {
		werr = &storage.WriteError{Failed: slices.Clone(w.failed)}
	}
	if w.canHandOff() {
		h, err := w.handOff()
		if err != nil {
			return nil, 0, w.failCommit(b, len(b.Series)-1, err)
		}
		if h != nil {
			return h, w.staged, werr
		}
	}
	if err := w.commit(); err != nil {
		return nil, 0, w.failCommit(b, len(b.Series)-1, err)
	}
	s.countCommitted(w.written, w.dropped)
	w.written, w.dropped = 0, 0
	return nil, 0, werr
}

// commitError marks a failed pebble commit inside writeSeriesChunks.
type commitError struct{ err error }

func (e *commitError) Error() string { return e.err.Error() }

// writeSeriesChunks writes the points of batch series i.
func (w *writer) writeSeriesChunks(ser *series, i int, pts []storage.Point, now int64) error {
	if len(pts) > maxSeriesChunk {
		// Bound the writer's memory (a block buffer per touched block):
		// write a long series in time-ordered chunks, each seeing the
		// previous one committed.
		w.big = sortedPoints(append(w.big[:0], pts...))
		pts = w.big
	}
	for len(pts) > 0 {
		chunk := pts[:min(len(pts), maxSeriesChunk)]
		pts = pts[len(chunk):]
		if ser.gen == w.gen || w.batch.Len()+w.stagedBytes() > maxBatchBytes {
			// The series is already staged (a name repeated in the batch,
			// or the previous chunk): commit first so reading it back sees
			// those points.
			if err := w.commit(); err != nil {
				return &commitError{err}
			}
			w.staged = i
			w.gen++
		}
		ser.gen = w.gen
		if err := w.writeSeries(ser, chunk, now); err != nil {
			return err
		}
	}
	return nil
}

// failCommit reports a failed commit: the series staged since the last
// successful commit (from w.staged on) and every series after them were
// not written. What the lost batch staged is forgotten: names, schemas and
// rings created since the last commit are dropped from memory (the next
// write stages them again), and the tails of the lost series are reset so
// their next write reads the stored blocks back.
func (w *writer) failCommit(b *storage.Batch, attempted int, err error) error {
	w.resetBatch()
	w.written, w.dropped = 0, 0
	s := w.s
	failed := w.failed[:0]
	for _, f := range w.failed {
		if f.Index < w.staged {
			failed = append(failed, f)
		}
	}
	for i := w.staged; i < len(b.Series); i++ {
		sp := &b.Series[i]
		if len(sp.Points) == 0 {
			continue
		}
		ser := s.names.get(sp.Name)
		if ser == nil && i <= attempted {
			continue // no schema: dropped and counted already
		}
		if ser != nil {
			w.forgetTails(ser)
		}
		failed = append(failed, storage.SeriesError{Index: i, Name: sp.Name, Err: fmt.Errorf("committing: %w", err)})
	}
	w.failed = failed
	s.forgetStaged()
	return &storage.WriteError{Failed: slices.Clone(w.failed)}
}

// stageCommit hands the staged entries to the batch, with the series
// count when it changed.
func (w *writer) stageCommit() error {
	if err := w.stageCount(); err != nil {
		return err
	}
	if err := w.applyStaged(); err != nil {
		return fmt.Errorf("staging merges: %w", err)
	}
	return nil
}

// stageCount sets the series count in the batch when it changed and
// something is to be committed.
func (w *writer) stageCount() error {
	if w.batch.Empty() && w.stageBufs.empty() || w.countID == w.s.nextID {
		return nil
	}
	// Persist the series count (a sizing hint for the next Open).
	if err := w.batch.Set([]byte{prefixCount}, binary.AppendUvarint(w.scratch[:0], uint64(w.s.nextID)), nil); err != nil {
		return err
	}
	w.countID = w.s.nextID
	return nil
}

func (w *writer) commit() error {
	if err := w.stageCommit(); err != nil {
		return err
	}
	if w.batch.Empty() {
		return nil
	}
	opts := pebble.NoSync
	if w.s.opts.SyncInterval <= 0 {
		opts = pebble.Sync
	}
	logged := w.batch.Len()
	err := w.batch.Commit(opts)
	w.batch.Reset()
	for _, ser := range w.flushed {
		ser.written.Add(1)
	}
	clear(w.flushed)
	w.flushed = w.flushed[:0]
	if err != nil {
		w.countID = 0 // stage the count again with the next batch
		return fmt.Errorf("committing batch: %w", err)
	}
	w.s.noteWrite(logged)
	w.createdNames = w.createdNames[:0]
	w.createdSchemas = w.createdSchemas[:0]
	w.ringMark = len(w.s.ringList)
	return nil
}

// writeSeries applies pts to ser: each point goes to the finest archive
// whose retention covers its age (older points are dropped), the last point
// of a slot wins (points are taken in timestamp order, ties in arrival
// order), and every touched lower-archive interval is propagated as
// whisper's __propagate does.
func (w *writer) writeSeries(ser *series, pts []storage.Point, now int64) error {
	w.ser, w.sc = ser, w.s.schemaOf(ser)
	w.err = nil
	w.closed = w.closed[:0]
	sc := w.sc
	if ser.fresh {
		w.freshTails()
	}
	// Stable sort by timestamp unless already sorted (the common case).
	sorted := true
	for i := 1; i < len(pts); i++ {
		if pts[i].Timestamp < pts[i-1].Timestamp {
			sorted = false
			break
		}
	}
	if !sorted {
		w.pts = sortedPoints(append(w.pts[:0], pts...))
		pts = w.pts
	}
	arch := w.arch[:0]
	for _, p := range pts {
		a := int8(-1)
		if p.Timestamp > 0 && p.Timestamp <= math.MaxUint32 {
			age := now - p.Timestamp
			for i := range sc.archives {
				if sc.archives[i].retention >= age {
					a = int8(i)
					break
				}
			}
		}
		if a < 0 {
			w.dropped++
		} else {
			w.written++
		}
		arch = append(arch, a)
	}
	w.arch = arch
	for a := range sc.archives {
		step := sc.archives[a].step
		ivs := w.ivs[:0]
		for j, p := range pts {
			if int(arch[j]) != a {
				continue
			}
			t := p.Timestamp - p.Timestamp%step
			w.set(a, t, p.Value)
			if len(ivs) == 0 || ivs[len(ivs)-1] != t {
				ivs = append(ivs, t)
			}
		}
		w.ivs = ivs
		if len(ivs) == 0 {
			continue
		}
		higher := a
		for l := a + 1; l < len(sc.archives); l++ {
			lstep := sc.archives[l].step
			fitted := w.fitted[:0]
			for _, t := range ivs {
				f := t - t%lstep
				if len(fitted) == 0 || fitted[len(fitted)-1] != f {
					fitted = append(fitted, f)
				}
			}
			w.fitted = fitted
			further := false
			for _, f := range fitted {
				if w.propagate(higher, l, f) {
					further = true
				}
			}
			if !further {
				break
			}
			higher = l
		}
	}
	ser.fresh = false
	err := w.err
	if err == nil {
		err = w.flushSeries()
	}
	w.release()
	return err
}

// block returns the block of archive a holding aligned timestamp t.
func (w *writer) block(a int, t int64) *blockRef {
	span := w.sc.archives[a].step * blockSlots
	start := t - t%span
	for _, b := range w.blocks {
		if b.arch == a && b.start == start {
			return b
		}
	}
	var b *blockRef
	if n := len(w.free); n > 0 {
		b = w.free[n-1]
		w.free = w.free[:n-1]
	} else {
		b = new(blockRef)
		b.base.reset()
		b.dirty.reset()
	}
	b.arch, b.start, b.loaded = a, start, false
	w.blocks = append(w.blocks, b)
	return b
}

func (w *writer) set(a int, t int64, v float64) {
	b := w.block(a, t)
	b.dirty.set(int((t-b.start)/w.sc.archives[a].step), v)
	w.noteSet(a, t, v)
}

// load reads b's stored content, once.
func (w *writer) load(b *blockRef) {
	if b.loaded {
		return
	}
	b.loaded = true
	if w.ser.fresh || w.err != nil {
		return
	}
	// A batch handed off before may hold this block's newest operands
	// (handoff.go): read once it is committed.
	w.s.commits.Lock()
	//lint:ignore SA2001 an empty critical section: waiting out the commits is the point
	w.s.commits.Unlock()
	r := w.sc.archives[b.arch].ring
	key := makeDataKey(r.id, uint32(b.start), w.ser.id)
	// The merge of this key's operands codes fast (merge.go): its result
	// is only decoded here.
	w.s.readBack.Store(readBackHint(key[:]))
	v, closer, err := w.s.db.Get(key[:])
	w.s.readBack.Store(0)
	if errors.Is(err, pebble.ErrNotFound) {
		return
	}
	if err != nil {
		w.err = fmt.Errorf("reading block %x: %w", key, err)
		return
	}
	if err := b.base.apply(v); err != nil {
		w.err = fmt.Errorf("reading block %x: %w", key, err)
	}
	closer.Close()
}

// propagate aggregates archive h's slots in [l, l+step of lo) into archive
// lo if known/total >= xFilesFactor, and reports whether it did.
func (w *writer) propagate(h, lo int, l int64) bool {
	sc := w.sc
	hstep, lstep := sc.archives[h].step, sc.archives[lo].step
	total := int(lstep / hstep)
	if tl := w.tailFor(h, l); tl != nil {
		if tl.n == 0 || float64(tl.n)/float64(total) < sc.xff {
			return false
		}
		w.set(lo, l, tl.value(sc.method, total))
		return true
	}
	known, knownT := w.known[:0], w.knownT[:0]
	var last *blockRef
	for t := l; t < l+lstep; {
		b := w.block(h, t)
		last = b
		end := min(l+lstep, b.start+hstep*blockSlots)
		for ; t < end; t += hstep {
			slot := int((t - b.start) / hstep)
			if b.dirty.has(slot) {
				known = append(known, b.dirty.vals[slot])
				knownT = append(knownT, t)
				continue
			}
			w.load(b)
			if b.base.has(slot) {
				known = append(known, b.base.vals[slot])
				knownT = append(knownT, t)
			}
		}
	}
	w.known, w.knownT = known, knownT
	w.establishTail(h, l, lstep, last)
	if len(known) == 0 || float64(len(known))/float64(total) < sc.xff {
		return false
	}
	w.set(lo, l, sc.method.Aggregate(known, total))
	return true
}

// establishTail makes interval l of archive h the tail after it was read
// in full (w.known, w.knownT), if nothing newer of archive h is known to be
// in this write; b is the block holding the interval's end.
func (w *writer) establishTail(h int, l, lstep int64, b *blockRef) {
	ser := w.ser
	if w.err != nil {
		return
	}
	if ser.tails == 0 {
		ts := w.ownTails()
		for i := range ts {
			ts[i].n = tailNotOK // nothing known of the others yet
		}
	}
	tl := &w.tailList()[h]
	if tl.ok() && tl.curL > l {
		return // a newer interval is already tracked
	}
	hstep := w.sc.archives[h].step
	// The store holds nothing of archive h from the interval's end to the
	// first present slot after it in the same block (or the block's end).
	end := b.start + hstep*blockSlots
	for t := l + lstep; t < end; t += hstep {
		slot := int((t - b.start) / hstep)
		if b.dirty.has(slot) || (b.loaded && b.base.has(slot)) || !b.loaded && !ser.fresh {
			end = t
			break
		}
	}
	if end < l+lstep {
		end = l + lstep
	}
	nt := tail{curL: l, end: end}
	for i, v := range w.known {
		if nt.n > 0 {
			nt.acc = fold(w.sc.method, nt.acc, nt.n-1, nt.lastVal)
		}
		nt.n++
		nt.lastOff, nt.lastVal = uint32(w.knownT[i]-l), v
	}
	*tl = nt
}

// flushSeries stages one merge operand per dirty block.
func (w *writer) flushSeries() error {
	w.flushed = append(w.flushed, w.ser)
	for _, b := range w.blocks {
		if b.dirty.empty() {
			continue
		}
		r := w.sc.archives[b.arch].ring
		w.stageMerge(r.id, uint32(b.start), w.ser.id, &b.dirty)
	}
	return nil
}

func (w *writer) release() {
	for _, b := range w.blocks {
		if len(w.free) >= maxFreeBlocks {
			break
		}
		b.base.reset()
		b.dirty.reset()
		w.free = append(w.free, b)
	}
	clear(w.blocks)
	w.blocks = w.blocks[:0]
}

// sortedPoints sorts pts by timestamp, keeping arrival order among equal
// timestamps.
func sortedPoints(pts []storage.Point) []storage.Point {
	slices.SortStableFunc(pts, func(a, b storage.Point) int {
		switch {
		case a.Timestamp < b.Timestamp:
			return -1
		case a.Timestamp > b.Timestamp:
			return 1
		}
		return 0
	})
	return pts
}
