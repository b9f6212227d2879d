package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"
	"github.com/plumbago/plumbago/storage/index"
)

// Loading the catalogue at Open. Rings and schemas are a handful of records
// and are read before Open returns. Names are one record a series (2 M of
// them take seconds), loaded in two steps:
//
//  1. readNames reads every record in one pass, in pebble's key order (the
//     names sorted bytewise), into a sorted slice of entries while a second
//     goroutine adds them to the name index in chunks; the names' bytes and
//     series structs are carved from shared slabs rather than allocated one
//     by one. Then Indexed is closed: Find is complete, and lookups (Fetch,
//     Names) answer by binary search over the sorted entries.
//  2. The name map is built from the entries (most of the load's CPU: 2 M
//     inserts into a hash map), swapped in, and Loaded is closed. Writers,
//     deletes and renames wait for this step (it holds writeMu).
//
// With Options.LoadNamesInBackground, Open returns before step 1 and both
// steps run in a goroutine; until Indexed is closed, lookups wait (the
// loader holds mu) and the caller holds back finds.

// nameChunk is how many names the loader hands the index goroutine at once.
const nameChunk = 4096

// maxNamesHint bounds the entries allocated ahead from the stored series
// count (a bad count record must not allocate gigabytes); a store with
// more names grows the slice as it reads them.
const maxNamesHint = 1 << 24

// errLoadStopped is why a load ended early: the store was closed.
var errLoadStopped = errors.New("store closed while loading names")

// Loaded is closed once the series names are loaded (at once unless
// Options.LoadNamesInBackground). LoadErr then tells whether that failed.
func (s *Store) Loaded() <-chan struct{} { return s.loaded }

// Indexed is closed once every stored name is in the name index and name
// lookups answer (at once unless Options.LoadNamesInBackground), which is
// before Loaded; a failed load closes it after Loaded, so LoadErr tells.
// Finds and reads may run from then on; writes still wait for Loaded.
func (s *Store) Indexed() <-chan struct{} { return s.indexed }

// LoadErr is why loading the names failed, or nil; valid once Loaded is
// closed. A store whose names failed to load refuses writes and reports
// the error in Health.
func (s *Store) LoadErr() error {
	select {
	case <-s.loaded:
		return s.loadErr
	default:
		return nil
	}
}

// ScanDone is Loaded, under the name the server asks of a backend that
// finds its stored series in the background (as whisper's startup scan).
func (s *Store) ScanDone() <-chan struct{} { return s.loaded }

// finishLoad records the load's outcome; the loader still holds writeMu.
func (s *Store) finishLoad(err error) {
	if err != nil && !errors.Is(err, errLoadStopped) {
		s.loadErr = fmt.Errorf("loading the series names of pebble store %q: %w", s.opts.Dir, err)
		s.opts.Logger.Error("pebble store: the series names failed to load; writes are refused", "err", err)
	}
	s.stats.series.Store(int64(s.names.Len()))
}

// loadNames runs both steps of the load (see the top of this file). The
// caller holds writeMu and mu; loadNames releases mu after step 1 and
// leaves writeMu held. It closes Indexed after step 1; the caller closes
// Loaded (closeLoad).
func (s *Store) loadNames(byID map[uint32]*seriesSchema) (err error) {
	muHeld := true
	defer func() {
		if muHeld {
			s.mu.Unlock()
		}
	}()
	nt := newNameTable()
	entries, err := s.readNames(byID, nt)
	if err != nil {
		return err
	}
	s.sorted = entries
	s.stats.series.Store(int64(len(entries)))
	s.mu.Unlock()
	muHeld = false
	close(s.indexed)
	// Finds and reads answer: pebble may compact now (compactgate.go).
	s.releaseCompactions()
	if err := s.nameMap(nt, entries); err != nil {
		return err
	}
	s.mu.Lock()
	s.names, s.sorted = nt, nil
	s.mu.Unlock()
	return nil
}

// nameEntry is one stored name and its series, in readNames' sorted slice.
type nameEntry struct {
	name string
	ser  *series
}

// lookupSorted returns name's series from the sorted entries of a load
// between its two steps, or nil. Caller holds mu.
func (s *Store) lookupSorted(name string) *series {
	i, ok := slices.BinarySearchFunc(s.sorted, name, func(e nameEntry, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return nil
	}
	return s.sorted[i].ser
}

// nameMap names the series of the loaded entries in nt, whose refs
// readNames handed out in the entries' order.
func (s *Store) nameMap(nt *nameTable, entries []nameEntry) error {
	for len(nt.slots)*3 < len(entries)*4 {
		nt.slots = make([]uint64, 2*len(nt.slots))
	}
	for i, e := range entries {
		if err := nt.put(e.name, uint32(i)); err != nil {
			return err
		}
		if i%(1<<16) == 0 {
			select {
			case <-s.closed:
				return errLoadStopped
			default:
			}
		}
	}
	return nil
}

// closeLoad closes Loaded, then Indexed if the load did not (it failed or
// was stopped before its second step), and lets pebble compact if the load
// did not.
func (s *Store) closeLoad() {
	close(s.loaded)
	select {
	case <-s.indexed:
	default:
		close(s.indexed)
	}
	s.releaseCompactions()
}

// loadCatalogue reads the version, rings and schemas, and returns the
// schemas by id for loadNames.
func (s *Store) loadCatalogue() (map[uint32]*seriesSchema, error) {
	if err := s.checkVersion(); err != nil {
		return nil, err
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixRing}, UpperBound: prefixEnd(prefixSchema)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	// Keys sort R < S: rings first, so schemas resolve as they come.
	byRingID := map[uint16]*ring{}
	byID := map[uint32]*seriesSchema{}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		switch k[0] {
		case prefixRing:
			if len(k) != 3 {
				return nil, fmt.Errorf("decoding ring key %x", k)
			}
			step, n := binary.Uvarint(v)
			points, m := binary.Uvarint(v[max(n, 0):])
			if n <= 0 || m <= 0 || step == 0 || points == 0 || step > math.MaxUint32 || points > math.MaxUint32 {
				return nil, fmt.Errorf("decoding ring record %x: bad value %x", k, v)
			}
			r := &ring{id: binary.BigEndian.Uint16(k[1:]), step: int64(step), points: int64(points)}
			r.retention = r.step * r.points
			s.rings[[2]int64{r.step, r.points}] = r
			s.ringList = append(s.ringList, r)
			byRingID[r.id] = r
		case prefixSchema:
			if len(k) != 5 {
				return nil, fmt.Errorf("decoding schema key %x", k)
			}
			id := binary.BigEndian.Uint32(k[1:])
			raw := bytes.Clone(v)
			method, xff, ringIDs, err := decodeSchema(raw)
			if err != nil {
				return nil, err
			}
			sc := &seriesSchema{id: id, method: method, xff: xff, key: string(raw)}
			for _, rid := range ringIDs {
				r := byRingID[rid]
				if r == nil {
					return nil, fmt.Errorf("schema %d refers to unknown ring %d", id, rid)
				}
				sc.archives = append(sc.archives, archive{step: r.step, points: r.points, retention: r.retention, ring: r})
				sc.maxRetention = max(sc.maxRetention, r.retention)
			}
			s.noteKeep(sc)
			byID[id] = sc
			s.schemas[sc.key] = sc
			s.addSchema(sc)
			s.nextSch = max(s.nextSch, id+1)
		}
	}
	return byID, it.Error()
}

// readNames reads every name record, in key order, into sorted entries
// and the index (step 1 of the load). The caller holds writeMu and mu.
func (s *Store) readNames(byID map[uint32]*seriesSchema, nt *nameTable) ([]nameEntry, error) {
	var entries []nameEntry
	if v, closer, err := s.db.Get([]byte{prefixCount}); err == nil {
		if n, k := binary.Uvarint(v); k > 0 {
			entries = make([]nameEntry, 0, min(n, maxNamesHint))
		}
		closer.Close()
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixName}, UpperBound: prefixEnd(prefixName)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	// The index goroutine is handed the entries read since the last chunk;
	// a slice sent stays valid if append moves entries (its elements are
	// not written again).
	chunks := make(chan []nameEntry, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		addToIndex(s.index, chunks)
	}()
	defer wg.Wait()
	defer close(chunks)
	var (
		text []byte // slab the names' bytes are carved from
		sent int    // entries handed to the index goroutine
	)
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		id, n := binary.Uvarint(v)
		sch, m := binary.Uvarint(v[max(n, 0):])
		if n <= 0 || m <= 0 || id > math.MaxUint32 || sch > math.MaxUint32 {
			return nil, fmt.Errorf("decoding name record %q: bad value %x", k[1:], v)
		}
		sc := byID[uint32(sch)]
		if sc == nil {
			return nil, fmt.Errorf("name %q refers to unknown schema %d", k[1:], sch)
		}
		raw := k[1:]
		if len(raw) == 0 {
			return nil, fmt.Errorf("decoding name record %x: empty name", k)
		}
		if len(text) < len(raw) {
			text = make([]byte, max(64<<10, len(raw)))
		}
		copy(text, raw)
		name := unsafe.String(&text[0], len(raw))
		text = text[len(raw):]
		_, ser, err := nt.add() // ref len(entries)
		if err != nil {
			return nil, err
		}
		ser.id, ser.sch = uint32(id), sc.at
		entries = append(entries, nameEntry{name, ser})
		s.nextID = max(s.nextID, uint32(id)+1)
		if len(entries)-sent == nameChunk {
			chunks <- entries[sent:]
			sent = len(entries)
			select {
			case <-s.closed:
				return nil, errLoadStopped
			default:
			}
		}
	}
	if len(entries) > sent {
		chunks <- entries[sent:]
	}
	return entries, it.Error()
}

// addToIndex adds the names of every chunk of entries to idx.
func addToIndex(idx *index.Index, chunks <-chan []nameEntry) {
	names := make([]string, 0, nameChunk)
	for c := range chunks {
		names = names[:0]
		for _, e := range c {
			names = append(names, e.name)
		}
		idx.AddBatch(names)
	}
}
