package seriescopy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// Source is the store series are read from.
type Source interface {
	// Fetch returns name's values over (from, until] at time now from the
	// finest archive whose retention covers now-from (storage.Store's).
	Fetch(name string, from, until, now int64) (*storage.Series, error)
}

// Dest is the store series are written to.
type Dest interface {
	Write(b *storage.Batch) error
}

// Syncer is a Dest whose writes are durable only after Sync (whisper).
type Syncer interface {
	Sync() error
}

// Job is one copy.
type Job struct {
	// Names are the series to copy, in the order they are copied.
	Names []string
	// Retentions returns the source's archives of name, finest first.
	Retentions func(name string) ([]schema.Retention, error)
	// From and Until bound the points copied: From < t <= Until (0: no
	// bound).
	From, Until int64
	// Now is the source's clock for the reads (0: time.Now at Run).
	Now int64
	// BatchPoints and BatchSeries bound one write (defaults 200,000 and
	// 1,000): a batch is written once either is reached.
	BatchPoints int
	BatchSeries int
	// State, when set, skips the series it records and records each
	// batch once the destination acknowledged (and synced) it.
	State *State
	// Progress, when set, is called after every series read and every
	// batch written.
	Progress func(Progress)
	// Retries is how often a write the destination refuses for now
	// (storage.Unavailable: unreachable, full, read-only) is tried again,
	// after RetryWait doubling each time (defaults 5 and 1 s).
	Retries   int
	RetryWait time.Duration
}

// Progress is where a copy stands.
type Progress struct {
	Total   int   // series selected
	Resumed int   // skipped: an earlier run copied them
	Done    int   // copied by this run (written and acknowledged)
	Missing int   // no longer in the source
	Failed  int   // the destination refused them (see Summary.Errors)
	Points  int64 // points written by this run
	Elapsed time.Duration
}

// Summary is what a copy did.
type Summary struct {
	Progress
	Errors []string // the first errors, "name: reason"
}

const maxErrors = 20

// ErrNoArchives is returned for a source series without archives.
var ErrNoArchives = errors.New("series has no archives")

// Run copies the job's series from src to dst. It returns when every series
// is copied (Summary.Failed counts those the destination refused), or on the
// first error that stops the copy (ctx done, a read failing, the
// destination unavailable after the retries); what was acknowledged until
// then is in the State. One goroutine reads the next batch while the
// current one is written.
func Run(ctx context.Context, src Source, dst Dest, job Job) (Summary, error) {
	c := newCopier(src, dst, job)
	err := c.run(ctx)
	c.sum.Elapsed = time.Since(c.start)
	return c.sum, err
}

type copier struct {
	src   Source
	dst   Dest
	job   Job
	start time.Time
	sum   Summary
	batch storage.Batch
}

// batch is the series read for one write.
type batch struct {
	names   []string
	offs    []int // series i has pts[offs[i]:offs[i+1]]
	pts     []storage.Point
	resumed int // series skipped before these, as the State holds them
	missing int // series not found in the source
}

func (b *batch) reset() {
	b.names, b.offs, b.pts = b.names[:0], append(b.offs[:0], 0), b.pts[:0]
	b.resumed, b.missing = 0, 0
}

func newCopier(src Source, dst Dest, job Job) *copier {
	if job.Now == 0 {
		job.Now = time.Now().Unix()
	}
	if job.BatchPoints <= 0 {
		job.BatchPoints = 200_000
	}
	if job.BatchSeries <= 0 {
		job.BatchSeries = 1000
	}
	if job.Retries <= 0 {
		job.Retries = 5
	}
	if job.RetryWait <= 0 {
		job.RetryWait = time.Second
	}
	c := &copier{src: src, dst: dst, job: job, start: time.Now()}
	c.sum.Total = len(job.Names)
	return c
}

func (c *copier) progress() {
	if c.job.Progress != nil {
		c.sum.Elapsed = time.Since(c.start)
		c.job.Progress(c.sum.Progress)
	}
}

// run writes the batches readAll hands over, in order.
func (c *copier) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full, free := make(chan *batch, 1), make(chan *batch, 2)
	free <- new(batch)
	free <- new(batch)
	readErr := make(chan error, 1)
	go func() { readErr <- c.readAll(ctx, full, free) }()
	for b := range full {
		c.sum.Resumed += b.resumed
		c.sum.Missing += b.missing
		if err := c.flush(ctx, b); err != nil {
			cancel()
			for range full {
			}
			<-readErr
			return err
		}
		free <- b
	}
	if err := <-readErr; err != nil {
		return err
	}
	c.progress()
	return nil
}

// readAll reads the job's series into batches from free and hands each to
// full, the last one too (it may hold no series); it closes full.
func (c *copier) readAll(ctx context.Context, full, free chan *batch) error {
	defer close(full)
	b := <-free
	b.reset()
	for _, name := range c.job.Names {
		if c.job.State != nil && c.job.State.Done(name) {
			b.resumed++
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		b.pts, err = c.read(b.pts, name)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			b.pts = b.pts[:b.offs[len(b.offs)-1]]
			b.missing++
			continue
		case err != nil:
			return fmt.Errorf("reading %q: %w", name, err)
		}
		b.names = append(b.names, name)
		b.offs = append(b.offs, len(b.pts))
		if len(b.pts) >= c.job.BatchPoints || len(b.names) >= c.job.BatchSeries {
			full <- b
			select {
			case b = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
			b.reset()
		}
	}
	full <- b
	return nil
}

// read appends name's points to dst: every archive's, finest first, each
// over the part of its retention no finer archive covers.
func (c *copier) read(dst []storage.Point, name string) ([]storage.Point, error) {
	rets, err := c.job.Retentions(name)
	if err != nil {
		return dst, err
	}
	if len(rets) == 0 {
		return dst, ErrNoArchives
	}
	now := c.job.Now
	covered := now + 1 // the finer archives hold every slot from here on
	for _, r := range rets {
		from := now - r.MaxRetention()
		lo, hi := from, min(covered, now+1)
		if c.job.From > 0 {
			lo = max(lo, c.job.From)
		}
		if c.job.Until > 0 {
			hi = min(hi, c.job.Until+1)
		}
		if lo < hi-1 {
			ser, err := c.src.Fetch(name, from, now, now)
			if err != nil {
				return dst, err
			}
			for i, v := range ser.Values {
				t := ser.Start + int64(i)*ser.Step
				if t > lo && t < hi && !math.IsNaN(v) {
					dst = append(dst, storage.Point{Timestamp: t, Value: v})
				}
			}
			// A later (coarser) archive fills only what this one's fetch
			// did not reach.
			covered = min(covered, ser.Start)
		} else {
			covered = min(covered, from+1)
		}
	}
	return dst, nil
}

// flush writes b, retrying while the destination is unavailable, and
// records it in the State.
func (c *copier) flush(ctx context.Context, b *batch) error {
	if len(b.names) == 0 {
		return nil
	}
	c.batch.Reset()
	for i, n := range b.names {
		c.batch.Series = append(c.batch.Series, storage.SeriesPoints{Name: n, Points: b.pts[b.offs[i]:b.offs[i+1]]})
	}
	failed, err := c.write(ctx)
	if err != nil {
		return err
	}
	if sy, ok := c.dst.(Syncer); ok {
		if err := sy.Sync(); err != nil {
			return fmt.Errorf("syncing the destination: %w", err)
		}
	}
	done := b.names[:0]
	for i, n := range b.names {
		if e, ok := failed[i]; ok {
			c.sum.Failed++
			if len(c.sum.Errors) < maxErrors {
				c.sum.Errors = append(c.sum.Errors, fmt.Sprintf("%s: %v", n, e))
			}
			continue
		}
		c.sum.Done++
		c.sum.Points += int64(b.offs[i+1] - b.offs[i])
		done = append(done, n)
	}
	if c.job.State != nil && len(done) > 0 {
		if err := c.job.State.Record(done); err != nil {
			return err
		}
	}
	c.batch.Reset()
	c.progress()
	return nil
}

// write writes c.batch and returns the series the destination refused for
// good (by batch index).
func (c *copier) write(ctx context.Context) (map[int]error, error) {
	wait := c.job.RetryWait
	for attempt := 0; ; attempt++ {
		err := c.dst.Write(&c.batch)
		if err == nil {
			return nil, nil
		}
		if !storage.Unavailable(err) {
			var we *storage.WriteError
			if !errors.As(err, &we) {
				return nil, fmt.Errorf("writing %d series: %w", len(c.batch.Series), err)
			}
			failed := make(map[int]error, len(we.Failed))
			for _, f := range we.Failed {
				failed[f.Index] = f.Err
			}
			return failed, nil
		}
		if attempt == c.job.Retries {
			return nil, fmt.Errorf("the destination is unavailable (%d tries): %w", attempt+1, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}
