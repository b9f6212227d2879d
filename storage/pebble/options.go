package pebble

import (
	"errors"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// Options configures a Store. Start from DefaultOptions and set Dir.
type Options struct {
	// Dir is the pebble directory (the server uses <data-dir>/pebble). It is
	// created if missing. Required.
	Dir string
	// Rules match new metric names to retentions and aggregation. As with
	// whisper files, a series keeps the schema it was created with. The
	// default is schema.Default().
	Rules *schema.Rules
	// Index receives every stored name (shared with the query path). The
	// default is a new, private index.
	Index *index.Index
	// WritesIndexed says that whoever calls Write has already added every
	// name it writes to Index (the write buffer adds a name when it first
	// sees it, so find sees it before it is stored): creating a series
	// then skips adding its name a second time, a lookup of every segment
	// per new series. Import, resize and copy paths add their names
	// themselves either way.
	WritesIndexed bool
	// SyncInterval is how often the write-ahead log is fsynced. Writes are
	// committed without waiting for the disk, so a kill -9 or power loss
	// loses at most this much; Close loses nothing. Zero or negative syncs
	// every Write. The default is 1s.
	SyncInterval time.Duration
	// WALPreallocateBytes is the largest chunk a write-ahead log file is
	// preallocated by ahead of its writes (chunks start at 64 KiB and
	// double as the file grows). The default is 16 MiB; pebble alone
	// would reserve 1.1× MemTableSize at a file's second write.
	WALPreallocateBytes int64
	// CacheSize is pebble's block cache in bytes. The default is 64 MiB.
	CacheSize int64
	// MemTableSize is the size of one pebble memtable in bytes. The default
	// is 64 MiB.
	MemTableSize int
	// IdleFlush is how long the store waits without a write before it
	// flushes a memtable holding data to an sstable: the write-ahead log
	// file that memtable pins is then released (recycled for the next
	// memtable), and the data joins compaction, which drains level 0
	// (see docs/pebble.md, Compaction). The default is 30s; negative
	// never flushes on idleness (pebble flushes a memtable when full).
	IdleFlush time.Duration
	// OnIdleFlush, when set, is called after each idle flush: the moment
	// a burst is over (the server returns freed memory to the OS then).
	OnIdleFlush func()
	// RetentionInterval is how often data older than each archive's
	// retention is range-deleted. The default is 1m.
	RetentionInterval time.Duration
	// Now returns the current unix time; it decides which archive a point
	// goes to and what is expired. The default is the wall clock.
	Now func() int64
	// Logger receives background errors and pebble events. The default is
	// slog.Default().
	Logger *slog.Logger

	// MinFreeBytes is the free-space reserve of the volume holding Dir:
	// at or below it Write refuses with storage.ErrNoSpace before anything
	// reaches pebble, whose failed log writes are fatal. It must hold
	// what pebble writes on its own meanwhile: a memtable flush (up to
	// MemTableSize) and compactions. The default is 0: only a completely
	// full volume stops writes.
	MinFreeBytes uint64
	// SpaceCheckInterval is how often a store opened read-only (full or
	// read-only volume) checks whether it can reopen for writing. The
	// default is 5s.
	SpaceCheckInterval time.Duration

	// ReadOnly opens the store read-only for good (a node serving a
	// checkpoint or a copied volume): queries work, writes fail with
	// storage.ErrReadOnly, and nothing under Dir changes.
	ReadOnly bool

	// LoadNamesInBackground makes Open return once the store is open and
	// its schemas are read, before the series names (one record a series;
	// seconds for millions) are loaded into Index and the name map. Until
	// Indexed is closed, every name lookup (Fetch, Names) waits and Index
	// is incomplete: the caller holds back what reads it (the server
	// answers only /healthz, /readyz and /metrics). Until Loaded is closed
	// (the name map is built, after Indexed), Write, deletes and renames
	// wait.
	LoadNamesInBackground bool

	fs vfs.FS // tests: file system wrapper (nil = the OS)
}

// DefaultOptions returns Options with every default filled in except Dir.
func DefaultOptions() Options {
	return Options{
		Rules:               schema.Default(),
		SyncInterval:        time.Second,
		CacheSize:           64 << 20,
		MemTableSize:        64 << 20,
		WALPreallocateBytes: 16 << 20,
		IdleFlush:           30 * time.Second,
		RetentionInterval:   time.Minute,
		Now:                 func() int64 { return time.Now().Unix() },
		Logger:              slog.Default(),
	}
}

// withDefaults fills zero fields with their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Rules == nil {
		o.Rules = d.Rules
	}
	if o.Index == nil {
		o.Index = index.New()
	}
	if o.CacheSize <= 0 {
		o.CacheSize = d.CacheSize
	}
	if o.MemTableSize <= 0 {
		o.MemTableSize = d.MemTableSize
	}
	if o.WALPreallocateBytes <= 0 {
		o.WALPreallocateBytes = d.WALPreallocateBytes
	}
	if o.IdleFlush == 0 {
		o.IdleFlush = d.IdleFlush
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = d.RetentionInterval
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.SpaceCheckInterval <= 0 {
		o.SpaceCheckInterval = 5 * time.Second
	}
	return o
}

// Validate reports an unusable configuration.
func (o Options) Validate() error {
	if o.Dir == "" {
		return errors.New("pebble store: Options.Dir is required")
	}
	return nil
}
