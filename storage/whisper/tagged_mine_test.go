package whisper

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

// graphiteEncode asks graphite-web's own TaggedSeries.encode where a tagged
// series lives.
func graphiteEncode(t *testing.T, py, name string, hashOnly bool) string {
	t.Helper()
	ho := "False"
	if hashOnly {
		ho = "True"
	}
	out, err := exec.Command(py, "-c", "import sys\nfrom graphite.tags.utils import TaggedSeries\nprint(TaggedSeries.encode(sys.argv[1], '/', hash_only="+ho+"))", name).CombinedOutput()
	if err != nil {
		testenv.Files(t, "apt graphite-web", "/usr/lib/python3/dist-packages/graphite/tags/utils.py")
		t.Fatalf("graphite-web: %v %s", err, out)
	}
	return strings.TrimSpace(string(out)) + ".wsp"
}

func TestTaggedSeriesLayout(t *testing.T) {
	py := pythonWhisper(t)
	dir := t.TempDir()
	now := int64(1000)
	rules := mustRules(t, "[a]\npattern = .*\nretentions = 10:6\n", "[a]\npattern = .*\naggregationMethod = average\nxFilesFactor = 0\n")
	s, _ := openStore(t, dir, rules, &now)
	const name = "cpu.load;dc=x.y;host=a"
	if err := s.Write(batch(name, pts(990, 4, 1000, 5)...)); err != nil {
		t.Fatal(err)
	}
	want := graphiteEncode(t, py, name, false)
	if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
		t.Fatalf("tagged file not where graphite-web looks (%s): %v", want, err)
	}
	// Reopen: the scan decodes the file name back to the series name.
	s2, idx2 := openStore(t, dir, rules, &now)
	if !idx2.Has(name) {
		t.Fatalf("startup scan did not recover %q", name)
	}
	got, err := s2.Fetch(name, 980, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != 990 || got.Step != 10 || !sameFloats(got.Values, []float64{4, 5}) {
		t.Fatalf("fetch = %+v", got)
	}

	// A file carbon wrote with TAG_HASH_FILENAMES=True is read and updated
	// in place, not shadowed by a new readable file.
	const hashed = "mem.free;host=b"
	hp := filepath.Join(dir, graphiteEncode(t, py, hashed, true))
	if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "import whisper,sys\nwhisper.create(sys.argv[1], [(10, 6)], xFilesFactor=0)\nwhisper.update_many(sys.argv[1], [(980, 7.0)], now=1000)"
	if out, err := exec.Command(py, "-c", script, hp).CombinedOutput(); err != nil {
		t.Fatalf("python whisper: %v %s", err, out)
	}
	if err := s2.Write(batch(hashed, pts(1000, 8)...)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, graphiteEncode(t, py, hashed, false))); !os.IsNotExist(err) {
		t.Fatalf("a readable file was created beside carbon's hashed one: %v", err)
	}
	got, err = s2.Fetch(hashed, 960, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !sameFloats(got.Values, []float64{nan, 7, nan, 8}) {
		t.Fatalf("hashed file values = %v; want [NaN 7 NaN 8]", got.Values)
	}

	// Hostile tagged names never leave the tree.
	for _, bad := range []string{"a;b=../../etc", "x;y=/z", ";t=v"} {
		_ = s2.Write(batch(bad, pts(1000, 1)...))
	}
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasSuffix(p, ".wsp") {
			t.Errorf("unexpected file %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
