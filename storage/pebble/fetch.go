package pebble

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// ErrInvalidInterval is whisper's InvalidTimeInterval: from is after until.
var ErrInvalidInterval = errors.New("invalid time interval: from is after until")

var slotPool = sync.Pool{New: func() any { s := new(slotBuf); s.reset(); return s }}

// Fetch returns name's values over (from, until] as whisper's file_fetch
// does at time now (now <= 0 means the store's clock): from and until are
// clamped to [now-maxRetention, now], the archive is the finest whose
// retention covers now-from, and the result runs from
// floor(from/step)*step+step to floor(until/step)*step+step (one step more
// if those are equal). Where whisper returns None (the range is entirely in
// the future or beyond retention) Fetch returns a series with no values,
// Start = from and Step = the finest archive's step (as storage/whisper does).
func (s *Store) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	ser := s.lookup(name)
	if ser == nil {
		return nil, storage.ErrNotFound
	}
	if !s.readDB() {
		return nil, ErrClosed
	}
	defer s.doneDB()
	if now <= 0 {
		now = s.opts.Now()
	}
	if from > until {
		return nil, fmt.Errorf("fetching %q from %d until %d: %w", name, from, until, ErrInvalidInterval)
	}
	sc := s.schemaOf(ser)
	out := &storage.Series{Name: name, Start: from, Step: sc.archives[0].step}
	oldest := now - sc.maxRetention
	if from > now || until < oldest {
		return out, nil
	}
	from = max(from, oldest)
	until = min(until, now)
	ai := schema.ArchiveFor(len(sc.archives), func(i int) int64 { return sc.archives[i].retention }, now-from)
	a := &sc.archives[ai]
	step := a.step
	fromI := from - floorMod(from, step) + step
	untilI := until - floorMod(until, step) + step
	if fromI == untilI {
		untilI += step
	}
	n := int((untilI - fromI) / step)
	out.Start, out.Step = fromI, step
	out.Values = storage.GetValues(n) // every value is written below
	out.Pooled = true
	fillNaN(out.Values)
	if err := s.readRange(ser, a, fromI, untilI, out.Values); err != nil {
		return nil, fmt.Errorf("fetching %q: %w", name, err)
	}
	return out, nil
}

// nanBlock is a block's worth of NaN, copied over a fetch's values
// before the present slots are (copy is several times faster than a
// store per value, and a range's first touch of fresh memory).
var nanBlock = func() (b [blockSlots]float64) {
	for i := range b {
		b[i] = math.NaN()
	}
	return
}()

// fillNaN sets every value of vals to NaN.
func fillNaN(vals []float64) {
	for len(vals) > 0 {
		vals = vals[copy(vals, nanBlock[:]):]
	}
}

// readRange fills vals[i] with the slot at from+i*step of archive a, for
// slots in [from, until) that are stored. Blocks come from the
// decoded-block cache when they are current there or pebble returns the
// bytes they were cached from (blockcache.go).
func (s *Store) readRange(ser *series, a *archive, from, until int64, vals []float64) error {
	step := a.step
	span := step * blockSlots
	written := ser.written.Load() // before any block is read
	var buf *slotBuf
	var key dataKey // one for every block: it escapes (pebble's Get)
	defer func() {
		if buf != nil {
			slotPool.Put(buf)
		}
	}()
	for bs := from - floorMod(from, span); bs < until; bs += span {
		if bs < 0 || bs > math.MaxUint32 {
			continue
		}
		lo := max(from, bs)
		hi := min(until, bs+span)
		first, last := int((lo-bs)/step), int((hi-bs)/step) // slots [first, last)
		out := vals[(lo-from)/step:]
		key = makeDataKey(a.ring.id, uint32(bs), ser.id)
		cb := s.decoded.get(&key)
		if cb.current(ser, written) {
			copyPresent(out, first, last, &cb.present, cb.vals, cb.lo)
			continue
		}
		v, closer, err := s.db.Get(key[:])
		if errors.Is(err, pebble.ErrNotFound) {
			// Remembered as absent until the series' next commit: a
			// range reaching past a series' last block (a window ending
			// now) does not ask pebble for it on every render.
			s.decoded.putAbsent(&key, ser, written)
			continue
		}
		if err != nil {
			return err
		}
		if cb != nil && !cb.absent && bytes.Equal(cb.enc, v) {
			closer.Close()
			s.decoded.refresh(&key, cb, ser, written)
			copyPresent(out, first, last, &cb.present, cb.vals, cb.lo)
			continue
		}
		if buf == nil {
			buf = slotPool.Get().(*slotBuf)
		}
		buf.reset()
		err = buf.apply(v)
		if err == nil {
			s.decoded.put(&key, v, buf, ser, written)
		}
		closer.Close()
		if err != nil {
			return fmt.Errorf("block %x: %w", key, err)
		}
		if !buf.empty() {
			copyPresent(out, first, last, &buf.present, buf.vals[buf.lo:buf.hi+1], buf.lo)
		}
	}
	return nil
}

// copyPresent copies the present slots of [first, last) into out (slot
// first at out[0]); vals holds the slots from vlo on.
func copyPresent(out []float64, first, last int, present *[blockSlots / 64]uint64, vals []float64, vlo int) {
	end := min(last, vlo+len(vals))
	for slot := max(first, vlo); slot < end; {
		w := present[slot>>6] >> (uint(slot) & 63)
		if w == 0 {
			slot = (slot | 63) + 1
			continue
		}
		tz := bits.TrailingZeros64(w)
		slot += tz
		if slot >= end {
			break
		}
		// The run of present slots from slot on, within this word.
		n := min(bits.TrailingZeros64(^(w >> uint(tz))), end-slot)
		copy(out[slot-first:slot-first+n], vals[slot-vlo:slot-vlo+n])
		slot += n
	}
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Step returns the step of the archive a Fetch of name over (from, now]
// would read (storage/cache's Options.Step). For a name not stored yet it
// answers from the schema the name would be created with; 0 if none
// matches.
func (s *Store) Step(name string, from, now int64) int64 {
	var archives []archive
	if ser := s.lookup(name); ser != nil {
		archives = s.schemaOf(ser).archives
	} else {
		sch, _, err := s.opts.Rules.Match(name)
		if err != nil || len(sch.Retentions) == 0 {
			return 0
		}
		for _, r := range sch.Retentions {
			archives = append(archives, archive{step: r.SecondsPerPoint, retention: r.MaxRetention()})
		}
	}
	maxRet := int64(0)
	for _, a := range archives {
		maxRet = max(maxRet, a.retention)
	}
	ai := schema.ArchiveFor(len(archives), func(i int) int64 { return archives[i].retention }, now-max(from, now-maxRet))
	return archives[ai].step
}
