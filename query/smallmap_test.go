package query

import (
	"strconv"
	"testing"
)

// TestSmallMap sets and reads keys past the inline entries (into the
// map), overwriting some, and checks every value against a plain map.
func TestSmallMap(t *testing.T) {
	var m smallMap[string, int]
	want := map[string]int{}
	for i := range 12 {
		k := strconv.Itoa(i % 9)
		m.set(k, i)
		want[k] = i
	}
	if m.n != smallMapInline || len(m.more) != 9-smallMapInline {
		t.Fatalf("%d inline, %d in the map; want %d and %d", m.n, len(m.more), smallMapInline, 9-smallMapInline)
	}
	for i := range 10 {
		k := strconv.Itoa(i)
		v, ok := m.get(k)
		w, wok := want[k]
		if v != w || ok != wok {
			t.Errorf("get(%q) = %d, %v; want %d, %v", k, v, ok, w, wok)
		}
	}
}
