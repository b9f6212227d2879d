package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

// TestImportAndCheckpointCommands runs import-whisper over a whisper tree
// written by the whisper backend, then checkpoint, through run (the
// subcommands' flag parsing lives here, in cmd), and reads the copy.
func TestImportAndCheckpointCommands(t *testing.T) {
	root := t.TempDir()
	rules, err := schema.Load("", "")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := whisper.Open(whisper.Options{Dir: root, Rules: rules, Index: index.New()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	if err := ws.Write(&storage.Batch{Series: []storage.SeriesPoints{
		{Name: "a.b", Points: []storage.Point{{Timestamp: now - 120, Value: 5}}},
		{Name: "a.c", Points: []storage.Point{{Timestamp: now - 60, Value: 7}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"import-whisper", "--from", root, "--data-dir", data}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"2/2 files 100.0% 2 points\n", "imported 2 of 2 whisper files (2 series created, 0 already present)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import-whisper output %q lacks %q", out.String(), want)
		}
	}
	if err := run([]string{"import-whisper", "--data-dir", data}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--from is required") {
		t.Errorf("missing --from: err = %v", err)
	}
	dest := filepath.Join(t.TempDir(), "cp")
	out.Reset()
	if err := run([]string{"checkpoint", "--data-dir", data, "--dest", dest}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if want := "checkpoint of " + filepath.Join(data, "pebble") + " written to " + dest + "\n"; out.String() != want {
		t.Errorf("checkpoint output %q; want %q", out.String(), want)
	}
	opts := pebble.DefaultOptions()
	opts.Dir = dest
	s, err := pebble.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if nodes, _ := s.Find("a.*"); len(nodes) != 2 || nodes[0].Path != "a.b" || nodes[1].Path != "a.c" {
		t.Errorf("checkpoint of the imported store: find a.* = %v", nodes)
	}
}

// TestReencodeCommand runs `plumbago reencode` (the built binary) on a copy
// of the store storage/pebble/testdata/formatv0, written by the block
// format before scaled blocks: it rewrites the old blocks and compacts (at
// least halving the sstables), and a second run has nothing to do. The
// values themselves are compared in storage/pebble's
// TestFormatV0StoreReads.
func TestReencodeCommand(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	dst := filepath.Join(data, "pebble")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join("..", "..", "storage", "pebble", "testdata", "formatv0")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	re := regexp.MustCompile(`^re-encoded (\d+) blocks of .*/pebble: sstables (\d+) bytes before, (\d+) after\n$`)
	out, err := exec.Command(bin, "reencode", "--data-dir", data).CombinedOutput()
	m := re.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("reencode: %v\n%s", err, out)
	}
	n, _ := strconv.Atoi(m[1])
	before, _ := strconv.Atoi(m[2])
	after, _ := strconv.Atoi(m[3])
	if n != 114 || before != 226247 || after*2 > before {
		t.Errorf("reencode: %s; want 114 blocks rewritten, 226247 bytes before, at most half after", out)
	}
	out, err = exec.Command(bin, "reencode", "--data-dir", data).CombinedOutput()
	if m := re.FindStringSubmatch(string(out)); err != nil || m == nil || m[1] != "0" || m[2] != m[3] {
		t.Errorf("second reencode: %v %s; want 0 blocks and the same size", err, out)
	}
	if out, err := exec.Command(bin, "reencode", "--data-dir", t.TempDir()).CombinedOutput(); err == nil || !strings.Contains(string(out), "no store at") {
		t.Errorf("reencode of an empty data dir: %v %s; want a 'no store at' error", err, out)
	}
}
