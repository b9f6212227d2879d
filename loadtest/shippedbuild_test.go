package loadtest

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryBuiltAsShipped: the plumbago the benchmark scripts measure and
// these tests run is built as it ships (CGO_ENABLED=0, -trimpath; a cgo
// build keeps pebble's memtables and block cache in C malloc's arenas, see
// scripts/build-plumbago.sh), and no script or Makefile target builds
// cmd/plumbago another way.
func TestBinaryBuiltAsShipped(t *testing.T) {
	info, err := buildinfo.ReadFile(plumbagoBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range info.Settings {
		got[s.Key] = s.Value
	}
	for key, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"} {
		if got[key] != want {
			t.Errorf("build setting %s = %q; want %q (all: %v)", key, got[key], want, info.Settings)
		}
	}
	files, err := filepath.Glob("../scripts/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	local, _ := filepath.Glob("scripts/*.sh")
	files = append(append(files, local...), "../Makefile")
	if len(files) < 6 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		if filepath.Base(f) == "build-plumbago.sh" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "go build") && strings.Contains(line, "cmd/plumbago") {
				t.Errorf("%s:%d builds cmd/plumbago itself; use scripts/build-plumbago.sh: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
