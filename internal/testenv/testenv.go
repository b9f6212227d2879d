package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI reports whether the environment variable CI is "true".
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing ends t because a tool it needs is not installed: Fatal under
// CI=true, Skip elsewhere. The message should say how to install the tool.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI=true: scripts/test-deps.sh installs it)", msg)
	}
	t.Skipf("%s (the test runs when it is installed; CI=true fails instead)", msg)
}

// Command returns the path of the program name found in PATH, or calls
// Missing; install says where the program comes from (e.g. "apt
// graphite-carbon").
func Command(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not installed (%s)", name, install)
	}
	return p
}

// Files calls Missing unless every path exists; install says which
// package provides them.
func Files(t testing.TB, install string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			Missing(t, "%s missing (%s)", p, install)
		}
	}
}

// EtsyStatsdFile returns the path of name (e.g. "exampleConfig.js") in
// etsy statsd's npm package where ingest/statsd/testdata/install-etsy-statsd.sh
// installs it: $ETSY_STATSD_DIR, else plumbago/etsy-statsd in the user's
// cache directory ($XDG_CACHE_HOME, else ~/.cache); it calls Missing when
// the file is not there.
func EtsyStatsdFile(t testing.TB, name string) string {
	t.Helper()
	const install = "npm statsd: ingest/statsd/testdata/install-etsy-statsd.sh"
	dir := os.Getenv("ETSY_STATSD_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			Missing(t, "etsy statsd: no cache directory (set ETSY_STATSD_DIR) (%s): %v", install, err)
		}
		dir = filepath.Join(cache, "plumbago", "etsy-statsd")
	}
	p := filepath.Join(dir, "node_modules", "statsd", name)
	Files(t, install, p)
	return p
}

// Python returns Debian's /usr/bin/python3 after checking that it imports
// every module (Debian's python3-* packages are installed for it), or
// calls Missing.
func Python(t testing.TB, install string, modules ...string) string {
	t.Helper()
	const py = "/usr/bin/python3"
	Files(t, "apt python3", py)
	for _, m := range modules {
		if out, err := exec.Command(py, "-c", "import "+m).CombinedOutput(); err != nil {
			Missing(t, "python3 cannot import %s (%s): %v %s", m, install, err, out)
		}
	}
	return py
}

// RunPython runs script with python3 -c and args, and returns its standard
// output; a failure ends the test with the script's standard error.
func RunPython(t testing.TB, script string, args ...string) string {
	t.Helper()
	py := Command(t, "python3", "apt python3")
	var stderr bytes.Buffer
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	return string(out)
}
