package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"
	"github.com/plumbago/plumbago/storage/index"
)

// Loading the catalogue at Open. Rings and schemas are a handful of records
// and are read before Open returns. Names are one record a series (2 M of
// them take seconds): read in one pass into the name map while a second
// goroutine adds them to the name index in chunks, with the names' bytes
// and series structs carved from shared slabs rather than allocated one by
// one. With Options.LoadNamesInBackground, Open returns before the names
// are read: writers and lookups wait for them (the loader holds writeMu
// and mu), and Loaded tells when they are in.

// nameChunk is how many names the loader hands the index goroutine at once.
const nameChunk = 4096

// errLoadStopped is why a load ended early: the store was closed.
var errLoadStopped = errors.New("store closed while loading names")

// Loaded is closed once the series names are loaded (at once unless
// Options.LoadNamesInBackground). LoadErr then tells whether that failed.
func (s *Store) Loaded() <-chan struct{} { return s.loaded }

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

// finishLoad records the load's outcome; the loader still holds mu.
func (s *Store) finishLoad(err error) {
	if err != nil && !errors.Is(err, errLoadStopped) {
		s.loadErr = fmt.Errorf("loading the series names of pebble store %q: %w", s.opts.Dir, err)
		s.opts.Logger.Error("pebble store: the series names failed to load; writes are refused", "err", err)
	}
	s.stats.series.Store(int64(len(s.names)))
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
			s.nextSch = max(s.nextSch, id+1)
		}
	}
	return byID, it.Error()
}

// loadNames reads every name record into the name map and the index. The
// caller holds writeMu and mu (or nobody else can reach the store yet).
func (s *Store) loadNames(byID map[uint32]*seriesSchema) error {
	if v, closer, err := s.db.Get([]byte{prefixCount}); err == nil {
		if n, k := binary.Uvarint(v); k > 0 && n < 1<<32 {
			s.names = make(map[string]*series, n)
		}
		closer.Close()
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixName}, UpperBound: prefixEnd(prefixName)})
	if err != nil {
		return err
	}
	defer it.Close()
	chunks := make(chan []string, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		addToIndex(s.index, chunks)
	}()
	defer wg.Wait()
	defer close(chunks)
	var (
		text  []byte   // slab the names' bytes are carved from
		slab  []series // slab the series are carved from
		chunk = make([]string, 0, nameChunk)
	)
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		id, n := binary.Uvarint(v)
		sch, m := binary.Uvarint(v[max(n, 0):])
		if n <= 0 || m <= 0 || id > math.MaxUint32 || sch > math.MaxUint32 {
			return fmt.Errorf("decoding name record %q: bad value %x", k[1:], v)
		}
		sc := byID[uint32(sch)]
		if sc == nil {
			return fmt.Errorf("name %q refers to unknown schema %d", k[1:], sch)
		}
		raw := k[1:]
		if len(raw) == 0 {
			return fmt.Errorf("decoding name record %x: empty name", k)
		}
		if len(text) < len(raw) {
			text = make([]byte, max(64<<10, len(raw)))
		}
		copy(text, raw)
		name := unsafe.String(&text[0], len(raw))
		text = text[len(raw):]
		if len(slab) == 0 {
			slab = make([]series, 1024)
		}
		ser := &slab[0]
		slab = slab[1:]
		ser.id, ser.schema = uint32(id), sc
		s.names[name] = ser
		s.nextID = max(s.nextID, uint32(id)+1)
		chunk = append(chunk, name)
		if len(chunk) == nameChunk {
			chunks <- chunk
			chunk = make([]string, 0, nameChunk)
			select {
			case <-s.closed:
				return errLoadStopped
			default:
			}
		}
	}
	if len(chunk) > 0 {
		chunks <- chunk
	}
	return it.Error()
}

// addToIndex adds every chunk of names to idx.
func addToIndex(idx *index.Index, chunks <-chan []string) {
	for c := range chunks {
		idx.AddBatch(c)
	}
}
