package whisper

import (
	"math"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// memIndex is a small NameIndex for these tests (storage/index is another
// package's job): a set of names and a per-segment glob.
type memIndex struct {
	mu    sync.Mutex
	names map[string]bool
}

func newMemIndex() *memIndex { return &memIndex{names: map[string]bool{}} }

func (m *memIndex) Add(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[name] {
		return false
	}
	m.names[name] = true
	return true
}

func (m *memIndex) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.names)
}

func (m *memIndex) Has(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.names[name]
}

func (m *memIndex) Find(pattern string) ([]storage.Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := strings.Split(pattern, ".")
	nodes := map[string]*storage.Node{}
	for n := range m.names {
		segs := strings.Split(n, ".")
		if len(segs) < len(ps) {
			continue
		}
		ok := true
		for i, p := range ps {
			if mt, _ := path.Match(p, segs[i]); !mt {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		p := strings.Join(segs[:len(ps)], ".")
		nd := nodes[p]
		if nd == nil {
			nd = &storage.Node{Path: p}
			nodes[p] = nd
		}
		if len(segs) == len(ps) {
			nd.Leaf = true
		} else {
			nd.Branch = true
		}
	}
	out := make([]storage.Node, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// pythonWhisper returns a python3 that can import whisper, or skips (fails
// under CI=true).
func pythonWhisper(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import whisper").Run() == nil {
			return py
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3-whisper not available")
	}
	t.Skip("python3-whisper not available")
	return ""
}

func mustRules(t testing.TB, schemas, aggs string) *schema.Rules {
	t.Helper()
	ss, err := schema.ParseSchemas(strings.NewReader(schemas))
	if err != nil {
		t.Fatal(err)
	}
	as, err := schema.ParseAggregations(strings.NewReader(aggs))
	if err != nil {
		t.Fatal(err)
	}
	return &schema.Rules{Schemas: ss, Aggregations: as}
}

// sameFloats compares exactly, NaN equal to NaN.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func openStore(t testing.TB, dir string, rules *schema.Rules, now *int64) (*Store, *memIndex) {
	t.Helper()
	idx := newMemIndex()
	s, err := Open(Options{Dir: dir, Rules: rules, Index: idx, Now: func() int64 { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	<-s.ScanDone()
	t.Cleanup(func() { s.Close() })
	return s, idx
}
