package check

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// shared holds what several tests use: the binaries built the way the
// Dockerfile builds them, once per test run.
var shared struct {
	dir  string // removed after the run
	once sync.Once
	out  string // the build stage's /out
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plumbago-deploy-check-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the repository root (tests run in deploy/check).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	return root
}

func deployPath(t testing.TB, parts ...string) string {
	return filepath.Join(append([]string{repoRoot(t), "deploy"}, parts...)...)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// builtOut builds the image's binaries by running the Dockerfile's build
// stage (see dockerfile_test.go) and returns the directory standing for the
// stage's /out.
func builtOut(t *testing.T) string {
	t.Helper()
	shared.once.Do(func() { shared.out, shared.err = runBuildStage() })
	if shared.err != nil {
		t.Fatalf("building as the Dockerfile does: %v", shared.err)
	}
	return shared.out
}
