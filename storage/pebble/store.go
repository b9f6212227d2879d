package pebble

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/diskspace"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// Store is the pebble backend. It is safe for concurrent use; Writes are
// serialised (each Write is one pebble batch).
type Store struct {
	db    *pebble.DB
	opts  Options
	index *index.Index
	// decoded caches recently read blocks decoded (blockcache.go).
	decoded *decodedCache

	lastNoSchemaLog atomic.Int64 // unix second of the last "no schema" log line

	// mu guards the maps below. Only Write/import (holding writeMu) mutate
	// them, so the writer reads them without mu.
	mu      sync.RWMutex
	names   *nameTable               // nametable.go
	schemas map[string]*seriesSchema // by encoded record
	// schemaTab holds every schema by its index (series.sch); loaded
	// without mu (meta.go, addSchema).
	schemaTab atomic.Pointer[[]*seriesSchema]
	rings     map[[2]int64]*ring // by (step, points)
	ringList  []*ring
	nextID    uint32
	nextSch   uint32

	writeMu sync.Mutex
	w       writer
	// readBack holds readBackHint of the block the writer reads back
	// (writer.load), 0 otherwise: its merge codes fast (merge.go).
	readBack atomic.Uint64
	// commits is held shared by each Write's last commit, which runs
	// after the Write let writeMu go (handoff.go); lockWriter takes it
	// exclusively to wait them out.
	commits sync.RWMutex
	// freeHandoffs keeps the state of those commits, with their batches,
	// for reuse (handoff.go).
	freeMu       sync.Mutex
	freeHandoffs []*handoff
	retMu        sync.Mutex // serialises EnforceRetention (ring.cut)

	compactMu sync.Mutex
	toCompact map[uint16][2]int64 // ring -> block starts DeleteSeries left tombstones in (series.go)

	space    diskspace.Guard
	readOnly atomic.Bool           // opened read-only (volume full or read-only)
	roReason atomic.Pointer[error] // why, while readOnly
	stall    stall                 // holds pebble's writes the volume refuses (stallfs.go)
	// gate holds the writable db's compactions until the names are
	// indexed (compactgate.go); nil while read-only.
	gate atomic.Pointer[compactionGate]

	// loaded is closed once the names are loaded; loadErr is why that
	// failed (set before loaded is closed). indexed is closed once the
	// index holds every name and lookups answer, before loaded (after it
	// when the load failed); sorted holds the names by then, until the
	// name map is built. See load.go.
	loaded  chan struct{}
	indexed chan struct{}
	loadErr error
	sorted  []nameEntry // guarded by mu

	stats struct {
		written, dropped, droppedOld, droppedNoSchema, series atomic.Int64
		idleFlushes                                           atomic.Int64
	}

	// writes counts commits that reached pebble's memtable (noteWrite),
	// logged their bytes; lastWrite is the monotonic time of the latest,
	// for the idle flush and the sync loop (settle.go).
	writes    atomic.Uint64
	logged    atomic.Uint64
	lastWrite atomic.Int64

	// dbMu is held shared by readers of db outside writeMu (Fetch, Stats,
	// Checkpoint, EnforceRetention) and exclusively by Close.
	dbMu      sync.RWMutex
	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup
}

var _ storage.Store = (*Store)(nil)

// errReadOnlyAsked is why a store opened with Options.ReadOnly is read-only.
var errReadOnlyAsked = errors.New("opened with Options.ReadOnly")

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("pebble store closed")

// Open opens (creating if needed) the store in opts.Dir and loads the name
// index: before it returns, or with Options.LoadNamesInBackground after
// (Loaded). On a read-only volume, or one whose free space is at or below
// Options.MinFreeBytes (where pebble could not complete the flush that
// follows its log replay), it opens the store read-only instead: queries
// work, writes fail with storage.ErrReadOnly, and a background check
// reopens it for writing once the volume is writable and has room.
func Open(opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if opts.ReadOnly {
		// pebble would create a store; a read-only one serves an existing one.
		if m, _ := filepath.Glob(filepath.Join(opts.Dir, "*MANIFEST-*")); len(m) == 0 {
			return nil, fmt.Errorf("opening pebble store %q read-only: no pebble store there", opts.Dir)
		}
	} else if err := os.MkdirAll(opts.Dir, 0o755); err != nil && !errors.Is(err, syscall.EROFS) {
		return nil, fmt.Errorf("creating pebble dir %q: %w", opts.Dir, err)
	}
	s := &Store{
		opts:   opts,
		index:  opts.Index,
		space:  diskspace.Guard{Dir: opts.Dir, Reserve: opts.MinFreeBytes},
		closed: make(chan struct{}),
		// The decoded-block cache takes its share of CacheSize from
		// pebble's block cache (openDB).
		decoded: newDecodedCache(decodedCacheBytes(opts.CacheSize)),
	}
	s.stall = stall{check: s.space.Check, interval: opts.SpaceCheckInterval, log: opts.Logger}
	s.w.init(s)
	db, err := s.openDB()
	if err != nil {
		return nil, err
	}
	s.db = db
	s.resetMaps()
	byID, err := s.loadCatalogue()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("loading pebble store %q: %w", opts.Dir, err)
	}
	s.w.ringMark = len(s.ringList)
	s.loaded, s.indexed = make(chan struct{}), make(chan struct{})
	if opts.LoadNamesInBackground {
		// Held until the names are in: writers and lookups wait (load.go).
		s.writeMu.Lock()
		s.mu.Lock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.finishLoad(s.loadNames(byID))
			s.writeMu.Unlock()
			s.closeLoad()
		}()
	} else {
		s.mu.Lock()
		if err := s.loadNames(byID); err != nil {
			db.Close()
			return nil, fmt.Errorf("loading pebble store %q: %w", opts.Dir, err)
		}
		s.finishLoad(nil)
		s.closeLoad()
	}
	if opts.SyncInterval > 0 {
		s.wg.Add(1)
		go s.syncLoop()
	}
	s.wg.Add(1)
	go s.retentionLoop()
	if opts.IdleFlush > 0 && !opts.ReadOnly {
		s.wg.Add(1)
		go s.idleFlushLoop()
	}
	if s.readOnly.Load() && !opts.ReadOnly {
		s.wg.Add(1)
		go s.reopenLoop()
	}
	return s, nil
}

// openDB opens pebble read-write, or read-only when the volume cannot take
// writes (see Open).
func (s *Store) openDB() (*pebble.DB, error) {
	dir := s.opts.Dir
	if s.opts.ReadOnly {
		return s.openReadOnly(errReadOnlyAsked)
	}
	if err := s.space.Check(); err != nil {
		s.opts.Logger.Warn("pebble store: opening read-only until the volume can take writes", "dir", dir, "reason", err)
		return s.openReadOnly(err)
	}
	po, gate := s.writableOptions()
	db, err := pebble.Open(dir, po)
	if err == nil {
		s.gate.Store(gate)
		return db, nil
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS) {
		s.opts.Logger.Warn("pebble store: opening read-only until the volume can take writes", "dir", dir, "err", err)
		return s.openReadOnly(err)
	}
	return nil, fmt.Errorf("opening pebble store %q: %w", dir, err)
}

func (s *Store) openReadOnly(why error) (*pebble.DB, error) {
	po := pebbleOptions(s.opts)
	po.ReadOnly = true
	po.FS = readOnlyLockFS{FS: po.FS, noCreate: s.opts.ReadOnly}
	db, err := pebble.Open(s.opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("opening pebble store %q read-only (%v): %w", s.opts.Dir, why, err)
	}
	s.readOnly.Store(true)
	s.roReason.Store(&why)
	return db, nil
}

// readOnlyLockFS lets a read-only pebble open on a read-only volume, where
// its LOCK file cannot be opened for writing: no other process can write
// there either, so the lock is not needed.
// With noCreate (Options.ReadOnly) a missing LOCK file is not created, so
// serving a checkpoint leaves it as it was; an existing one is still
// locked, which keeps a read-only node off a store a writer has open.
type readOnlyLockFS struct {
	vfs.FS
	noCreate bool
}

func (f readOnlyLockFS) Lock(name string) (io.Closer, error) {
	if f.noCreate {
		if _, err := f.FS.Stat(name); errors.Is(err, os.ErrNotExist) {
			return noLock{}, nil
		}
	}
	c, err := f.FS.Lock(name)
	if errors.Is(err, syscall.EROFS) {
		return noLock{}, nil
	}
	return c, err
}

type noLock struct{}

func (noLock) Close() error { return nil }

// resetMaps empties the in-memory catalogue before load.
func (s *Store) resetMaps() {
	s.names = newNameTable()
	s.schemas = make(map[string]*seriesSchema)
	s.rings = make(map[[2]int64]*ring)
	s.ringList = nil
	s.nextID, s.nextSch = 0, 0
	s.w.memo = schemaMemo{}
}

// writableOptions are pebble's options for a read-write open, with its
// compactions held until the gate is released (compactgate.go): its file
// system holds the writes the volume refuses (stallfs.go).
func (s *Store) writableOptions() (*pebble.Options, *compactionGate) {
	po := pebbleOptions(s.opts)
	po.Merger = newBlockMerger(&s.readBack)
	po.FS = stallFS{FS: po.FS, st: &s.stall}
	return po, holdCompactions(po)
}

// releaseCompactions lets the writable db compact (compactgate.go).
func (s *Store) releaseCompactions() { s.gate.Load().release() }

// writable reports why the store cannot take a write now, or nil.
func (s *Store) writable() error {
	if err := s.LoadErr(); err != nil {
		return err
	}
	if s.readOnly.Load() {
		return fmt.Errorf("%w: opened read-only: %v", storage.ErrReadOnly, *s.roReason.Load())
	}
	if err := s.stall.err(); err != nil {
		return err
	}
	return s.space.Check()
}

// Health reports why the store cannot take writes (read-only, volume full
// or below the free-space reserve, or pebble's own writes held because the
// volume refused one), or nil when it can.
func (s *Store) Health() error {
	if s.opts.ReadOnly {
		return nil // read-only as asked: healthy, and the volume's space is no concern
	}
	return s.writable()
}

// reopenLoop waits, in a store opened read-only, for the volume to be
// writable with room above the reserve, then reopens pebble for writing.
func (s *Store) reopenLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SpaceCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
		if s.space.Check() != nil {
			continue
		}
		if err := s.reopenWritable(); err != nil {
			s.opts.Logger.Error("pebble store: reopening for writing; staying read-only", "err", err)
			continue
		}
		s.opts.Logger.Info("pebble store: the volume has room again; reopened for writing", "dir", s.opts.Dir)
		return
	}
}

// reopenWritable swaps the read-only pebble for a read-write one. The
// catalogue in memory stays valid: nothing was written meanwhile.
func (s *Store) reopenWritable() error {
	s.lockWriter()
	defer s.writeMu.Unlock()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	if err := s.db.Close(); err != nil {
		s.opts.Logger.Warn("pebble store: closing the read-only store", "err", err)
	}
	po, gate := s.writableOptions()
	db, err := pebble.Open(s.opts.Dir, po)
	if err != nil {
		why := *s.roReason.Load()
		ro, rerr := s.openReadOnly(why)
		if rerr != nil {
			s.db = nil // nothing open: every operation now fails with ErrClosed
			return errors.Join(err, rerr)
		}
		s.db = ro
		return err
	}
	s.db = db
	// The names were loaded before (this holds writeMu): nothing to wait for.
	s.gate.Store(gate)
	gate.release()
	s.w.batch = nil
	s.dropHandoffs()
	if err := s.checkVersion(); err != nil {
		return err
	}
	s.readOnly.Store(false)
	return nil
}

// sstableBlockSize is the target size of an sstable data block.
const sstableBlockSize = 32 << 10

func pebbleOptions(o Options) *pebble.Options {
	po := &pebble.Options{
		FormatMajorVersion:          pebble.FormatNewest,
		Merger:                      blockMerger,
		CacheSize:                   o.CacheSize - decodedCacheBytes(o.CacheSize),
		MemTableSize:                uint64(o.MemTableSize),
		MemTableStopWritesThreshold: 4,
		// One level-0 sublevel is already worth a compaction into Lbase
		// (pebble's default, 4, waits for two): otherwise the file an idle
		// flush leaves, or a run of flushes that do not overlap, stays in
		// level 0, and pebble's compaction debt (which counts level 0 and
		// Lbase whenever level 0 holds a file) never reaches zero.
		L0CompactionThreshold: 2,
		// Non-overlapping level-0 files also score by count, files /
		// threshold: with pebble's default, 500, 499 of them score below 1
		// and sit in level 0 for good once writes stop.
		L0CompactionFileThreshold:  100,
		L0StopWritesThreshold:      24,
		Logger:                     quietLogger{o.Logger},
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
		Cleaner:                    walDeleter{},
	}
	if o.fs != nil {
		po.FS = o.fs
	}
	po.EnsureDefaults()
	po.FS = walPreallocFS{FS: po.FS, max: max(o.WALPreallocateBytes, minPreallocChunk)}
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionBalanced })
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		// A value is a whole block of up to 1,024 slots (about 1 KiB on
		// noisy gauges): a 4 KiB sstable block (pebble's default) holds
		// four to six of them, and its fixed cost (columns' headers, the
		// trailer, an index entry) came to about 18 bytes per value,
		// 0.04 B/point on issue 19's gauges. 32 KiB blocks bring it to
		// about 6 (docs/pebble.md, "Key and sstable overhead").
		po.Levels[i].BlockSize = sstableBlockSize
	}
	return po
}

func (s *Store) checkVersion() error {
	v, closer, err := s.db.Get([]byte{prefixVersion})
	if errors.Is(err, pebble.ErrNotFound) {
		if s.readOnly.Load() {
			return nil // an empty store; the version is set when it is writable
		}
		return s.db.Set([]byte{prefixVersion}, []byte{formatVersion}, pebble.Sync)
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	if len(v) != 1 || v[0] != formatVersion {
		return fmt.Errorf("unsupported store format version %x (want %d)", v, formatVersion)
	}
	return nil
}

// noteKeep raises the keep margin of the rings feeding lower archives.
func (s *Store) noteKeep(sc *seriesSchema) {
	for i := 0; i+1 < len(sc.archives); i++ {
		r := sc.archives[i].ring
		r.keep = max(r.keep, sc.archives[i+1].step)
	}
}

// schemaFor returns (creating and staging into b if needed) the schema for
// the given retentions and aggregation. Caller holds writeMu.
func (s *Store) schemaFor(b *pebble.Batch, rets []schema.Retention, method schema.Method, xff float64) (*seriesSchema, error) {
	if len(rets) == 0 {
		return nil, errors.New("schema has no archives")
	}
	if !method.Valid() {
		return nil, fmt.Errorf("invalid aggregation method %d", method)
	}
	ringIDs := make([]uint16, len(rets))
	var newRings []*ring
	for i, rt := range rets {
		if rt.SecondsPerPoint <= 0 || rt.Points <= 0 || rt.SecondsPerPoint > math.MaxUint32 || rt.Points > math.MaxUint32 {
			return nil, fmt.Errorf("invalid retention %d:%d", rt.SecondsPerPoint, rt.Points)
		}
		r := s.rings[[2]int64{rt.SecondsPerPoint, rt.Points}]
		if r == nil {
			if len(s.ringList)+len(newRings) > math.MaxUint16 {
				return nil, errors.New("too many distinct archive shapes")
			}
			r = &ring{id: uint16(len(s.ringList) + len(newRings)), step: rt.SecondsPerPoint, points: rt.Points, retention: rt.SecondsPerPoint * rt.Points}
			newRings = append(newRings, r)
		}
		ringIDs[i] = r.id
	}
	key := encodeSchema(method, xff, ringIDs)
	if sc := s.schemas[string(key)]; sc != nil {
		return sc, nil
	}
	sc := &seriesSchema{id: s.nextSch, method: method, xff: float64(float32(xff)), key: string(key)}
	all := make(map[uint16]*ring)
	for _, r := range newRings {
		all[r.id] = r
		v := binary.AppendUvarint(nil, uint64(r.step))
		v = binary.AppendUvarint(v, uint64(r.points))
		if err := b.Set(ringKey(r.id), v, nil); err != nil {
			return nil, err
		}
	}
	for _, rid := range ringIDs {
		r := all[rid]
		if r == nil {
			r = s.ringList[rid]
		}
		sc.archives = append(sc.archives, archive{step: r.step, points: r.points, retention: r.retention, ring: r})
		sc.maxRetention = max(sc.maxRetention, r.retention)
	}
	if err := b.Set(schemaKey(sc.id), key, nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ringList = append(s.ringList, newRings...)
	for _, r := range newRings {
		s.rings[[2]int64{r.step, r.points}] = r
	}
	s.schemas[sc.key] = sc
	s.addSchema(sc)
	s.nextSch++
	s.noteKeep(sc)
	s.mu.Unlock()
	s.w.createdSchemas = append(s.w.createdSchemas, sc)
	return sc, nil
}

// createSeries stages a new series for the writer's next commit and adds
// its name to the index. Caller holds writeMu.
func (s *Store) createSeries(name string, sc *seriesSchema) (*series, error) {
	ser, _, err := s.stageSeries(name, sc, s.names.putName)
	if err == nil {
		s.index.Add(name)
	}
	return ser, err
}

// stageSeries is createSeries leaving the index alone, naming the series
// with put (the name table's putName, or putNewName for a name known not
// to be there); it also returns the name table's copy of name.
func (s *Store) stageSeries(name string, sc *seriesSchema, put func(string, uint32) (string, error)) (*series, string, error) {
	if s.nextID == math.MaxUint32 {
		return nil, "", errors.New("series id space exhausted")
	}
	s.mu.Lock()
	ref, ser, err := s.names.add()
	stored := ""
	if err == nil {
		ser.id, ser.sch = s.nextID, sc.at
		stored, err = put(name, ref)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, "", fmt.Errorf("adding series %q: %w", name, err)
	}
	s.w.stageName(name, ser.id, sc.id)
	s.nextID++
	s.w.createdNames = append(s.w.createdNames, name)
	s.stats.series.Add(1)
	return ser, stored, nil
}

// seriesForWrite returns name's series, creating it from the rules, and
// the name table's copy of name (Write hands it back to the caller: see
// there).
func (s *Store) seriesForWrite(b *pebble.Batch, name string) (*series, string, error) {
	h := s.names.hash(name)
	if ser, stored := s.names.getNameHash(name, h); ser != nil {
		return ser, stored, nil
	}
	if len(name) == 0 || len(name) > index.MaxNameLen {
		return nil, "", fmt.Errorf("invalid metric name of %d bytes", len(name))
	}
	sch, agg, err := s.opts.Rules.Match(name)
	if err != nil {
		return nil, "", fmt.Errorf("matching schema for %q: %w", name, err)
	}
	sc, err := s.schemaOfRule(b, name, sch, agg)
	if err != nil {
		return nil, "", err
	}
	names := s.names
	ser, stored, err := s.stageSeries(name, sc, func(name string, ref uint32) (string, error) {
		return names.putNewName(name, ref, h)
	})
	if err != nil {
		return nil, "", err
	}
	if !s.opts.WritesIndexed {
		s.index.Add(name)
	}
	ser.fresh = true
	return ser, stored, nil
}

// schemaMemo is the schema the last new series' rules resolved to, keyed
// by the identity of the rule's retention list (the rules hold it; a
// reload makes new ones) and its aggregation: a burst of new series under
// one rule validates and looks its schema up once, not once a series.
type schemaMemo struct {
	rets   *schema.Retention
	n      int
	method schema.Method
	xff    float64
	sc     *seriesSchema
}

// schemaOfRule returns the stored schema for a new series matched to sch
// and agg, creating it (staged into b) if needed. Caller holds writeMu.
func (s *Store) schemaOfRule(b *pebble.Batch, name string, sch schema.Schema, agg schema.Aggregation) (*seriesSchema, error) {
	rs := sch.Retentions
	m := &s.w.memo
	if m.sc != nil && len(rs) > 0 && m.rets == &rs[0] && m.n == len(rs) && m.method == agg.Method && m.xff == agg.XFilesFactor {
		return m.sc, nil
	}
	if !slices.IsSortedFunc(rs, func(a, b schema.Retention) int { return cmp.Compare(a.SecondsPerPoint, b.SecondsPerPoint) }) {
		rs = slices.Clone(rs) // hand-built rules: archives go finest first
		schema.SortRetentions(rs)
	}
	if err := schema.ValidateRetentions(rs); err != nil {
		return nil, fmt.Errorf("schema [%s] for %q: %w", sch.Name, name, err)
	}
	sc, err := s.schemaFor(b, rs, agg.Method, agg.XFilesFactor)
	if err != nil {
		return nil, fmt.Errorf("creating schema for %q: %w", name, err)
	}
	*m = schemaMemo{rets: &sch.Retentions[0], n: len(sch.Retentions), method: agg.Method, xff: agg.XFilesFactor, sc: sc}
	return sc, nil
}

// forgetStaged drops from memory the names, schemas and rings created since
// the writer's last successful commit, whose records were lost with a
// failed commit. The next write of such a name creates it again. Caller
// holds writeMu.
func (s *Store) forgetStaged() {
	w := &s.w
	w.memo = schemaMemo{} // its schema may be one of those lost
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range w.createdNames {
		s.names.remove(name)
		s.stats.series.Add(-1)
	}
	for _, sc := range w.createdSchemas {
		delete(s.schemas, sc.key)
	}
	for _, r := range s.ringList[w.ringMark:] {
		delete(s.rings, [2]int64{r.step, r.points})
	}
	s.ringList = s.ringList[:w.ringMark]
	w.createdNames = w.createdNames[:0]
	w.createdSchemas = w.createdSchemas[:0]
}

func (s *Store) lookup(name string) *series {
	s.mu.RLock()
	var ser *series
	if s.sorted != nil {
		ser = s.lookupSorted(name)
	} else {
		ser = s.names.get(name)
	}
	s.mu.RUnlock()
	return ser
}

// Find expands a graphite glob against the stored names.
func (s *Store) Find(pattern string) ([]storage.Node, error) {
	return s.index.Find(pattern)
}

// Close syncs everything to disk and closes the store. SIGTERM handling
// should call it: nothing accepted is lost.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		// Pebble's goroutines may be held in stallFS (the volume refuses
		// writes) and would hold Close with them: give up on a clean
		// close then. What was committed stays in pebble's log on disk.
		done := make(chan error, 1)
		go func() { done <- s.closeDB() }()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case err = <-done:
				return
			case <-t.C:
				if serr := s.stall.err(); serr != nil {
					err = fmt.Errorf("pebble store %q not closed cleanly: %w; its log is replayed at the next start", s.opts.Dir, serr)
					return
				}
			}
		}
	})
	return err
}

func (s *Store) closeDB() error {
	s.wg.Wait()
	s.lockWriter()
	defer s.writeMu.Unlock()
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db == nil {
		return nil
	}
	s.dropHandoffs()
	// Flushing the memtables makes the next Open fast (no WAL replay)
	// and leaves everything in sstables. Not on a volume without room:
	// the WAL already holds everything.
	var err error
	if s.writable() == nil {
		err = s.db.Flush()
	}
	err = errors.Join(err, s.db.Close())
	s.db = nil
	return err
}

// readDB takes the shared hold on db; it reports false once the store is
// closed. Call doneDB when finished.
func (s *Store) readDB() bool {
	s.dbMu.RLock()
	if s.db == nil {
		s.dbMu.RUnlock()
		return false
	}
	return true
}

func (s *Store) doneDB() { s.dbMu.RUnlock() }

// syncLoop fsyncs the WAL every SyncInterval.
func (s *Store) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SyncInterval)
	defer t.Stop()
	var synced uint64 // writes counted at the last successful sync
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			// An idle store has nothing to sync: no fsync, and no log
			// record that would keep the WAL growing.
			n := s.writes.Load()
			if n == synced || s.readOnly.Load() || s.stall.err() != nil || !s.readDB() {
				continue
			}
			if err := s.db.LogData(nil, pebble.Sync); err != nil {
				s.opts.Logger.Error("pebble store: syncing WAL", "err", err)
			} else {
				synced = n
			}
			s.doneDB()
		}
	}
}
