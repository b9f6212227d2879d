package cache

// dropped marks, in ingest's look, a point whose new series the limits
// refused (fileNew): the point is dropped, and was counted.
var dropped = &series{}

// filing is a shard's scratch for the series a chunk of points brings in:
// the entries whose series the shard does not hold, and views of their
// names, offered to the index in one call.
type filing struct {
	at    []int32  // entry positions in the chunk
	names []string // their names: views of the chunk's bytes
	ch    *chunk   // the chunk being filed
	look  []*series
	file  func(i int, known bool) bool // the shard's fileOffered, bound once
}

// fileNew files, before the chunk's points are given to their series,
// every series of ch the shard does not hold, and sets its entries in
// look: the index is asked once for all of their names (Index.AddNew).
// A name the index knows (stored, or written and forgotten while idle) is
// filed without asking the limits; any other is asked (newSeries), and
// indexed when admitted, before the shard's lock is released, so find
// sees a name before a write cycle can take its points. Afterwards every
// entry of look is a series or dropped. Caller holds sh.mu.
func (sh *shard) fileNew(ch *chunk, look []*series) {
	f := &sh.filing
	f.at, f.names = f.at[:0], f.names[:0]
	for i, s := range look {
		if s != nil && s != probeLater {
			continue // found by lookChunk: the entry is not read
		}
		e := &ch.entries[i]
		if s == probeLater {
			if s = sh.series.getHash(e.h, ch.name(e)); s != nil {
				look[i] = s
				continue
			}
			look[i] = nil
		}
		f.at = append(f.at, int32(i))
		f.names = append(f.names, ch.name(e))
	}
	if len(f.at) == 0 {
		return
	}
	if f.file == nil {
		f.file = sh.fileOffered
	}
	f.ch, f.look = ch, look
	sh.c.index.AddNew(f.names, f.file)
	clear(f.names) // views of the chunk, which goes back to its producer
	f.ch, f.look = nil, nil
}

// fileOffered is fileNew's answer to the index for its j-th name: the
// series filed (or found filed by an earlier point of the chunk, which
// the index does not hold while it is deferred) goes into look, and the
// index adds the name when it is new and admitted. Caller holds sh.mu
// (the index calls it under its write lock: it must not call the index).
func (sh *shard) fileOffered(j int, known bool) bool {
	f := &sh.filing
	i := f.at[j]
	e := f.ch.entries[i]
	if s := sh.series.getHash(e.h, f.names[j]); s != nil {
		f.look[i] = s
		return false
	}
	s := sh.newSeries(e.h, f.names[j], known)
	if s == nil {
		f.look[i] = dropped
		return false
	}
	f.look[i] = s
	return !s.is(deferred)
}
