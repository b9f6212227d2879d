package clickhouse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// Levels of carbon-clickhouse's index table: a daily row per metric at its
// depth, a daily row of the reversed path at 10000+depth, tree rows (on
// the constant date 1970-02-12) of the metric and every parent ("a.",
// "a.b.") at 20000+depth, and the reversed path's tree row at 30000+depth.
const (
	reverseLevel     = 10000
	treeLevel        = 20000
	reverseTreeLevel = 30000
	treeDate         = 42 // 1970-02-12 as days since the epoch
)

// writer holds one Write's buffers; Writes take one from a pool, so
// concurrent storage shards encode in parallel and nothing is allocated
// per point once the buffers have grown.
type writer struct {
	points  []byte
	index   []byte
	tagged  []byte
	gz      bytes.Buffer
	sorted  []storage.Point
	rows    []qpoint
	marks   []*series // series whose index rows are in this write
	markDay []uint16
	rev     []string
	nIndex  int // rows in index and tagged
}

// qpoint is a point with its slot's time (the finest archive's step that
// holds it at write time).
type qpoint struct {
	t int64
	v float64
}

// Write inserts the batch as one RowBinary INSERT into the points table
// (after the index rows of names not indexed for their points' days),
// gzip-compressed. It
// returns only once ClickHouse acknowledged every insert; any failure is
// an error wrapping storage.ErrUnreachable and nothing of the batch counts
// as written (the write buffer keeps it and retries; rows a failed attempt
// did insert are written again with a newer version, which reads the same).
func (s *Store) Write(b *storage.Batch) error {
	if s.closed.Load() {
		return errors.New("clickhouse: store closed")
	}
	w := s.pool.Get().(*writer)
	defer s.pool.Put(w)
	w.points, w.index, w.tagged = w.points[:0], w.index[:0], w.tagged[:0]
	w.marks, w.markDay, w.nIndex = w.marks[:0], w.markDay[:0], 0
	now := s.opts.Now()
	wall := time.Now().Unix()
	ver := uint32(wall)
	var written, dropped, noSchema uint64
	s.mu.Lock()
	for i := range b.Series {
		sp := &b.Series[i]
		ser, err := s.info(sp.Name, true)
		if err != nil {
			if errors.Is(err, schema.ErrNoSchema) {
				noSchema += uint64(len(sp.Points))
				continue
			}
			s.mu.Unlock()
			return err
		}
		rows, d := w.quantize(ser, sp.Points, now)
		dropped += uint64(d)
		if len(rows) == 0 {
			continue
		}
		// The version orders writes of one slot: newer than the series'
		// last write even within the same second.
		v := max(ver, ser.lastVer+1)
		ser.lastVer = v
		for _, r := range rows {
			w.points = appendString(w.points, ser.path)
			w.points = appendF64(w.points, r.v)
			w.points = appendU32(w.points, uint32(r.t))
			w.points = appendU16(w.points, uint16(r.t/86400))
			w.points = appendU32(w.points, v)
		}
		written += uint64(len(rows))
		// Index rows are dated by the (UTC) days of their points, as
		// carbon-clickhouse dates them: the rows are sorted, so each day
		// is one run. The newest day is remembered; an older one
		// (backfill) gets its rows again at each write.
		newest := ser.day
		for j := 0; j < len(rows); {
			day := uint16(rows[j].t / 86400)
			for j < len(rows) && uint16(rows[j].t/86400) == day {
				j++
			}
			if day != ser.day {
				w.indexRows(sp.Name, ser.path, day, v)
				newest = max(newest, day)
			}
		}
		if newest != ser.day {
			w.marks = append(w.marks, ser)
			w.markDay = append(w.markDay, newest)
		}
	}
	s.mu.Unlock()
	s.dropped.Add(dropped)
	s.noSchema.Add(noSchema)
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	for _, ins := range []struct {
		table string
		cols  string
		rows  []byte
	}{
		{s.t.Index, "(Date, Level, Path, Version)", w.index},
		{s.t.Tagged, "(Date, Tag1, Path, Tags, Version)", w.tagged},
		{s.t.Points, "(Path, Value, Time, Date, Timestamp)", w.points},
	} {
		if len(ins.rows) == 0 {
			continue
		}
		q := fmt.Sprintf("INSERT INTO %s.%s %s FORMAT RowBinary", s.t.Database, ins.table, ins.cols)
		if err := s.cl.insert(ctx, q, ins.rows, &w.gz); err != nil {
			s.insErr.Add(1)
			return unreachable(fmt.Sprintf("inserting into %s.%s", s.t.Database, ins.table), err)
		}
		s.inserts.Add(1)
		s.insBytes.Add(uint64(w.gz.Len()))
	}
	s.mu.Lock()
	for i, ser := range w.marks {
		ser.day = w.markDay[i]
	}
	s.mu.Unlock()
	if s.opts.Index != nil {
		for i := range b.Series {
			s.opts.Index.Add(b.Series[i].Name)
		}
	}
	s.pointsW.Add(written)
	s.idxRows.Add(uint64(w.nIndex))
	return nil
}

// quantize puts pts (any order) into the finest archive whose retention
// covers each point's age, at that archive's slot time, sorted, one per
// slot: the point with the latest timestamp wins, the later arrival among
// equal timestamps (whisper's update_many after its sort). It returns the
// rows and the number of points beyond every archive.
func (w *writer) quantize(ser *series, pts []storage.Point, now int64) ([]qpoint, int) {
	if !slices.IsSortedFunc(pts, cmpTS) {
		w.sorted = append(w.sorted[:0], pts...)
		slices.SortStableFunc(w.sorted, cmpTS)
		pts = w.sorted
	}
	rows := w.rows[:0]
	dropped := 0
	for _, p := range pts {
		age := now - p.Timestamp
		a := -1
		if p.Timestamp > 0 && p.Timestamp <= 1<<32-1 {
			for i, r := range ser.rets {
				if r.MaxRetention() >= age {
					a = i
					break
				}
			}
		}
		if a < 0 {
			dropped++
			continue
		}
		t := p.Timestamp - p.Timestamp%ser.rets[a].SecondsPerPoint
		if n := len(rows); n > 0 && rows[n-1].t == t {
			rows[n-1].v = p.Value
			continue
		}
		rows = append(rows, qpoint{t, p.Value})
	}
	w.rows = rows
	return rows, dropped
}

func cmpTS(a, b storage.Point) int {
	switch {
	case a.Timestamp < b.Timestamp:
		return -1
	case a.Timestamp > b.Timestamp:
		return 1
	}
	return 0
}

// indexRows appends name's rows (path: its Path in ClickHouse):
// carbon-clickhouse's index rows for a plain name, tagged-table rows for a
// tagged one (which the index table does not hold): one row per tag, Tag1
// the tag, "__name__=metric" first, all of them in Tags.
func (w *writer) indexRows(name, path string, day uint16, v uint32) {
	if strings.IndexByte(name, ';') >= 0 {
		tags := taggedRowTags(name)
		for _, tag := range tags {
			w.nIndex++
			w.tagged = appendU16(w.tagged, day)
			w.tagged = appendString(w.tagged, tag)
			w.tagged = appendString(w.tagged, path)
			w.tagged = appendUvarintLen(w.tagged, len(tags))
			for _, t := range tags {
				w.tagged = appendString(w.tagged, t)
			}
			w.tagged = appendU32(w.tagged, v)
		}
		return
	}
	depth := uint32(strings.Count(name, ".") + 1)
	rev := reversePath(name, &w.rev)
	row := func(d uint16, level uint32, p string) {
		w.nIndex++
		w.index = appendU16(w.index, d)
		w.index = appendU32(w.index, level)
		w.index = appendString(w.index, p)
		w.index = appendU32(w.index, v)
	}
	row(day, depth, name)
	row(day, reverseLevel+depth, rev)
	lvl := uint32(0)
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			lvl++
			row(treeDate, treeLevel+lvl, name[:i+1])
		}
	}
	row(treeDate, treeLevel+depth, name)
	row(treeDate, reverseTreeLevel+depth, rev)
}

func appendUvarintLen(b []byte, n int) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// reversePath returns name's segments in reverse order ("c.b.a").
func reversePath(name string, scratch *[]string) string {
	segs := append((*scratch)[:0], strings.Split(name, ".")...)
	slices.Reverse(segs)
	*scratch = segs
	return strings.Join(segs, ".")
}
