package loadtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBenchRecordArgs checks scripts/bench-record.sh's argument parsing and
// its plan of steps (--dry-run runs nothing): the record script itself is
// too long for make test.
func TestBenchRecordArgs(t *testing.T) {
	run := func(args ...string) (string, error) {
		out, err := exec.Command("bash", append([]string{"../scripts/bench-record.sh"}, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := run("--quick", "--dry-run", "--only", "ingest,statsd", "--skip", "carbon-cache,plumbago-whisper,collectd")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := `bench-record: mode quick, 11 steps
  1/11 ingest W1 victoriametrics
  2/11 ingest W1 plumbago-pebble
  3/11 ingest 1M victoriametrics
  4/11 ingest 1M plumbago-pebble
  5/11 statsd 1 etsy 20000
  6/11 statsd 1 plumbago 200000
  7/11 statsd 1 plumbago 0
  8/11 statsd 20 etsy 200000
  9/11 statsd 20 plumbago 2000000
  10/11 statsd 20 plumbago 0
  11/11 report
`
	if out != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", out, want)
	}
	out, err = run("--dry-run", "--carbon-1m", "--only", "ingest")
	if err != nil || !strings.HasPrefix(out, "bench-record: mode full, 8 steps\n") || !strings.Contains(out, "  5/8 ingest 1M carbon-cache\n") {
		t.Fatalf("--carbon-1m: %v\n%s", err, out)
	}
	// --dry-run first: a bad argument must fail before anything runs.
	for _, bad := range [][]string{{"--only", "nosuch"}, {"--skip", "nosuch"}, {"--bogus"}, {"--out"}} {
		if out, err := run(append([]string{"--dry-run"}, bad...)...); err == nil {
			t.Errorf("%q accepted:\n%s", bad, out)
		}
	}
}
