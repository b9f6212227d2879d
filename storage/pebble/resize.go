package pebble

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// Layout is what a series' stored schema fixes: archives (finest first),
// aggregation method and xFilesFactor.
type Layout struct {
	Archives     []schema.Retention
	Method       schema.Method
	XFilesFactor float64
}

// Differs reports whether other has different archives, method or
// xFilesFactor (compared as float32, as it is stored).
func (l Layout) Differs(other Layout) bool {
	return l.Method != other.Method || float32(l.XFilesFactor) != float32(other.XFilesFactor) ||
		!slices.Equal(l.Archives, other.Archives)
}

// SeriesLayout returns name's stored layout; ok is false when name is not
// stored.
func (s *Store) SeriesLayout(name string) (l Layout, ok bool) {
	ser := s.lookup(name)
	if ser == nil {
		return Layout{}, false
	}
	sc := s.schemaOf(ser)
	for _, a := range sc.archives {
		l.Archives = append(l.Archives, schema.Retention{SecondsPerPoint: a.step, Points: a.points})
	}
	l.Method, l.XFilesFactor = sc.method, sc.xff
	return l, true
}

// Names returns every stored series name (unsorted).
func (s *Store) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.sorted != nil {
		out := make([]string, len(s.sorted))
		for i, e := range s.sorted {
			out[i] = e.name
		}
		return out
	}
	out := make([]string, 0, s.names.Len())
	s.names.each(func(name string, _ *series) { out = append(out, name) })
	return out
}

// failResize drops what a failed ResizeSeries of name staged. Until its
// first commit the old series (ref oldRef) is untouched on disk: it is put
// back in memory. After one, the new series stands with the points
// committed so far. Caller holds writeMu.
func (s *Store) failResize(name string, oldRef uint32, err error) error {
	w := &s.w
	uncommitted := slices.Contains(w.createdNames, name)
	w.resetBatch()
	w.written, w.dropped = 0, 0
	s.forgetStaged()
	if uncommitted {
		s.mu.Lock()
		perr := s.names.put(name, oldRef)
		s.mu.Unlock()
		if perr != nil {
			return fmt.Errorf("resizing %q: %w (the old series is not back in memory: %v)", name, err, perr)
		}
		s.stats.series.Add(1)
	}
	return fmt.Errorf("resizing %q: %w", name, err)
}

// ResizeSeries re-shapes name to layout l at time now, with whisper-resize's
// semantics (as storage/whisper.Resize): every old archive is fetched over
// its whole retention, coarsest first, and its known points are written
// into a series of the new layout as one update each, finer archives last,
// so every new archive holds the finest data available, aggregated into
// coarser archives with the new method and xFilesFactor. The old series'
// name and data are replaced in the same pebble batch as the new series'
// first (coarsest) points; each further archive, and each chunk of
// maxSeriesChunk points, is committed after it. It fails with
// storage.ErrNotFound when name is not stored.
func (s *Store) ResizeSeries(name string, l Layout, now int64) error {
	rs := slices.Clone(l.Archives)
	schema.SortRetentions(rs)
	if err := schema.ValidateRetentions(rs); err != nil {
		return fmt.Errorf("resizing %q: %w", name, err)
	}
	old := s.lookup(name)
	if old == nil {
		return fmt.Errorf("resizing %q: %w", name, storage.ErrNotFound)
	}
	// Read everything first, as whisper-resize does.
	order := slices.Clone(s.schemaOf(old).archives)
	slices.SortStableFunc(order, func(a, b archive) int { return int(b.step - a.step) }) // coarsest first
	var data [][]storage.Point
	for _, a := range order {
		sr, err := s.Fetch(name, now-a.retention+a.step, now, now)
		if err != nil {
			return fmt.Errorf("resizing %q: %w", name, err)
		}
		var pts []storage.Point
		for i, v := range sr.Values {
			if !math.IsNaN(v) {
				pts = append(pts, storage.Point{Timestamp: sr.Start + int64(i)*sr.Step, Value: v})
			}
		}
		if len(pts) > 0 {
			data = append(data, pts)
		}
	}

	s.lockWriter()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	if err := s.writable(); err != nil {
		return err
	}
	oldRef, _ := s.names.ref(name)
	if s.names.get(name) != old {
		return fmt.Errorf("resizing %q: the series changed meanwhile", name)
	}
	w := &s.w
	if w.batch == nil {
		w.batch = s.db.NewBatch()
	}
	w.gen++
	fail := func(err error) error { return s.failResize(name, oldRef, err) }
	// The old series' blocks (its name record is overwritten below).
	clock := s.opts.Now()
	for i, a := range s.schemaOf(old).archives {
		r := a.ring
		lo, hi := blockSpan(r, clock, i == 0)
		for bs := lo; bs <= hi; bs += r.step * blockSlots {
			k := makeDataKey(r.id, uint32(bs), old.id)
			if err := w.batch.Delete(k[:], nil); err != nil {
				return fail(err)
			}
		}
	}
	sc, err := s.schemaFor(w.batch, rs, l.Method, l.XFilesFactor)
	if err != nil {
		return fail(err)
	}
	ser, err := s.createSeries(name, sc)
	if err != nil {
		return fail(err)
	}
	ser.fresh = true
	s.stats.series.Add(-1) // createSeries counted it again
	w.written, w.dropped = 0, 0
	for _, pts := range data {
		if err := w.writeSeriesChunks(ser, 0, pts, now); err != nil {
			if cerr := (*commitError)(nil); errors.As(err, &cerr) {
				err = cerr.err
			}
			return fail(err)
		}
	}
	if err := w.commit(); err != nil {
		return fail(err)
	}
	w.written, w.dropped = 0, 0
	return nil
}
