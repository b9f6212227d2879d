package storage

import (
	"errors"
	"fmt"
)

// Point is one datapoint: a unix timestamp in seconds and a value.
type Point struct {
	Timestamp int64
	Value     float64
}

// SeriesPoints is the points for one metric in a write batch. Points are in
// arrival order; when two share a timestamp slot the later one wins.
type SeriesPoints struct {
	Name   string
	Points []Point
}

// Batch is a group of writes handed to a backend at once. The backend must not
// keep references to the batch or its slices after Write returns.
type Batch struct {
	Series []SeriesPoints
}

// Reset empties the batch for reuse, keeping its capacity.
func (b *Batch) Reset() { b.Series = b.Series[:0] }

// Points returns the number of points in the batch.
func (b *Batch) Points() int {
	n := 0
	for i := range b.Series {
		n += len(b.Series[i].Points)
	}
	return n
}

// Series is the result of a fetch, with whisper's semantics: Values[i] is the
// value of the slot starting at Start+i*Step; NaN marks a missing value. The
// covered range is [Start, End) where End = Start + len(Values)*Step.
type Series struct {
	Name   string
	Start  int64
	Step   int64
	Values []float64
	// Pooled is set when Values came from GetValues: a reader that knows
	// no reference to them outlives its use may hand them back with
	// PutValues (query does at the end of a render).
	Pooled bool
}

// End returns the exclusive end of the series' range.
func (s *Series) End() int64 { return s.Start + int64(len(s.Values))*s.Step }

// Node is one result of a find: a branch (has children) or a leaf (a metric),
// or both when a metric name is also a prefix of others.
type Node struct {
	Path string
	Leaf bool
	// Branch is true when the path has children.
	Branch bool
}

// ErrNotFound is returned by Fetch for a metric the store does not hold.
var ErrNotFound = errors.New("metric not found")

// ErrExists is returned by operations that would overwrite a stored series
// (a rename onto an existing name without a merge).
var ErrExists = errors.New("series already exists")

// ErrNoSpace is wrapped by write errors when the volume is full, or its free
// space is below the configured reserve. Nothing was written; the same write
// succeeds once space returns.
var ErrNoSpace = errors.New("storage volume full (free space below the reserve)")

// ErrReadOnly is wrapped by write errors when the store is read-only (a
// read-only volume, or a store opened read-only because the volume was
// full). Nothing was written; the same write succeeds once the store is
// writable again.
var ErrReadOnly = errors.New("storage is read-only")

// ErrUnreachable is wrapped by write errors of a backend on the network
// (ClickHouse) that could not be reached or did not acknowledge the write.
// Nothing is known to be written; the same write is retried.
var ErrUnreachable = errors.New("storage backend unreachable")

// ErrTooManyResults is wrapped by a bounded find or expand that matched
// more than its limit: the walk stopped there, nothing past it was kept.
var ErrTooManyResults = errors.New("too many results")

// Unavailable reports whether err means the whole store cannot take writes
// for now (no space, read-only, unreachable) rather than that something is wrong with
// the data: a caller keeps such points and retries without a limit.
func Unavailable(err error) bool {
	return errors.Is(err, ErrNoSpace) || errors.Is(err, ErrReadOnly) || errors.Is(err, ErrUnreachable)
}

// SeriesError is one series of a batch that could not be written.
type SeriesError struct {
	Index int    // position in Batch.Series
	Name  string // the series' name
	Err   error
}

// WriteError reports a partial failure of Store.Write: the series listed in
// Failed (in batch order) were not written, or not completely; every other
// series of the batch was.
type WriteError struct {
	Failed []SeriesError
}

func (e *WriteError) Error() string {
	if len(e.Failed) == 0 {
		return "writing batch: no failed series"
	}
	f := e.Failed[0]
	if len(e.Failed) == 1 {
		return fmt.Sprintf("writing series %q: %v", f.Name, f.Err)
	}
	return fmt.Sprintf("writing %d series failed; first %q: %v", len(e.Failed), f.Name, f.Err)
}

// Unwrap returns the distinct causes (at most 8), so errors.Is sees through
// a WriteError to ErrNoSpace and the like.
func (e *WriteError) Unwrap() []error {
	var out []error
	for _, f := range e.Failed {
		if len(out) == 8 {
			break
		}
		out = append(out, f.Err)
	}
	return out
}

// Store is what a backend implements.
type Store interface {
	// Write persists the batch. Points outside the metric's retention are
	// dropped and counted by the backend, not returned as errors. A
	// *WriteError lists the series that were not written (the others
	// were); any other error means none of the batch is known to be
	// written. Errors wrapping ErrNoSpace or ErrReadOnly mean the store
	// takes no writes for now (see Unavailable). Write may replace a
	// series' Name in b with an equal string the store keeps anyway, which
	// the caller may hold instead of its own (pebble hands back its name
	// table's copy: the write buffer then keeps no name of its own).
	Write(b *Batch) error
	// Fetch returns name's values over (from, until] at time now, choosing
	// the archive as whisper does (the finest one whose retention covers
	// now-from). It returns ErrNotFound for an unknown metric.
	Fetch(name string, from, until, now int64) (*Series, error)
	// Find expands a graphite glob (one pattern per path segment: * ? [..]
	// {a,b}) against the stored names, sorted by path.
	Find(pattern string) ([]Node, error)
	// Close flushes and releases everything.
	Close() error
}
