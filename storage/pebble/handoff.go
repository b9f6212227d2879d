package pebble

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/plumbago/plumbago/storage"
)

// A Write's last commit runs after the Write let writeMu go.
//
// Staging a batch (reading the series' state, folding the tails, encoding
// the merge operands, sorting them) needs the writer; committing it
// (pebble's log record and the memtable inserts, about a third of a
// Write's CPU on W1) needs only the batch. pebble's commit pipeline takes
// concurrent batches: it writes their log records one after the other and
// inserts them into the memtable in parallel. So Write stages under
// writeMu, hands the batch off, and commits it after unlocking: the write
// buffer's next shard stages its batch meanwhile, and after a burst, when
// every shard has a backlog and ingest is done, both cores write.
//
// What the committed batch settles runs without the writer: the written
// counts of its series (blockcache.go) and the store's counters. A Write
// still returns only once its batch is committed, so what the write buffer
// counts as committed is in pebble's log as before.
//
// Everything else that holds writeMu (deletes, renames, resizes, imports,
// Close) takes lockWriter, which waits for the commits in flight, and a
// Write that reads a stored block waits for them too (writer.load): a block
// read sees every batch handed off before.
//
// A batch that created schemas or rings is committed under writeMu as
// before (the writer drops them again if the commit fails, and later
// batches may already use them). A handed-off batch's commit that fails
// takes writeMu again and forgets what the batch staged: its new names
// and the tails of its series (failHandoff). A series belongs to one of
// the write buffer's shards, whose Writes follow each other, so no other
// Write stages that series meanwhile.

// handoff is a batch committed after Write unlocked writeMu.
type handoff struct {
	batch *pebble.Batch
	// stage is what the writer staged for batch, handed to it in key
	// order before the commit (batchorder.go).
	stage stageBufs
	// flushed are the batch's series (written counts bumped after the
	// commit); names the series it created.
	flushed []*series
	names   []string
	logged  int
	sync    bool
}

// lockWriter takes writeMu once no handed-off commit is in flight. Callers
// that change what a Write's commit assumes (deletes, renames, Close, a
// reopen) use it instead of writeMu.Lock.
func (s *Store) lockWriter() {
	s.writeMu.Lock()
	s.commits.Lock()
	//lint:ignore SA2001 an empty critical section: waiting out the commits is the point
	s.commits.Unlock()
}

// canHandOff reports whether the staged batch may commit after writeMu is
// let go: it created no schema and no ring.
func (w *writer) canHandOff() bool {
	return len(w.createdSchemas) == 0 && w.ringMark == len(w.s.ringList)
}

// handOff takes the batch and what is staged for it, with what its commit
// settles, from the writer (nil: nothing to commit). Caller holds writeMu.
// The staged entries reach the batch in commitHandoff: sorting them and
// copying them into the batch (a quarter of a Write of new series) runs
// beside the next Write's staging.
func (w *writer) handOff() (*handoff, error) {
	if err := w.stageCount(); err != nil {
		return nil, err
	}
	if w.batch.Empty() && w.stageBufs.empty() {
		return nil, nil
	}
	h := w.s.takeHandoff()
	// The writer takes the handoff's emptied batch (or none: a new one)
	// and staging buffers.
	h.batch, w.batch = w.batch, h.batch
	w.noteStaged(&w.stageBufs)
	h.stage, w.stageBufs = w.stageBufs, h.stage
	h.flushed, w.flushed = w.flushed, h.flushed[:0]
	h.names, w.createdNames = w.createdNames, h.names[:0]
	h.sync = w.s.opts.SyncInterval <= 0
	return h, nil
}

// commitHandoff hands h's staged entries to its batch and commits it; the
// caller holds commits shared, not writeMu.
func (s *Store) commitHandoff(h *handoff) error {
	opts := pebble.NoSync
	if h.sync {
		opts = pebble.Sync
	}
	err := h.stage.apply(h.batch)
	if err != nil {
		err = fmt.Errorf("staging merges: %w", err)
	} else {
		h.logged = h.batch.Len()
		if err = h.batch.Commit(opts); err != nil {
			err = fmt.Errorf("committing batch: %w", err)
		}
	}
	for _, ser := range h.flushed {
		ser.written.Add(1)
	}
	if err != nil {
		return err
	}
	s.noteWrite(h.logged)
	return nil
}

// maxFreeHandoffs bounds the handoffs kept for reuse (one per Write in
// flight: the write buffer's shards, 2 x GOMAXPROCS by default).
const maxFreeHandoffs = 16

// keptStages is how many free handoffs keep their staging buffers.
const keptStages = 2

// takeHandoff returns a handoff from the free list, or a new one.
func (s *Store) takeHandoff() *handoff {
	s.freeMu.Lock()
	defer s.freeMu.Unlock()
	if n := len(s.freeHandoffs); n > 0 {
		h := s.freeHandoffs[n-1]
		s.freeHandoffs[n-1] = nil
		s.freeHandoffs = s.freeHandoffs[:n-1]
		return h
	}
	return new(handoff)
}

// release empties h, keeping its batch (reset, as the writer keeps its
// own between commits: its buffer is not grown again from nothing at every
// commit), and puts it on the free list.
func (s *Store) release(h *handoff) {
	h.batch.Reset()
	h.stage.reset()
	clear(h.flushed)
	h.flushed = h.flushed[:0]
	clear(h.names)
	h.names = h.names[:0]
	s.freeMu.Lock()
	defer s.freeMu.Unlock()
	if len(s.freeHandoffs) >= keptStages {
		// Staging buffers (up to maxRetainedStage each) are kept for the
		// Writes serve's two shards have in flight, not for every free
		// handoff.
		h.stage = stageBufs{}
	}
	if len(s.freeHandoffs) < maxFreeHandoffs {
		s.freeHandoffs = append(s.freeHandoffs, h)
		return
	}
	_ = h.batch.Close() // committed or lost: nothing to report
}

// dropHandoffs lets the free handoffs' batches go: they belong to the db
// being closed or swapped. Caller holds lockWriter.
func (s *Store) dropHandoffs() {
	s.freeMu.Lock()
	defer s.freeMu.Unlock()
	for _, h := range s.freeHandoffs {
		_ = h.batch.Close() // empty: nothing to report
	}
	clear(s.freeHandoffs)
	s.freeHandoffs = s.freeHandoffs[:0]
}

// failHandoff forgets what the lost batch h staged, as failCommit does for
// a batch committed under writeMu, and returns the failures of b's series
// from staged on.
func (s *Store) failHandoff(h *handoff, b *storage.Batch, staged int, failed []storage.SeriesError, err error) error {
	s.lockWriter()
	defer s.writeMu.Unlock()
	w := &s.w
	w.countID = 0 // stage the series count again with the next batch
	for _, ser := range h.flushed {
		w.forgetTails(ser)
	}
	out := failed[:0]
	for _, f := range failed {
		if f.Index < staged {
			out = append(out, f)
		}
	}
	for i := staged; i < len(b.Series); i++ {
		sp := &b.Series[i]
		if len(sp.Points) == 0 || s.names.get(sp.Name) == nil {
			continue // nothing, or no schema: dropped and counted already
		}
		out = append(out, storage.SeriesError{Index: i, Name: sp.Name, Err: fmt.Errorf("committing: %w", err)})
	}
	s.mu.Lock()
	for _, name := range h.names {
		s.names.remove(name)
		s.stats.series.Add(-1)
	}
	s.mu.Unlock()
	return &storage.WriteError{Failed: out}
}
