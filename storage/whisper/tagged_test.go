package whisper

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/storage"
)

// TestTaggedLayout: tagged series go where carbon 1.1 puts them (paths from
// carbon.util.TaggedSeries.encode itself; new files get the readable name),
// both file-name variants are read, and the scan indexes the readable
// variant and skips hash-named files.
func TestTaggedLayout(t *testing.T) {
	py := pythonWhisper(t)
	testenv.Python(t, "apt graphite-carbon", "carbon.util")
	names := []string{"cpu;host=a", "some.metric;tag1=value2;tag2=value.2", "x.y;dc=eu.west;z=ü"}
	in, _ := json.Marshal(names)
	cmd := exec.Command(py, "-c", `
import json, sys
from carbon.util import TaggedSeries
names = json.load(sys.stdin)
json.dump([[TaggedSeries.encode(n, "/", hash_only=True), TaggedSeries.encode(n, "/", hash_only=False)] for n in names], sys.stdout)
`)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var paths [][2]string
	if err := json.Unmarshal(out, &paths); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	now := int64(1_700_000_000)
	s, _ := openStore(t, dir, nil, &now)
	for i, n := range names[:2] {
		if err := s.Write(batch(n, storage.Point{Timestamp: now - 5, Value: float64(i + 1)})); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, paths[i][1]+".wsp")); err != nil {
			t.Errorf("%q: carbon's readable-name path: %v", n, err)
		}
		got, err := s.Fetch(n, now-20, now, now)
		if err != nil || len(got.Values) != 2 || got.Values[0] != float64(i+1) {
			t.Errorf("Fetch(%q) = %v, %v", n, got, err)
		}
	}
	// A file carbon wrote with TAG_HASH_FILENAMES = False: read, written, scanned.
	readable := filepath.Join(dir, paths[2][1]+".wsp")
	if err := os.MkdirAll(filepath.Dir(readable), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "-c", `import sys, whisper; whisper.create(sys.argv[1], [(10, 360)]); whisper.update_many(sys.argv[1], [(int(sys.argv[2]) - 15, 7.5)], now=int(sys.argv[2]))`, readable, "1700000000").CombinedOutput(); err != nil {
		t.Fatalf("python: %v %s", err, out)
	}
	got, err := s.Fetch(names[2], now-30, now, now)
	if err != nil || len(got.Values) != 3 || got.Values[0] != 7.5 {
		t.Errorf("Fetch of the readable-name file: %v %v", got, err)
	}
	if err := s.Write(batch(names[2], storage.Point{Timestamp: now - 5, Value: 9})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, paths[2][0]+".wsp")); !os.IsNotExist(err) {
		t.Errorf("write to an existing readable-name file created the hash file too: %v", err)
	}
	got, _ = s.Fetch(names[2], now-30, now, now)
	if len(got.Values) != 3 || got.Values[0] != 7.5 || got.Values[1] != 9 {
		t.Errorf("after write: %v", got.Values)
	}
	s.Close()
	// Turn names[1]'s file into carbon's default hash-named form: the scan
	// cannot decode that one.
	if err := os.Rename(filepath.Join(dir, paths[1][1]+".wsp"), filepath.Join(dir, paths[1][0]+".wsp")); err != nil {
		t.Fatal(err)
	}

	s2, idx := openStore(t, dir, nil, &now)
	var plain []string
	idx.Walk(func(n string) bool { plain = append(plain, n); return true })
	if len(plain) != 0 {
		t.Errorf("scan put tagged files in the plain tree: %v", plain)
	}
	if !idx.Has(names[0]) || !idx.Has(names[2]) || idx.Has(names[1]) {
		t.Errorf("scan: readable tagged names indexed %v %v, hash-named %v (want true, true, false)", idx.Has(names[0]), idx.Has(names[2]), idx.Has(names[1]))
	}
	if got, err := s2.Fetch(names[1], now-20, now, now); err != nil || got.Values[0] != 2 {
		t.Errorf("Fetch of the hash-named file: %v %v", got, err)
	}
	if st := s2.Stats(); st.ScannedFiles != 2 || st.ScannedHashedTagged != 1 {
		t.Errorf("scan stats %+v", st)
	}
	for _, bad := range []string{";a=b", "a;b\x00"} {
		if err := s2.Write(batch(bad, storage.Point{Timestamp: now, Value: 1})); err != nil || s2.Stats().InvalidNames == 0 {
			t.Errorf("Write(%q): %v, stats %+v", bad, err, s2.Stats())
		}
	}
}
