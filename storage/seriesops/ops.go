package seriesops

import (
	"errors"
	"fmt"
	"slices"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// Store is the part of a backend the operations use.
type Store interface {
	Fetch(name string, from, until, now int64) (*storage.Series, error)
	Write(b *storage.Batch) error
	// DeleteSeries removes names (skipping those not stored) and returns
	// those removed and the bytes freed so far.
	DeleteSeries(names []string) (deleted []string, freed int64, err error)
	// RenameSeries moves from to to; storage.ErrNotFound when from is not
	// stored, storage.ErrExists when to is.
	RenameSeries(from, to string) error
	// SeriesRetentions returns a stored series' archives, finest first
	// (storage.ErrNotFound when it is not stored).
	SeriesRetentions(name string) ([]schema.Retention, error)
	// LastPoint returns the newest point's timestamp at or before now.
	LastPoint(name string, now int64) (ts int64, ok bool, err error)
}

// Compactor is a Store that reclaims deleted data in a separate step
// (pebble compacts the deleted key ranges), run after the write buffer is
// writing again.
type Compactor interface {
	CompactDeleted() (freed int64, err error)
}

// Index is the name index: it selects names and must forget and learn them
// as series go and come.
type Index interface {
	Expand(pattern string) ([]string, error)
	Has(name string) bool
	Add(name string) bool
	Delete(name string) bool
	Walk(fn func(name string) bool)
	// FindTagged returns the tagged names matching every seriesByTag
	// expression.
	FindTagged(exprs []string) ([]string, error)
}

// Buffer is a running server's write buffer (storage/cache). A stopped
// store has none.
type Buffer interface {
	// Sync writes everything accepted so far to the store.
	Sync()
	// Pause runs fn while the buffer writes nothing to the store.
	Pause(fn func() error) error
	// Take removes name's buffered points and returns them (inside Pause).
	Take(name string) []storage.Point
	// Buffered appends name's buffered points to dst.
	Buffered(name string, dst []storage.Point) []storage.Point
}

// Ops runs the operations.
type Ops struct {
	Store  Store
	Index  Index
	Buffer Buffer // nil for a stopped store
	// Now is the clock in unix seconds (nil: the store's writes use their
	// own; merges and staleness use time.Now).
	Now func() int64
	// Changed is called after series were deleted or renamed (a running
	// server drops its render cache). Optional.
	Changed func()
	// Forget is called with every series that leaves the index (delete,
	// stale, either side of a rename), Count with every name a rename adds
	// to it: a running server gives a deleted series' place back under
	// --max-series and the quotas, and moves a renamed one's to its new
	// namespace (storage/limits). The index is what the limits count: a
	// series still only in the write buffer is in it, a deferred one (not
	// yet admitted) is not. Optional.
	Forget func(name string)
	Count  func(name string)
	// MaxSeries bounds the series one request selects (0 = 1,000,000); a
	// selection over it fails before anything is done.
	MaxSeries int
}

// DefaultMaxSeries is MaxSeries' default.
const DefaultMaxSeries = 1_000_000

// ErrTooMany is returned for a selection over MaxSeries.
var ErrTooMany = errors.New("selection matches more series than the limit")

// ErrInvalid is wrapped by errors in what the caller asked (a bad pattern,
// expression, time or rewrite).
var ErrInvalid = errors.New("invalid request")

// Selector picks series: the union of glob patterns, seriesByTag
// expressions (all must match, as in seriesByTag) and exact names.
type Selector struct {
	Globs    []string
	TagExprs []string
	Names    []string
}

// Empty reports whether the selector selects nothing by construction.
func (s Selector) Empty() bool {
	return len(s.Globs) == 0 && len(s.TagExprs) == 0 && len(s.Names) == 0
}

func (o *Ops) maxSeries() int {
	if o.MaxSeries > 0 {
		return o.MaxSeries
	}
	return DefaultMaxSeries
}

// Select returns the sorted, unique names sel picks among the indexed ones.
func (o *Ops) Select(sel Selector) ([]string, error) {
	var out []string
	limit := o.maxSeries()
	add := func(names []string) error {
		out = append(out, names...)
		if len(out) > limit {
			return fmt.Errorf("%w (%d)", ErrTooMany, limit)
		}
		return nil
	}
	for _, g := range sel.Globs {
		names, err := o.Index.Expand(g)
		if err != nil {
			return nil, fmt.Errorf("%w: expanding %q: %w", ErrInvalid, g, err)
		}
		if err := add(names); err != nil {
			return nil, err
		}
	}
	if len(sel.TagExprs) > 0 {
		names, err := o.Index.FindTagged(sel.TagExprs)
		if err != nil {
			return nil, fmt.Errorf("%w: tag expressions %q: %w", ErrInvalid, sel.TagExprs, err)
		}
		if err := add(names); err != nil {
			return nil, err
		}
	}
	for _, n := range sel.Names {
		if o.Index.Has(n) {
			if err := add([]string{n}); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// pause runs fn inside the buffer's Pause, or directly without a buffer.
func (o *Ops) pause(fn func() error) error {
	if o.Buffer == nil {
		return fn()
	}
	return o.Buffer.Pause(fn)
}

func (o *Ops) take(name string) []storage.Point {
	if o.Buffer == nil {
		return nil
	}
	return o.Buffer.Take(name)
}

// indexed lists the names the index holds (before the store removes them
// from it: the stores keep the index in step with their own deletes).
func (o *Ops) indexed(names []string) []string {
	var held []string
	for _, n := range names {
		if o.Index.Has(n) {
			held = append(held, n)
		}
	}
	return held
}

// forget reports the series that left the index to Forget.
func (o *Ops) forget(held []string) {
	if o.Forget == nil {
		return
	}
	for _, n := range held {
		o.Forget(n)
	}
}

func (o *Ops) changed() {
	if o.Changed != nil {
		o.Changed()
	}
}

// DeleteResult is what a delete removed (or, dry, would remove).
type DeleteResult struct {
	Series     []string `json:"series"`
	FreedBytes int64    `json:"freed_bytes"`
	DryRun     bool     `json:"dry_run"`
}

// Delete removes the series sel picks: their buffered points, their stored
// data and their names (find, render, tags and carbonlink forget them at
// once), then reclaims the space. dry only lists them.
func (o *Ops) Delete(sel Selector, dry bool) (DeleteResult, error) {
	names, err := o.Select(sel)
	if err != nil {
		return DeleteResult{}, err
	}
	return o.DeleteNames(names, dry)
}

// DeleteNames is Delete for a list of names already selected.
func (o *Ops) DeleteNames(names []string, dry bool) (DeleteResult, error) {
	res := DeleteResult{Series: names, DryRun: dry}
	if res.Series == nil {
		res.Series = []string{}
	}
	if dry || len(names) == 0 {
		return res, nil
	}
	err := o.pause(func() error {
		held := o.indexed(names)
		for _, n := range names {
			o.take(n)
		}
		_, freed, err := o.Store.DeleteSeries(names)
		res.FreedBytes = freed
		for _, n := range names {
			o.Index.Delete(n)
		}
		o.forget(held)
		return err
	})
	o.changed()
	if err != nil {
		return res, fmt.Errorf("deleting %d series: %w", len(names), err)
	}
	if c, ok := o.Store.(Compactor); ok {
		freed, err := c.CompactDeleted()
		res.FreedBytes += freed
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
