package cache

import "hash/maphash"

// seriesMap holds a shard's series by name. Its main map is keyed by the
// 64-bit maphash of the name, not the name: growing it moves 16-byte slots
// without reading a name (a string-keyed map rehashed every name, a cache
// miss each: 7 % of the server's CPU while a million series were created),
// and a slot costs 16 bytes, not 24. A lookup still compares the series'
// name, and the rare second name with a hash already taken lives in more,
// keyed by name.
type seriesMap struct {
	seed   maphash.Seed
	byHash map[uint64]*series
	more   map[string]*series // names whose hash another series holds in byHash
}

func newSeriesMap() seriesMap {
	return seriesMap{seed: maphash.MakeSeed(), byHash: make(map[uint64]*series)}
}

// get returns name's series, or nil. name is not retained.
func (m *seriesMap) get(name string) *series {
	if s := m.byHash[maphash.String(m.seed, name)]; s != nil && s.name == name {
		return s
	}
	if len(m.more) > 0 {
		return m.more[name]
	}
	return nil
}

// put files s, whose name is not filed yet.
func (m *seriesMap) put(s *series) {
	h := maphash.String(m.seed, s.name)
	if _, taken := m.byHash[h]; !taken {
		m.byHash[h] = s
		return
	}
	if m.more == nil {
		m.more = make(map[string]*series)
	}
	m.more[s.name] = s
}

// del forgets s, if filed.
func (m *seriesMap) del(s *series) {
	h := maphash.String(m.seed, s.name)
	if m.byHash[h] == s {
		delete(m.byHash, h)
		return
	}
	if m.more[s.name] == s {
		delete(m.more, s.name)
	}
}

// len is the number of series filed.
func (m *seriesMap) len() int { return len(m.byHash) + len(m.more) }

// sweep forgets every series drop reports true for and returns how many.
// Once most went (a burst is over), the maps are built anew: a Go map
// keeps the table it grew to.
func (m *seriesMap) sweep(drop func(*series) bool) int {
	n := 0
	for h, s := range m.byHash {
		if drop(s) {
			delete(m.byHash, h)
			n++
		}
	}
	for name, s := range m.more {
		if drop(s) {
			delete(m.more, name)
			n++
		}
	}
	if n > m.len() {
		byHash := make(map[uint64]*series, len(m.byHash))
		for h, s := range m.byHash {
			byHash[h] = s
		}
		m.byHash = byHash
		if len(m.more) == 0 {
			m.more = nil
		}
	}
	return n
}
