package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissing runs a test that needs an absent tool in a child process,
// with and without CI=true, and checks it fails and skips respectively.
func TestMissing(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Command(t, "plumbago-no-such-tool", "nowhere")
		t.Fatal("Command returned for a missing tool")
	}
	for _, c := range []struct {
		ci       string
		wantFail bool
		wantOut  string
	}{
		{"true", true, "--- FAIL: TestMissing"},
		{"", false, "--- SKIP: TestMissing"},
		{"false", false, "--- SKIP: TestMissing"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI="+c.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != c.wantFail {
			t.Errorf("CI=%q: err %v, want failure %v\n%s", c.ci, err, c.wantFail, out)
		}
		if !strings.Contains(string(out), c.wantOut) || !strings.Contains(string(out), "plumbago-no-such-tool not installed (nowhere)") {
			t.Errorf("CI=%q: output lacks %q and the tool's name:\n%s", c.ci, c.wantOut, out)
		}
	}
}

func TestFound(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "plumbago-fake-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if got := Command(t, "plumbago-fake-tool", "test"); got != tool {
		t.Errorf("Command = %q, want %q", got, tool)
	}
	Files(t, "test", tool, dir)
}

// TestEtsyStatsdFile finds a file of the package where the install script
// puts it: under $ETSY_STATSD_DIR, else under $XDG_CACHE_HOME.
func TestEtsyStatsdFile(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{filepath.Join(dir, "etsy"), filepath.Join(dir, "cache", "plumbago", "etsy-statsd")} {
		pkg := filepath.Join(d, "node_modules", "statsd")
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "exampleConfig.js"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("ETSY_STATSD_DIR", filepath.Join(dir, "etsy"))
	if got, want := EtsyStatsdFile(t, "exampleConfig.js"), filepath.Join(dir, "etsy", "node_modules", "statsd", "exampleConfig.js"); got != want {
		t.Errorf("with ETSY_STATSD_DIR: %q, want %q", got, want)
	}
	t.Setenv("ETSY_STATSD_DIR", "")
	if got, want := EtsyStatsdFile(t, "exampleConfig.js"), filepath.Join(dir, "cache", "plumbago", "etsy-statsd", "node_modules", "statsd", "exampleConfig.js"); got != want {
		t.Errorf("with XDG_CACHE_HOME: %q, want %q", got, want)
	}
}
