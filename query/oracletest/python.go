package oracletest

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// RunPython runs a Python oracle script with stdin (nil: none) and env
// added to its environment, and returns its output; it fails the test with
// the script's stderr when the script fails.
func RunPython(t testing.TB, script string, stdin []byte, env ...string) []byte {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", script)
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", script, err, stderr.String())
	}
	return out
}
