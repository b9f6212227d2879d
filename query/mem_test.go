package query

import (
	"path"
	"sort"
	"strings"

	"github.com/plumbago/plumbago/storage"
)

// memRetention is how far back a memSource series reaches, in seconds:
// like a whisper file's longest archive, it bounds what one fetch returns
// (a fuzzed movingAverage(x,'200y') once asked it for 631 M points).
const memRetention = 1_000_000

// memSource is an in-memory Source for unit tests and benchmarks: every
// series covers (from, until] on its own step, values from a function,
// clipped as whisper clips a fetch: from to now-memRetention, until to now.
type memSource struct {
	step   map[string]int64
	values map[string]func(ts int64) float64
}

func newMemSource() *memSource {
	return &memSource{step: map[string]int64{}, values: map[string]func(int64) float64{}}
}

func (m *memSource) add(name string, step int64, f func(ts int64) float64) {
	m.step[name] = step
	m.values[name] = f
}

// Find matches each segment with path.Match after expanding one level of
// {a,b} lists (enough for the tests).
func (m *memSource) Find(pattern string) ([]storage.Node, error) {
	pats := expandBraces(pattern)
	var out []storage.Node
	for name := range m.step {
		for _, p := range pats {
			if matchSegs(p, name) {
				out = append(out, storage.Node{Path: name, Leaf: true})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func expandBraces(p string) []string {
	i := strings.IndexByte(p, '{')
	j := strings.IndexByte(p, '}')
	if i < 0 || j < i {
		return []string{p}
	}
	var out []string
	for _, alt := range strings.Split(p[i+1:j], ",") {
		out = append(out, expandBraces(p[:i]+alt+p[j+1:])...)
	}
	return out
}

func matchSegs(p, name string) bool {
	ps, ns := strings.Split(p, "."), strings.Split(name, ".")
	if len(ps) != len(ns) {
		return false
	}
	for i := range ps {
		if ok, _ := path.Match(ps[i], ns[i]); !ok {
			return false
		}
	}
	return true
}

// Fetch mimics whisper: the range clipped to the retention and now, start = from - from%step + step, end likewise
// from until.
func (m *memSource) Fetch(name string, from, until, now int64) (*storage.Series, error) {
	step, ok := m.step[name]
	if !ok {
		return nil, storage.ErrNotFound
	}
	from = max(from, now-memRetention)
	until = min(until, now)
	if from >= until {
		return nil, storage.ErrNotFound
	}
	start := from - from%step + step
	end := until - until%step + step
	n := (end - start) / step
	vals := make([]float64, n)
	f := m.values[name]
	for i := range vals {
		vals[i] = f(start + int64(i)*step)
	}
	return &storage.Series{Name: name, Start: start, Step: step, Values: vals}, nil
}
