package main

import (
	"bytes"
	"path/filepath"
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
