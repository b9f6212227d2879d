package index

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/storage"
)

// graphiteFind runs graphite-web's own StandardFinder (Debian's graphite-web)
// over a whisper tree in dir for every pattern and returns its nodes, merged
// per path the way our Node reports them.
const graphiteFindScript = `
import json, sys, warnings
warnings.simplefilter("ignore")
import django
django.setup()
from graphite.finders.standard import StandardFinder
from graphite.storage import FindQuery
req = json.load(sys.stdin)
f = StandardFinder([req["dir"]])
out = []
for p in req["patterns"]:
    nodes = {}
    for n in f.find_nodes(FindQuery(p, None, None)):
        e = nodes.setdefault(n.path, [False, False])
        if n.is_leaf:
            e[0] = True
        else:
            e[1] = True
    out.append(sorted([k, v[0], v[1]] for k, v in nodes.items()))
json.dump(out, sys.stdout)
`

func oraclePython(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	testenv.Files(t, "apt graphite-web", "/usr/lib/python3/dist-packages/graphite/finders/standard.py", py)
	return py
}

func TestFindOracleGraphiteWeb(t *testing.T) {
	py := oraclePython(t)
	rng := rand.New(rand.NewPCG(1, 2))
	segs := []string{"a", "b", "ab", "a-b", "x1", "x2", "x10", "é", "^a", "!x", "c]d", "aa"}
	dir := t.TempDir()
	x := New()
	for range 300 {
		depth := 1 + rng.IntN(4)
		parts := make([]string, depth)
		for i := range parts {
			parts[i] = segs[rng.IntN(len(segs))]
		}
		name := strings.Join(parts, ".")
		x.Add(name)
		file := filepath.Join(dir, filepath.Join(parts...)) + ".wsp"
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pieces := []string{"*", "?", "a", "b", "ab", "[a-b]", "[!a]", "[^a]", "x?", "x[0-9]*", "{a,b}",
		"{x*,ab}", "**", "[z-a]", "[]a]", "a*b", "*b", "{a,{b,x1}}", "[!z-a]", "?*?", "é", "[é]", "c]d", "[a-c-e]*"}
	patterns := []string{"*", "**", "a", "a.b", "a.**", "**.b", "**.**.a", "*.*.*.*", "x1.*.**.b"}
	for range 400 {
		n := 1 + rng.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = pieces[rng.IntN(len(pieces))]
		}
		patterns = append(patterns, strings.Join(parts, "."))
	}
	req, _ := json.Marshal(map[string]any{"dir": dir, "patterns": patterns})
	cmd := exec.Command(py, "-c", graphiteFindScript)
	cmd.Env = append(os.Environ(), "PYTHONPATH=/usr/lib/python3/dist-packages", "DJANGO_SETTINGS_MODULE=graphite.settings")
	cmd.Stdin = strings.NewReader(string(req))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("graphite-web oracle: %v", err)
	}
	var res [][][]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != len(patterns) {
		t.Fatalf("oracle returned %d results for %d patterns", len(res), len(patterns))
	}
	nonEmpty := 0
	for i, p := range patterns {
		var want []storage.Node
		for _, e := range res[i] {
			want = append(want, storage.Node{Path: e[0].(string), Leaf: e[1].(bool), Branch: e[2].(bool)})
		}
		slices.SortFunc(want, func(a, b storage.Node) int { return strings.Compare(a.Path, b.Path) })
		got, err := x.Find(p)
		if err != nil {
			t.Errorf("Find(%q): %v", p, err)
			continue
		}
		if len(got) > 0 {
			nonEmpty++
		}
		if !slices.Equal(got, want) {
			t.Errorf("Find(%q):\n got  %v\n graphite-web %v", p, got, want)
		}
	}
	t.Logf("%d patterns, %d with matches, all equal to graphite-web", len(patterns), nonEmpty)
	if nonEmpty < len(patterns)/4 {
		t.Fatalf("only %d of %d patterns matched anything: corpus too sparse", nonEmpty, len(patterns))
	}
}

// TestGlobOracleFnmatch compares the compiled matcher with CPython's
// fnmatch.fnmatchcase on random class-heavy patterns (no backslashes: our
// escape rule is a documented extension).
func TestGlobOracleFnmatch(t *testing.T) {
	py := oraclePython(t)
	rng := rand.New(rand.NewPCG(3, 4))
	patAlpha := []rune("ab-!^]z[*?é")
	nameAlpha := []rune("ab-!^]z[é")
	type pair struct{ P, N string }
	var pairs []pair
	for range 20000 {
		p := make([]rune, 1+rng.IntN(7))
		for i := range p {
			p[i] = patAlpha[rng.IntN(len(patAlpha))]
		}
		n := make([]rune, rng.IntN(4))
		for i := range n {
			n[i] = nameAlpha[rng.IntN(len(nameAlpha))]
		}
		pairs = append(pairs, pair{string(p), string(n)})
	}
	req, _ := json.Marshal(pairs)
	cmd := exec.Command(py, "-c", `
import json, sys, fnmatch
out = []
for e in json.load(sys.stdin):
    try:
        out.append(fnmatch.fnmatchcase(e["N"], e["P"]))
    except Exception:
        out.append(None)
json.dump(out, sys.stdout)
`)
	cmd.Stdin = strings.NewReader(string(req))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python fnmatch: %v", err)
	}
	var res []*bool
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(pairs) {
		t.Fatalf("decoding oracle output: %v (%d results)", err, len(res))
	}
	matched, skipped := 0, 0
	for i, pr := range pairs {
		if res[i] == nil {
			skipped++ // CPython's re rejected the translation
			continue
		}
		g, lit, isLit := compileGlob(pr.P)
		got := isLit && lit == pr.N || !isLit && g.match(pr.N)
		if got != *res[i] {
			t.Errorf("fnmatchcase(%q, %q) = %v, ours %v", pr.N, pr.P, *res[i], got)
		}
		if got {
			matched++
		}
	}
	t.Logf("%d pairs, %d matches, %d rejected by CPython", len(pairs), matched, skipped)
	if matched < 400 {
		t.Fatalf("only %d matching pairs: corpus too weak", matched)
	}
}
