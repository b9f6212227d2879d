package query

// smallMap is a map for the few keys one request sees (its patterns and
// fetches): the first smallMapInline entries are kept in arrays searched
// in order, so a request of a target or two allocates no map; later
// entries go to a map. The zero value is empty.
type smallMap[K comparable, V any] struct {
	n    int
	keys [smallMapInline]K
	vals [smallMapInline]V
	more map[K]V
}

const smallMapInline = 4

// get returns k's value and whether k is set.
func (m *smallMap[K, V]) get(k K) (V, bool) {
	for i := 0; i < m.n; i++ {
		if m.keys[i] == k {
			return m.vals[i], true
		}
	}
	v, ok := m.more[k]
	return v, ok
}

// set sets k's value.
func (m *smallMap[K, V]) set(k K, v V) {
	for i := 0; i < m.n; i++ {
		if m.keys[i] == k {
			m.vals[i] = v
			return
		}
	}
	if m.n < smallMapInline {
		m.keys[m.n], m.vals[m.n] = k, v
		m.n++
		return
	}
	if m.more == nil {
		m.more = map[K]V{}
	}
	m.more[k] = v
}
